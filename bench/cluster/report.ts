import type { RunMeta } from '../meta.js';
import { spread, type Spread } from '../stats.js';
import type { ClusterRun, MeasurePlan, RunMode } from './measure.js';
import type { SetupName } from './setups.js';

export interface ClusterPlan extends MeasurePlan {
  mode: 'quick' | 'full';
  runs: number;
}

/** One setup's runs of both modes, and their medians. */
export interface SetupResult {
  setup: SetupName;
  label: string;
  nodes: number;
  clients: number;
  runs: ClusterRun[];
  max: ModeSummary;
  paced: ModeSummary;
}

export interface ModeSummary {
  deliveriesPerSec: Spread;
  latencyP50Ms: Spread;
  latencyP99Ms: Spread;
  remoteP99Ms: Spread;
  nodesCpu: Spread;
  redisCpu: Spread;
  missing: number;
}

export interface ClusterResults {
  meta: RunMeta;
  plan: ClusterPlan;
  /** Where each process ran: what the numbers can and cannot say on this machine. */
  machine: string;
  setups: SetupResult[];
  ratios: Ratio[];
}

export interface Ratio {
  what: string;
  value: number;
}

export function summarize(setup: Omit<SetupResult, 'max' | 'paced'>): SetupResult {
  const of = (mode: RunMode): ModeSummary => {
    const runs = setup.runs.filter((r) => r.mode === mode);
    const s = (pick: (r: ClusterRun) => number): Spread => spread(runs.map(pick));
    return {
      deliveriesPerSec: s((r) => r.deliveriesPerSec),
      latencyP50Ms: s((r) => r.latencyP50Ms),
      latencyP99Ms: s((r) => r.latencyP99Ms),
      remoteP99Ms: s((r) => r.remoteP99Ms),
      nodesCpu: s((r) => r.nodesCpu),
      redisCpu: s((r) => r.redisCpu),
      missing: runs.reduce((sum, r) => sum + r.missing, 0),
    };
  };
  return { ...setup, max: of('max'), paced: of('paced') };
}

/** The comparisons the issue asks for, where both sides were measured. */
export function ratios(setups: readonly SetupResult[]): Ratio[] {
  const find = (name: SetupName): SetupResult | undefined => setups.find((s) => s.setup === name);
  const out: Ratio[] = [];
  const add = (what: string, a: SetupName, b: SetupName, pick: (s: SetupResult) => number): void => {
    const x = find(a);
    const y = find(b);
    if (x && y) out.push({ what, value: pick(x) / pick(y) });
  };
  const maxRate = (s: SetupResult): number => s.max.deliveriesPerSec.median;
  const pacedP99 = (s: SetupResult): number => s.paced.latencyP99Ms.median;
  add('max deliveries/s: Switchboard 3 nodes ÷ Socket.IO 3 nodes', 'switchboard-redis-3', 'socket.io-redis-3', maxRate);
  add('max deliveries/s: Switchboard 3 nodes ÷ Switchboard 1 node (memory)', 'switchboard-redis-3', 'switchboard-1', maxRate);
  add('max deliveries/s: Switchboard 1 node + Redis ÷ 1 node (memory)', 'switchboard-redis-1', 'switchboard-1', maxRate);
  add('max deliveries/s: Socket.IO 3 nodes ÷ Socket.IO 1 node', 'socket.io-redis-3', 'socket.io-redis-1', maxRate);
  add('paced p99: Switchboard 3 nodes ÷ Socket.IO 3 nodes (lower is better)', 'switchboard-redis-3', 'socket.io-redis-3', pacedP99);
  add('paced p99: Switchboard 3 nodes ÷ Switchboard 1 node (memory)', 'switchboard-redis-3', 'switchboard-1', pacedP99);
  return out;
}

const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '–');
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');
const range = (s: Spread, f: (x: number) => string): string => (s.runs.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median));

export function formatReport(results: ClusterResults): string {
  const { plan, meta } = results;
  const lines: string[] = [];
  lines.push(`# Cross-node fan-out (${plan.mode}), ${meta.date}, commit ${meta.commit.slice(0, 12)}${meta.uncommitted.length ? ` + ${meta.uncommitted.length} uncommitted changes` : ''}`);
  lines.push(`${meta.cpu}, ${meta.cores} cores, Node ${meta.node}. ${results.machine}`);
  lines.push(
    `${plan.clients} clients in one room, spread evenly over the nodes; node 0 publishes ~100-byte messages. ` +
      `"max": one message per event-loop turn, as fast as it goes; "paced": ${plan.rate} messages/s. ` +
      `Window ${plan.measureMs} ms after ${plan.warmupMs} ms warm-up, ${plan.runs} run(s) per mode: median (min–max).`,
  );
  lines.push('');
  const header = ['setup', 'max deliveries/s', 'max p50 / p99 ms', 'nodes CPU', 'Redis CPU', `paced deliveries/s (of ${int(plan.rate * plan.clients)})`, 'paced p50 / p99 ms', 'paced p99 via Redis', 'missing'];
  const rows = results.setups.map((s) => [
    s.label,
    range(s.max.deliveriesPerSec, int),
    `${ms(s.max.latencyP50Ms.median)} / ${ms(s.max.latencyP99Ms.median)}`,
    pct(s.max.nodesCpu.median),
    pct(s.max.redisCpu.median),
    range(s.paced.deliveriesPerSec, int),
    `${ms(s.paced.latencyP50Ms.median)} / ${ms(s.paced.latencyP99Ms.median)}`,
    ms(s.paced.remoteP99Ms.median),
    int(s.max.missing + s.paced.missing),
  ]);
  lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`));
  lines.push('');
  for (const r of results.ratios) lines.push(`- ${r.what}: ${r.value.toFixed(2)}`);
  const disturbed = results.setups.flatMap((s) => s.runs.filter((r) => r.otherCpu > 0.2).map((r) => `${s.setup} ${r.mode} (${pct(r.otherCpu)} of a core: ${r.otherTop.join(', ')})`));
  if (disturbed.length > 0) lines.push('', `Runs kept although other processes used more than 20% of a core (numbers are noisy): ${disturbed.length}`, ...disturbed.map((d) => `  - ${d}`));
  return lines.join('\n');
}
