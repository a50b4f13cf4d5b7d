import { busyBetween, coreTimes, otherCpuBetween, otherProcessesCpu, waitForQuiet } from '../cpu.js';
import { Tally, type LoadConnection } from '../load/connection.js';
import { DIALECTS } from '../load/dialects.js';
import { closeAll, joinAll, openConnections } from '../load/open-many.js';
import { LOADER_CORE, SERVER_CORE } from '../server-process.js';
import { monotonicUs, percentiles, sleep } from '../stats.js';
import { processCpuSeconds } from '../server-process.js';
import type { BenchCluster } from './setups.js';

export const ROOM = 'bench';
const SETUP_CONCURRENCY = 200;
/** A run is drained when every delivery arrived, or nothing arrived for this long. */
const DRAIN_STALL_MS = 2_000;
/** Before a run, wait this long at most for both cores to be under 10% busy (other sessions share the machine). */
const QUIET_MAX_WAIT_MS = 5_000;

/** `max`: the publisher sends one message per event-loop turn, as fast as it can; `paced`: a fixed rate every setup sustains. */
export type RunMode = 'max' | 'paced';

export interface MeasurePlan {
  clients: number;
  warmupMs: number;
  measureMs: number;
  /** Messages per second of a paced run. */
  rate: number;
  /** Probe connections that read every message's send stamp, spread over the nodes. */
  probes: number;
}

export interface ClusterRun {
  mode: RunMode;
  deliveriesPerSec: number;
  /** From the probes on every node. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** From the probes on nodes other than the publisher's: the path through Redis (NaN for one node). */
  remoteP50Ms: number;
  remoteP99Ms: number;
  latencySamples: number;
  /** Every node's CPU over the window, 1 = one core. */
  nodesCpu: number;
  publisherCpu: number;
  /** Redis's CPU over the window, other sessions' use of it included (NaN when not local). */
  redisCpu: number;
  loaderCpu: number;
  loaderCoreBusy: number;
  serverCoreBusy: number;
  published: number;
  /** Deliveries missing once the run drained (published × clients − received). */
  missing: number;
  drainMs: number;
  /** CPU other processes used during the window, in cores, and who used most. */
  otherCpu: number;
  otherTop: string[];
  quietWaitMs: number;
  /** Runs made to keep this one (run.ts measures again when other processes disturbed it). */
  attempts?: number;
}

/** The load generator's side of one setup: clients spread evenly over the nodes, a tally per node. */
export class ClusterLoad {
  private constructor(
    private readonly cluster: BenchCluster,
    private readonly conns: LoadConnection[],
    /** Per node, so that latency through Redis can be told from the publisher's own. */
    private readonly tallies: Tally[],
    private readonly redisPid: number | undefined,
  ) {}

  /** Open `plan.clients` connections (client i on node i mod n), join them all to ROOM, mark the probes. */
  static async open(cluster: BenchCluster, plan: MeasurePlan, redisPid: number | undefined): Promise<ClusterLoad> {
    const dialect = DIALECTS[cluster.setup.dialect];
    const n = cluster.nodes.length;
    const tallies = cluster.nodes.map(() => new Tally());
    const all: LoadConnection[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const count = Math.floor(plan.clients / n) + (i < plan.clients % n ? 1 : 0);
        const conns = await openConnections({ port: (cluster.nodes[i] as { port: number }).port, dialect, count, concurrency: SETUP_CONCURRENCY, tally: tallies[i] });
        all.push(...conns);
        await joinAll(conns, dialect, ROOM, SETUP_CONCURRENCY);
        // The middle of each 1/probes of this node's join order, the order a room is walked in.
        const probes = Math.max(1, Math.ceil(plan.probes / n));
        for (let k = 0; k < probes; k++) (conns[Math.floor(((k + 0.5) * count) / probes)] as LoadConnection).probe = true;
      }
    } catch (err) {
      closeAll(all);
      throw err;
    }
    for (const c of all) {
      c.decodeAll = false;
      if (dialect.onCount) c.onCount(dialect.onCount);
    }
    return new ClusterLoad(cluster, all, tallies, redisPid);
  }

  get clients(): number {
    return this.conns.length;
  }

  private frames(): number {
    return this.tallies.reduce((sum, t) => sum + t.frames, 0);
  }

  private reset(): void {
    for (const t of this.tallies) {
      t.frames = 0;
      t.stamps = [];
    }
  }

  /**
   * A few paced messages must reach every client before anything is measured: proof that
   * every node is subscribed and every join took effect. Throws after 5 tries.
   */
  async check(): Promise<void> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      this.reset();
      const { published } = await this.cluster.publisher.command<{ published: number }>('paced', { room: ROOM, rate: 20, durationMs: 100 });
      const expected = published * this.conns.length;
      const deadline = Date.now() + 3_000;
      while (this.frames() < expected && Date.now() < deadline) await sleep(20);
      if (this.frames() === expected) return;
      await sleep(500);
    }
    throw new Error(`${this.cluster.setup.name}: check messages did not reach every client (${this.frames()} deliveries)`);
  }

  async run(mode: RunMode, plan: MeasurePlan): Promise<ClusterRun> {
    const quiet = await waitForQuiet(0.1, QUIET_MAX_WAIT_MS);
    this.reset();
    const exclude = new Set([process.pid, ...this.cluster.nodes.map((n) => n.pid), ...(this.redisPid ? [this.redisPid] : [])]);
    const redisCpu = (): number => (this.redisPid ? processCpuSeconds(this.redisPid) : NaN);
    const sample = () => ({ t: monotonicUs(), frames: this.frames(), nodes: this.cluster.cpuSeconds(), redis: redisCpu(), loader: process.cpuUsage(), cores: coreTimes() });
    // Publishing runs a little past the window so that the window sees steady state only.
    const durationMs = plan.warmupMs + plan.measureMs + 250;
    const done =
      mode === 'max'
        ? this.cluster.publisher.command<{ published: number }>('fanout', { room: ROOM, perTurn: 1, durationMs })
        : this.cluster.publisher.command<{ published: number }>('paced', { room: ROOM, rate: plan.rate, durationMs });
    await sleep(plan.warmupMs);
    const a = sample();
    const othersBefore = otherProcessesCpu(exclude);
    await sleep(plan.measureMs);
    const b = sample();
    const seconds = (b.t - a.t) / 1e6;
    const others = otherCpuBetween(othersBefore, otherProcessesCpu(exclude), seconds);
    const { published } = await done;

    const drainStart = monotonicUs();
    const expected = published * this.conns.length;
    let last = -1;
    let lastChange = Date.now();
    while (this.frames() < expected && Date.now() - lastChange < DRAIN_STALL_MS) {
      await sleep(20);
      if (this.frames() !== last) {
        last = this.frames();
        lastChange = Date.now();
      }
    }
    const drainMs = (monotonicUs() - drainStart) / 1000;

    const inWindow = (tallies: Tally[]): number[] => {
      const latencies: number[] = [];
      for (const tally of tallies) {
        for (let i = 0; i < tally.stamps.length; i += 2) {
          const at = tally.stamps[i] as number;
          if (at >= a.t && at <= b.t) latencies.push((tally.stamps[i + 1] as number) / 1000);
        }
      }
      return latencies;
    };
    const everywhere = inWindow(this.tallies);
    const [p50, p99] = percentiles(everywhere, [0.5, 0.99]);
    const [r50, r99] = this.tallies.length > 1 ? percentiles(inWindow(this.tallies.slice(1)), [0.5, 0.99]) : [NaN, NaN];
    const nodeCpu = b.nodes.map((cpu, i) => (cpu - (a.nodes[i] as number)) / seconds);
    const cores = busyBetween(a.cores, b.cores);
    const loaderUs = b.loader.user + b.loader.system - a.loader.user - a.loader.system;
    return {
      mode,
      deliveriesPerSec: (b.frames - a.frames) / seconds,
      latencyP50Ms: p50 as number,
      latencyP99Ms: p99 as number,
      remoteP50Ms: r50 as number,
      remoteP99Ms: r99 as number,
      latencySamples: everywhere.length,
      nodesCpu: nodeCpu.reduce((s, c) => s + c, 0),
      publisherCpu: nodeCpu[0] as number,
      redisCpu: (b.redis - a.redis) / seconds,
      loaderCpu: loaderUs / 1e6 / seconds,
      loaderCoreBusy: cores[LOADER_CORE] as number,
      serverCoreBusy: cores[SERVER_CORE] as number,
      published,
      missing: Math.max(0, expected - this.frames()),
      drainMs,
      otherCpu: others.cores,
      otherTop: others.top,
      quietWaitMs: quiet.waitedMs,
    };
  }

  close(): void {
    closeAll(this.conns);
  }
}
