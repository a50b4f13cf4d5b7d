import type { LoadConnection } from '../load/connection.js';
import { DIALECTS, type ServerName } from '../load/dialects.js';
import { closeAll, openConnections } from '../load/open-many.js';
import { ServerProcess } from '../server-process.js';
import { monotonicUs, percentiles, sleep, spread, type Spread } from '../stats.js';
import type { GcStats } from '../servers/harness.js';
import { OtherCpuWatch, pct, undisturbed, type Undisturbed } from './undisturbed.js';

export interface RequestAckPlan {
  connections: number;
  /** Offered rates, requests per second over all connections. */
  rates: number[];
  runs: number;
  warmupMs: number;
  measureMs: number;
}

export interface RequestAckRun extends Undisturbed {
  p50Ms: number;
  p99Ms: number;
  achievedPerSec: number;
  unanswered: number;
  serverCpu: number;
  /** The server's garbage-collection pauses during the window. */
  serverGc: GcStats;
}

export interface RequestAckResult {
  server: ServerName;
  rate: number;
  connections: number;
  runs: RequestAckRun[];
  p50Ms: Spread;
  p99Ms: Spread;
  serverCpu: Spread;
}

const DATA_PAD = 'y'.repeat(48);
const REPLY_TIMEOUT_MS = 5_000;

/**
 * (c) Request/ack round trip at a fixed offered rate (open loop: the schedule does not
 * wait for replies), spread round-robin over the connections. Each request is timed from
 * just before its write to the decoded reply with its ref. Switchboard answers from a
 * handler's return value, Socket.IO from an ack callback, the ws servers echo the frame
 * back unchanged (the raw baseline).
 */
export async function runRequestAck(name: ServerName, plan: RequestAckPlan, log: (line: string) => void): Promise<RequestAckResult[]> {
  const dialect = DIALECTS[name];
  const server = await ServerProcess.start(name);
  let conns: LoadConnection[] = [];
  const results: RequestAckResult[] = [];
  try {
    conns = await openConnections({ port: server.port, dialect, count: plan.connections, concurrency: 100 });
    const clock = new ReplyClock();
    for (const c of conns) {
      c.listener = (text) => {
        const ref = dialect.replyRef(text);
        return ref !== undefined && clock.answered(ref);
      };
    }
    // One unmeasured run first: without it the first measured run of every server came out
    // slower in the tail, while the JIT was still compiling its request path.
    await requestRun(server, conns, clock, plan.rates[0] ?? 1000, plan);
    for (const rate of plan.rates) {
      const runs: RequestAckRun[] = [];
      for (let r = 0; r < plan.runs; r++) {
        const run = await undisturbed(`run ${r + 1}`, () => requestRun(server, conns, clock, rate, plan), log);
        runs.push(run);
        log(
          `  ${name} ${rate} req/s run ${r + 1}: p50 ${run.p50Ms.toFixed(3)} ms, p99 ${run.p99Ms.toFixed(3)} ms, ` +
            `${Math.round(run.achievedPerSec)} req/s answered, server CPU ${pct(run.serverCpu)}, ` +
            `GC ${run.serverGc.count}× (max ${run.serverGc.maxMs.toFixed(1)} ms)` +
            (run.unanswered ? `, ${run.unanswered} unanswered` : ''),
        );
      }
      results.push({
        server: name,
        rate,
        connections: plan.connections,
        runs,
        p50Ms: spread(runs.map((r) => r.p50Ms)),
        p99Ms: spread(runs.map((r) => r.p99Ms)),
        serverCpu: spread(runs.map((r) => r.serverCpu)),
      });
    }
  } finally {
    closeAll(conns);
    await server.stop();
  }
  return results;
}

/**
 * Send and answer times by ref. Refs are unique across connections and grow by one, so
 * a run keeps them in typed arrays indexed from its first ref: the load generator
 * allocates nothing per request that its garbage collector would pause for.
 */
class ReplyClock {
  nextRef = 1;
  private firstRef = 1;
  private sentAt = new Float64Array(0);
  private rtt = new Float64Array(0);
  private pending = 0;

  /** Start a run of at most `total` requests. */
  reset(total: number): void {
    this.firstRef = this.nextRef;
    this.sentAt = new Float64Array(total).fill(-1);
    this.rtt = new Float64Array(total).fill(-1);
    this.pending = 0;
  }

  sent(ref: number, at: number): void {
    this.sentAt[ref - this.firstRef] = at;
    this.pending++;
  }

  answered(ref: number): boolean {
    const i = ref - this.firstRef;
    const at = this.sentAt[i];
    if (at === undefined || at < 0 || (this.rtt[i] as number) >= 0) return false;
    this.rtt[i] = monotonicUs() - at;
    this.pending--;
    return true;
  }

  get outstanding(): number {
    return this.pending;
  }

  /** Round trips in ms of the requests sent at or after `from` (µs) and answered. */
  roundTrips(from: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.sentAt.length; i++) {
      if ((this.sentAt[i] as number) >= from && (this.rtt[i] as number) >= 0) out.push((this.rtt[i] as number) / 1000);
    }
    return out;
  }
}

async function requestRun(
  server: ServerProcess,
  conns: LoadConnection[],
  clock: ReplyClock,
  rate: number,
  plan: RequestAckPlan,
): Promise<Omit<RequestAckRun, 'attempts' | 'quietWaitMs'>> {
  const dialect = DIALECTS[server.name];
  const others = new OtherCpuWatch(server.pid);
  const total = Math.round((rate * (plan.warmupMs + plan.measureMs)) / 1000);
  clock.reset(total);
  const t0 = monotonicUs();
  const windowStart = t0 + plan.warmupMs * 1000;
  let sent = 0;
  let cpuAtWindow = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = monotonicUs();
      if (cpuAtWindow === 0 && now >= windowStart) {
        cpuAtWindow = server.cpuSeconds();
        others.start();
        void server.command('gc-reset');
      }
      const due = Math.min(total, Math.floor((rate * (now - t0)) / 1e6));
      while (sent < due) {
        const conn = conns[sent % conns.length] as LoadConnection;
        const ref = clock.nextRef++;
        const text = dialect.request(ref, `{"n":${ref},"p":"${DATA_PAD}"}`);
        clock.sent(ref, monotonicUs());
        conn.sendText(text);
        sent++;
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const cpu = server.cpuSeconds() - cpuAtWindow;
  const disturbance = others.stop();
  const serverGc = await server.command<GcStats>('gc-stats');
  const windowSeconds = (monotonicUs() - windowStart) / 1e6;
  const end = Date.now() + REPLY_TIMEOUT_MS;
  while (clock.outstanding > 0 && Date.now() < end) await sleep(10);
  const measured = clock.roundTrips(windowStart);
  const [p50, p99] = percentiles(measured, [0.5, 0.99]);
  return {
    p50Ms: p50 as number,
    p99Ms: p99 as number,
    achievedPerSec: measured.length / windowSeconds,
    unanswered: clock.outstanding,
    serverCpu: cpu / windowSeconds,
    serverGc,
    ...disturbance,
  };
}
