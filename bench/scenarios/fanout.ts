import { Tally, type LoadConnection } from '../load/connection.js';
import { DIALECTS, type ServerName } from '../load/dialects.js';
import { closeAll, joinAll, openConnections } from '../load/open-many.js';
import { busyBetween, coreTimes } from '../cpu.js';
import { LOADER_CORE, SERVER_CORE, ServerProcess } from '../server-process.js';
import { monotonicUs, percentiles, sleep, spread, type Spread } from '../stats.js';
import type { GcStats } from '../servers/harness.js';
import { OtherCpuWatch, pct, undisturbed, type Undisturbed } from './undisturbed.js';

export interface FanoutPlan {
  subscribers: number[];
  perTurn: number[];
  runs: number;
  warmupMs: number;
  measureMs: number;
  /**
   * Subscribers, spread over the room's join order, that read the send stamp of every
   * message: at most this many, and one per 100 subscribers (so that decoding them stays a
   * small part of the load generator's work in small rooms).
   */
  probes: number;
}

export interface FanoutRun extends Undisturbed {
  deliveriesPerSec: number;
  /** Server CPU over the window, 1 = one core. */
  serverCpu: number;
  loaderCpu: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencySamples: number;
  published: number;
  /** Deliveries missing once the run drained (published × subscribers − received). */
  missing: number;
  drainMs: number;
  /** The server's garbage-collection pauses during the window. */
  serverGc: GcStats;
  /** Busy fraction of the load generator's and the server's cores over the window (includes softirq time, which no process is charged for). */
  loaderCoreBusy: number;
  serverCoreBusy: number;
}

export interface FanoutResult {
  server: ServerName;
  subscribers: number;
  perTurn: number;
  runs: FanoutRun[];
  deliveriesPerSec: Spread;
  latencyP99Ms: Spread;
  serverCpu: Spread;
  loaderCpu: Spread;
}

const ROOM = 'bench';
const SETUP_CONCURRENCY = 200;
/** A run is drained when every delivery arrived, or nothing arrived for this long. */
const DRAIN_STALL_MS = 1_000;


/**
 * (a) Fan-out: one room of N subscribers; on a trigger the server publishes `perTurn`
 * messages per event-loop turn as fast as it can. Deliveries per second are counted at
 * the subscribers over a window after a warm-up; the probes give the latency from the
 * send stamp to arrival.
 */
export async function runFanout(name: ServerName, plan: FanoutPlan, log: (line: string) => void): Promise<FanoutResult[]> {
  const results: FanoutResult[] = [];
  const dialect = DIALECTS[name];
  for (const subscribers of plan.subscribers) {
    const server = await ServerProcess.start(name);
    const tally = new Tally();
    let conns: LoadConnection[] = [];
    try {
      conns = await openConnections({ port: server.port, dialect, count: subscribers, concurrency: SETUP_CONCURRENCY, tally });
      await joinAll(conns, dialect, ROOM, SETUP_CONCURRENCY);
      const probes = Math.max(1, Math.min(plan.probes, Math.floor(subscribers / 100)));
      // The middle of each 1/probes of the join order, the order a room is walked in.
      for (let k = 0; k < probes; k++) (conns[Math.floor(((k + 0.5) * subscribers) / probes)] as LoadConnection).probe = true;
      for (const c of conns) {
        c.decodeAll = false;
        if (dialect.onCount) c.onCount(dialect.onCount);
      }
      for (const perTurn of plan.perTurn) {
        const runs: FanoutRun[] = [];
        for (let r = 0; r < plan.runs; r++) {
          const run = await undisturbed(`run ${r + 1}`, () => fanoutRun(server, tally, subscribers, perTurn, plan), log);
          runs.push(run);
          log(
            `  ${name} ${subscribers} subs × ${perTurn}/turn run ${r + 1}: ${Math.round(run.deliveriesPerSec).toLocaleString('en')} deliveries/s, ` +
              `p99 ${run.latencyP99Ms.toFixed(1)} ms, server CPU ${pct(run.serverCpu)} (core ${pct(run.serverCoreBusy)}), loader ${pct(run.loaderCpu)} (core ${pct(run.loaderCoreBusy)})` +
              (run.missing ? `, ${run.missing} missing` : ''),
          );
        }
        results.push({
          server: name,
          subscribers,
          perTurn,
          runs,
          deliveriesPerSec: spread(runs.map((r) => r.deliveriesPerSec)),
          latencyP99Ms: spread(runs.map((r) => r.latencyP99Ms)),
          serverCpu: spread(runs.map((r) => r.serverCpu)),
          loaderCpu: spread(runs.map((r) => r.loaderCpu)),
        });
      }
    } finally {
      closeAll(conns);
      await server.stop();
    }
  }
  return results;
}

async function fanoutRun(
  server: ServerProcess,
  tally: Tally,
  subscribers: number,
  perTurn: number,
  plan: FanoutPlan,
): Promise<Omit<FanoutRun, 'attempts' | 'quietWaitMs'>> {
  const others = new OtherCpuWatch(server.pid);
  tally.frames = 0;
  tally.stamps = [];
  const sample = () => ({ t: monotonicUs(), frames: tally.frames, cpu: server.cpuSeconds(), loader: process.cpuUsage(), cores: coreTimes() });
  // Publishing runs a little past the window so that the window sees steady state only.
  const done = server.command<{ published: number }>('fanout', { room: ROOM, perTurn, durationMs: plan.warmupMs + plan.measureMs + 250 });
  await sleep(plan.warmupMs);
  const a = sample();
  others.start();
  void server.command('gc-reset');
  await sleep(plan.measureMs);
  const b = sample();
  const disturbance = others.stop();
  const serverGc = await server.command<GcStats>('gc-stats');
  const { published } = await done;
  const drainStart = monotonicUs();
  const expected = published * subscribers;
  let last = -1;
  let lastChange = Date.now();
  while (tally.frames < expected && Date.now() - lastChange < DRAIN_STALL_MS) {
    await sleep(20);
    if (tally.frames !== last) {
      last = tally.frames;
      lastChange = Date.now();
    }
  }
  const seconds = (b.t - a.t) / 1e6;
  const latencies: number[] = [];
  for (let i = 0; i < tally.stamps.length; i += 2) {
    const at = tally.stamps[i] as number;
    if (at >= a.t && at <= b.t) latencies.push((tally.stamps[i + 1] as number) / 1000);
  }
  const [p50, p99] = percentiles(latencies, [0.5, 0.99]);
  const cores = busyBetween(a.cores, b.cores);
  const loaderUs = b.loader.user + b.loader.system - a.loader.user - a.loader.system;
  return {
    deliveriesPerSec: (b.frames - a.frames) / seconds,
    serverCpu: (b.cpu - a.cpu) / seconds,
    loaderCpu: loaderUs / 1e6 / seconds,
    latencyP50Ms: p50 as number,
    latencyP99Ms: p99 as number,
    latencySamples: latencies.length,
    published,
    missing: Math.max(0, expected - tally.frames),
    drainMs: (monotonicUs() - drainStart) / 1000,
    loaderCoreBusy: cores[LOADER_CORE] as number,
    serverCoreBusy: cores[SERVER_CORE] as number,
    serverGc,
    ...disturbance,
  };
}
