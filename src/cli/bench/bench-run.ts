/**
 * One `switchboard bench` run: open the connections at the ramp rate, join them to the
 * room, publish at the message rate for the duration (through the HTTP API, or by a
 * request the server broadcasts), count what every connection receives, close everything.
 * Each publication carries its send time, so a receiver knows the end-to-end latency
 * (the same clock when the bench runs on one machine).
 */
import { connect } from '../../client/node.js';
import type { SwitchboardClient } from '../../client/client-events.js';
import type { BenchSettings } from './bench-options.js';
import { CodeCounts, LatencySamples, type Percentiles } from './latency-stats.js';

export interface BenchSnapshot {
  elapsedMs: number;
  phase: 'ramp' | 'publish' | 'drain' | 'done';
  requested: number;
  opened: number;
  joined: number;
  failed: number;
  /** Connections that were up and then lost (the bench does not reconnect them). */
  dropped: number;
  published: number;
  publishFailed: number;
  deliveries: number;
  latency: Percentiles;
}

export interface BenchResult {
  url: string;
  room: string;
  publisher: 'http-api' | 'emit' | 'none';
  durationMs: number;
  connections: { requested: number; opened: number; joined: number; failed: number; failedByCode: Record<string, number>; dropped: number };
  connectMs: Percentiles;
  messages: { published: number; failed: number; failedByCode: Record<string, number> };
  deliveries: { count: number; perSecond: number; perMessage: number; expected: number | null };
  latencyMs: Percentiles;
}

/** After publishing, how long deliveries may keep trickling in, and how long a quiet spell ends the wait. */
const DRAIN_MAX_MS = 5000;
const DRAIN_QUIET_MS = 1000;

export async function runBench(settings: BenchSettings, signal: AbortSignal, onProgress: (snapshot: BenchSnapshot) => void, progressEveryMs = 1000): Promise<BenchResult> {
  const start = performance.now();
  const elapsed = (): number => performance.now() - start;
  const clients: SwitchboardClient[] = [];
  const connectMs = new LatencySamples();
  const latency = new LatencySamples();
  const connectFailures = new CodeCounts();
  const publishFailures = new CodeCounts();
  let opened = 0;
  let joined = 0;
  let dropped = 0;
  let published = 0;
  let deliveries = 0;
  let publishStartedAt = 0;
  let publishEndedAt = 0;
  let phase: BenchSnapshot['phase'] = 'ramp';

  const snapshot = (): BenchSnapshot => ({
    elapsedMs: elapsed(), phase, requested: settings.connections, opened, joined, failed: connectFailures.total, dropped,
    published, publishFailed: publishFailures.total, deliveries, latency: latency.percentiles(),
  });
  const ticker = setInterval(() => onProgress(snapshot()), progressEveryMs);

  const onDelivery = (data: unknown): void => {
    deliveries++;
    const sentAt = sendTimeOf(data);
    if (sentAt !== undefined) latency.add(wallClock() - sentAt);
  };

  /** Open one connection; resolves once it joined or failed. */
  const openOne = (): Promise<void> =>
    new Promise((settle) => {
      const began = performance.now();
      let up = false;
      const client = connect(settings.url, {
        reconnect: false,
        connectTimeout: settings.timeout,
        ackTimeout: settings.timeout,
        ...(settings.auth !== undefined && { auth: settings.auth }),
        ...(settings.namespace !== undefined && { namespace: settings.namespace }),
      });
      clients.push(client);
      client.on(settings.event, onDelivery);
      client.on('state', (change) => {
        if (change.state !== 'disconnected' || change.reason === 'client_closed') return;
        if (up) dropped++;
        else {
          connectFailures.add(change.error?.code ?? change.reason);
          settle();
        }
      });
      client.once('connect', () => {
        up = true;
        opened++;
        connectMs.add(performance.now() - began);
        const joining = settings.joinEvent !== undefined ? client.emitWithAck(settings.joinEvent, { room: settings.room }) : client.join(settings.room);
        joining.then(
          () => void joined++,
          (error: unknown) => connectFailures.add(`join:${codeOf(error)}`),
        ).finally(settle);
      });
    });

  try {
    // Ramp: connection i starts at i / rate seconds.
    const settling: Promise<void>[] = [];
    for (let i = 0; i < settings.connections && !signal.aborted; i++) {
      const due = (i * 1000) / settings.rate - elapsed();
      if (due >= 1) await sleep(due, signal);
      if (!signal.aborted) settling.push(openOne());
    }
    await untilAborted(Promise.all(settling), signal);

    phase = 'publish';
    const publish = publisherFor(settings, clients.find((c) => c.connected), signal);
    publishStartedAt = elapsed();
    const publishEnds = publishStartedAt + settings.duration;
    const inFlight: Promise<void>[] = [];
    if (!publish) await sleep(publishEnds - elapsed(), signal); // hold the connections for the duration
    for (let seq = 1; publish && !signal.aborted; seq++) {
      // Publication `seq` is due at a fixed time, so a slow answer does not lower the rate.
      const due = publishStartedAt + ((seq - 1) * 1000) / settings.messageRate;
      if (due >= publishEnds) break;
      await sleep(due - elapsed(), signal);
      if (signal.aborted) break;
      inFlight.push(publish(seq).then(
        () => void published++,
        // A publication cut short by Ctrl-C was not refused: the summary leaves it out.
        (error: unknown) => {
          if (!signal.aborted) publishFailures.add(codeOf(error));
        },
      ));
    }
    await untilAborted(Promise.all(inFlight), signal);
    publishEndedAt = elapsed();

    phase = 'drain';
    const expected = publish && settings.api ? published * joined : undefined;
    let last = deliveries;
    let quietSince = elapsed();
    const drainEnds = elapsed() + DRAIN_MAX_MS;
    while (!signal.aborted && elapsed() < drainEnds && (expected === undefined || deliveries < expected) && published > 0) {
      await sleep(50, signal);
      if (deliveries !== last) [last, quietSince] = [deliveries, elapsed()];
      else if (elapsed() - quietSince >= DRAIN_QUIET_MS) break;
    }
    phase = 'done';
    const publishSeconds = Math.max(publishEndedAt - publishStartedAt, 1) / 1000;
    return {
      url: settings.url,
      room: settings.room,
      publisher: settings.api ? 'http-api' : settings.emit !== undefined ? 'emit' : 'none',
      durationMs: Math.round(elapsed()),
      connections: { requested: settings.connections, opened, joined, failed: connectFailures.total, failedByCode: connectFailures.byCode, dropped },
      connectMs: connectMs.percentiles(),
      messages: { published, failed: publishFailures.total, failedByCode: publishFailures.byCode },
      deliveries: {
        count: deliveries,
        perSecond: Math.round(deliveries / publishSeconds),
        perMessage: published === 0 ? 0 : Math.round((deliveries / published) * 100) / 100,
        expected: expected ?? null,
      },
      latencyMs: latency.percentiles(),
    };
  } finally {
    clearInterval(ticker);
    for (const client of clients) client.close();
  }
}

type Publish = (seq: number) => Promise<unknown>;

/**
 * How publication number `seq` is made, or undefined when the bench only holds connections.
 * An HTTP publication not answered (body included) within `--timeout` fails with `timeout`,
 * so an API that never answers cannot hold the run until Ctrl-C.
 */
function publisherFor(settings: BenchSettings, first: SwitchboardClient | undefined, stop: AbortSignal): Publish | undefined {
  const api = settings.api;
  if (api) {
    return async (seq) => {
      const body = { room: settings.room, event: settings.event, data: payload(settings.room, seq), ...(settings.namespace !== undefined && { ns: settings.namespace }) };
      const signal = AbortSignal.any([stop, AbortSignal.timeout(settings.timeout)]);
      try {
        const response = await fetch(`${api.base}/publish`, {
          method: 'POST',
          headers: { authorization: `Bearer ${api.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal,
        });
        if (response.ok) return;
        const answer = (await response.json().catch(() => ({}))) as { code?: unknown };
        throw Object.assign(new Error(`HTTP ${response.status}`), { code: typeof answer.code === 'string' ? answer.code : `http_${response.status}` });
      } catch (error) {
        if ((error as Error | null)?.name === 'TimeoutError') throw Object.assign(new Error(`no answer within ${settings.timeout} ms`), { code: 'timeout' });
        throw error;
      }
    };
  }
  const event = settings.emit;
  if (event === undefined) return undefined;
  if (!first) return async () => Promise.reject(Object.assign(new Error('no connection is up to publish from'), { code: 'not_connected' }));
  return (seq) => first.emitWithAck(event, payload(settings.room, seq));
}

/**
 * What each publication carries: `t` (send time, ms since the epoch) and `seq` read by the
 * receivers, and `text` with both for servers that pass on only a text (the chat example).
 */
function payload(room: string, seq: number): { room: string; text: string; t: number; seq: number } {
  const t = wallClock();
  return { room, text: `bench ${seq} ${t}`, t, seq };
}

function sendTimeOf(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { t, text } = data as { t?: unknown; text?: unknown };
  if (typeof t === 'number') return t;
  const match = typeof text === 'string' ? /^bench \d+ (\d+(?:\.\d+)?)$/.exec(text) : null;
  return match ? Number(match[1]) : undefined;
}

/** Milliseconds since the epoch with sub-millisecond precision. */
function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'internal_error';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Resolves when `work` settles or the signal aborts, whichever comes first. */
function untilAborted(work: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', done, { once: true });
    work.then(done, done);
  });
}
