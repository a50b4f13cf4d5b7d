import { ErrorCode } from '../protocol/error-codes.js';
import { limitKey } from './client-address.js';
import type { RateLimit } from './options.js';
import { TokenBucket } from './token-bucket.js';

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** undefined: no handshake rate limit. */
  handshakeRate: RateLimit | undefined;
}

/** An upgrade refused before the WebSocket exists: the HTTP answer. The body starts with the code. */
export interface Refusal {
  status: number;
  statusText: string;
  code: ErrorCode;
  message: string;
  headers: Record<string, string>;
}

/** Seconds a client refused for `too_many_connections` is told to wait: one of its connections has to close first. */
const BUSY_IP_RETRY_AFTER_S = 10;
/** Handshake buckets kept before the first sweep of idle ones. */
const MIN_SWEEP_SIZE = 1024;

/**
 * Counts connections per client IP and in all, and rate-limits handshakes per IP. A
 * connection counts from its upgrade until its socket closes, whatever happens to its
 * session meanwhile.
 */
export class Admission {
  private readonly perIp = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();
  /** Sweep idle buckets when the map grows past this; it doubles with the live ones after each sweep. */
  private sweepAt = MIN_SWEEP_SIZE;
  private admitted = 0;
  /** Sessions waiting to be resumed, oldest first, each holding a connection's place (see hold()). */
  private readonly waiting = new Map<object, { key: string; end: () => void }>();
  private readonly waitingPerIp = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Connections accepted and not yet closed (refused `server_full` ones not counted). */
  get connections(): number {
    return this.admitted;
  }

  /**
   * The server holds `maxConnections`: the next upgrade gets `server_full`. A session
   * waiting to be resumed holds a place too, but gives it up: the oldest is ended first.
   */
  isFull(): boolean {
    while (this.admitted >= this.limits.maxConnections) if (!this.endOldestWaiting(undefined)) return true;
    return false;
  }

  /** Sessions waiting to be resumed that hold a place now. */
  get waitingSessions(): number {
    return this.waiting.size;
  }

  /**
   * A session from `address` waits to be resumed: it holds a place against `maxConnections`
   * until release() — so abandoned connections cannot pile up unbounded behind the limits —
   * and at most `maxConnectionsPerIp` sessions of one IP wait at once (the oldest of them
   * ends first). Its IP's count of live connections is not charged: the client's own
   * reconnect must never be refused because its old session waits. `end` ends the session
   * when its place is needed (it must call release()).
   */
  hold(holder: object, address: string, end: () => void): void {
    const key = limitKey(address);
    while ((this.waitingPerIp.get(key) ?? 0) >= this.limits.maxConnectionsPerIp && this.endOldestWaiting(key));
    this.waitingPerIp.set(key, (this.waitingPerIp.get(key) ?? 0) + 1);
    this.admitted++;
    this.waiting.set(holder, { key, end });
  }

  /** The waiting session was resumed or ended: its place is free. */
  release(holder: object): void {
    const held = this.waiting.get(holder);
    if (!held) return;
    this.waiting.delete(holder);
    this.admitted--;
    const left = (this.waitingPerIp.get(held.key) ?? 1) - 1;
    if (left > 0) this.waitingPerIp.set(held.key, left);
    else this.waitingPerIp.delete(held.key);
  }

  /** End the oldest waiting session (of one IP key, or of any); false when there is none. */
  private endOldestWaiting(key: string | undefined): boolean {
    for (const [holder, held] of this.waiting) {
      if (key !== undefined && held.key !== key) continue;
      held.end();
      // end() must release; if it did not, release here so the loop cannot spin.
      this.release(holder);
      return true;
    }
    return false;
  }

  /** Connections open from `address`'s limit key (its IP, or its IPv6 /64). */
  connectionsFrom(address: string): number {
    return this.perIp.get(limitKey(address)) ?? 0;
  }

  /**
   * Before the upgrade: refuse a handshake from `address` that goes over its rate, or
   * that would open more than `maxConnectionsPerIp` connections. Every handshake that gets
   * here takes a token, refused or not, so retrying fast does not help.
   */
  check(address: string, now = Date.now()): Refusal | undefined {
    const key = limitKey(address);
    const rate = this.limits.handshakeRate;
    if (rate && !this.bucketOf(key, rate, now).take(now)) {
      const wait = Math.max(1, Math.ceil(1 / rate.perSecond));
      return refusal(429, 'Too Many Requests', ErrorCode.RateLimited, `more than ${rate.perSecond} WebSocket handshakes per second (burst ${rate.burst}) from ${address} (option handshakeRate); retry in ${wait} s`, wait);
    }
    const open = this.perIp.get(key) ?? 0;
    if (open >= this.limits.maxConnectionsPerIp) {
      return refusal(
        429,
        'Too Many Requests',
        ErrorCode.TooManyConnections,
        `${address} already holds ${open} connections, the most one client IP may hold (option maxConnectionsPerIp); close one first`,
        BUSY_IP_RETRY_AFTER_S,
      );
    }
    return undefined;
  }

  /**
   * An upgraded connection from `address`. `accepted` is false for one that is only
   * upgraded to be told `server_full`: it counts for its IP, not against `maxConnections`.
   * Call closed() with the same arguments once its socket has closed.
   */
  open(address: string, accepted: boolean): void {
    const key = limitKey(address);
    this.perIp.set(key, (this.perIp.get(key) ?? 0) + 1);
    if (accepted) this.admitted++;
  }

  /** The socket of a connection counted by open() has closed. */
  closed(address: string, accepted: boolean): void {
    const key = limitKey(address);
    if (accepted) this.admitted--;
    const left = (this.perIp.get(key) ?? 1) - 1;
    if (left > 0) this.perIp.set(key, left);
    else this.perIp.delete(key);
  }

  /** open(), returning the function to call once when the socket has closed (calls after the first do nothing). */
  opened(address: string, accepted: boolean): () => void {
    this.open(address, accepted);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.closed(address, accepted);
    };
  }

  private bucketOf(key: string, rate: RateLimit, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.sweepAt) this.sweep(now);
      bucket = new TokenBucket(rate, now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** A full bucket is the same as a new one: forget them, so idle IPs cost no memory. */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.buckets.size * 2);
  }

  /** Handshake buckets held now (for tests of the memory bound). */
  get trackedAddresses(): number {
    return this.buckets.size;
  }
}

function refusal(status: number, statusText: string, code: ErrorCode, message: string, retryAfterSeconds: number): Refusal {
  return { status, statusText, code, message, headers: { 'Retry-After': String(retryAfterSeconds) } };
}
