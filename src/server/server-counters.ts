import type { SharedFrame } from '../transport/shared-frame.js';
import type { TransportRequestInfo } from '../transport/transport.js';
import { REQUEST_LATENCY_BUCKETS, type RecentRefusal } from './server-stats.js';
import { RefusalLog, systemClock, type RefusalClock } from './refusal-log.js';
import type { ServerLog } from './server-log.js';

/** How many refusals `recentRefusals` keeps. */
const RECENT_REFUSALS = 50;

/** Who was refused something inside a session: what the refusal records of it (never a token, never the URL). */
export interface RefusedClient {
  readonly transportKind: string | undefined;
  requestInfo: TransportRequestInfo;
}

/** Where a refusal came from, as RecentRefusal keeps it: `origin` is the request's Origin header (kept when it is a string). */
export interface RefusalSource {
  transport: string | undefined;
  address: string;
  origin?: unknown;
  namespace?: string | undefined;
}

/**
 * What the node has done, as plain numbers: the paths that do it increment a field here
 * (one object per server, no lookup per recipient), and `stats()` reads them when asked.
 * Refusals are rarer and carry more: counted by code, kept in a ring of the last 50, and
 * logged (boundedly: RefusalLog).
 */
export class ServerCounters {
  readonly startedAt: number;
  framesIn = 0;
  framesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  broadcasts = 0;
  deliveries = 0;
  handshakesNew = 0;
  handshakesResumed = 0;
  handshakesRestored = 0;
  recovered = 0;
  unrecovered = 0;
  slowConsumers = 0;
  requests = 0;
  requestSeconds = 0;
  /** Not cumulative here (one increment per request); stats() sums them up. */
  readonly requestBuckets: number[] = REQUEST_LATENCY_BUCKETS.map(() => 0);
  readonly refusals: Record<string, number> = {};
  /** A ring: `nextRefusal` is where the next one goes once it is full. */
  private readonly recent: RecentRefusal[] = [];
  private nextRefusal = 0;

  private readonly refusalLog: RefusalLog;

  constructor(
    readonly log: ServerLog,
    private readonly clock: RefusalClock = systemClock,
  ) {
    this.startedAt = clock.now();
    this.refusalLog = new RefusalLog(log, clock);
  }

  /** A frame from a client. */
  frameIn(data: string | Uint8Array): void {
    this.framesIn++;
    this.bytesIn += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  }

  /** A frame onto a client's connection: a shared frame knows its payload bytes; a string is measured. */
  frameOut(frame: string | SharedFrame): void {
    this.framesOut++;
    this.bytesOut += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
  }

  /** A client request answered after `ms` milliseconds. */
  requestTook(ms: number): void {
    const seconds = ms / 1000;
    this.requests++;
    this.requestSeconds += seconds;
    const buckets = REQUEST_LATENCY_BUCKETS;
    for (let i = 0; i < buckets.length; i++) {
      if (seconds <= (buckets[i] as number)) {
        (this.requestBuckets[i] as number)++;
        return;
      }
    }
  }

  /**
   * Something was refused with `code` (a connection, a middleware decision, a frame): counted,
   * kept among the recent ones, and logged at `level` (connections and frames `warn`,
   * middleware `info`: refusing is what it is for).
   */
  refused(code: string, source: RefusalSource, level: 'warn' | 'info' = 'warn'): void {
    const refusal = this.refusal(code, source);
    this.keep(refusal);
    if (this.log.active) this.refusalLog.write(level, level === 'info' ? 'refused by middleware' : 'refused', code, { ...refusal });
  }

  /** A refusal inside a session (a frame, a namespace's middleware). */
  refusedIn(client: RefusedClient, code: string, namespace?: string, level: 'warn' | 'info' = 'warn'): void {
    this.refused(code, sourceOf(client, namespace), level);
  }

  /**
   * The app's authorization refused a client something (a join or a read of a room:
   * `authorizeJoin` and the private and user rooms; an event: `authorize`): counted, kept,
   * and logged at `info` (refusing is what authorization is for) with the session and the
   * room or event — never the event's data.
   */
  refusedAccess(client: RefusedClient & { readonly id: string }, code: string, namespace: string, about: { room: string } | { event: string }): void {
    const refusal = this.refusal(code, sourceOf(client, namespace));
    this.keep(refusal);
    if (this.log.active) this.refusalLog.write('info', 'refused by authorization', code, { ...refusal, session: client.id, ...about });
  }

  /** A connection cut off as a slow consumer. */
  slowConsumer(client: RefusedClient & { readonly id: string }, bufferedBytes: number | undefined): void {
    this.slowConsumers++;
    if (this.log.active) this.log.warn({ session: client.id, transport: client.transportKind, address: client.requestInfo.remoteAddress, bufferedBytes }, 'slow consumer cut off');
  }

  /** Counted by code, and kept in the ring of recent ones. */
  private keep(refusal: RecentRefusal): void {
    this.refusals[refusal.code] = (this.refusals[refusal.code] ?? 0) + 1;
    if (this.recent.length < RECENT_REFUSALS) this.recent.push(refusal);
    else {
      this.recent[this.nextRefusal] = refusal;
      this.nextRefusal = (this.nextRefusal + 1) % RECENT_REFUSALS;
    }
  }

  /** What a refusal records (never a token, never the URL): the one place RecentRefusal objects are made. */
  private refusal(code: string, source: RefusalSource): RecentRefusal {
    const refusal: RecentRefusal = { at: this.clock.now(), code, transport: source.transport ?? 'none', address: source.address };
    if (typeof source.origin === 'string') refusal.origin = source.origin;
    if (source.namespace !== undefined) refusal.namespace = source.namespace;
    return refusal;
  }

  /** The last refusals, oldest first. */
  recentRefusals(): RecentRefusal[] {
    return this.recent.slice(this.nextRefusal).concat(this.recent.slice(0, this.nextRefusal));
  }
}

/** Where a refusal inside a session came from: its connection's transport, address and Origin (never a token, never the URL). */
function sourceOf(client: RefusedClient, namespace: string | undefined): RefusalSource {
  return { transport: client.transportKind, address: client.requestInfo.remoteAddress, origin: client.requestInfo.headers.origin, namespace };
}
