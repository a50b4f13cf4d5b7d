import type { RunMeta } from '../meta.js';
import { spread, type Spread } from '../stats.js';
import type { SystemName } from './systems.js';

export interface YjsPlan {
  mode: 'quick' | 'full';
  editors: number;
  loadProcesses: number;
  /** Edits per second per editor, one step each, in this order. */
  rates: number[];
  runs: number;
  warmupMs: number;
  measureMs: number;
  tailMs: number;
}

/** One run of one step of one system. */
export interface StepRun {
  rate: number;
  offeredEditsPerSec: number;
  /** Remote edits applied at the editors during the window, per second, over all editors. */
  deliveredPerSec: number;
  /** Remote updates (Yjs transactions) that carried those edits, per second: a provider may merge an editor's edits into one update. */
  updatesPerSec: number;
  /** Edit to its arrival at every other editor, over the window's arrivals. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  samples: number;
  /** Cores: 1 = one core busy for the whole window. */
  serverCpu: number;
  loadCpu: number;
  loadCoreBusy: number;
  serverCoreBusy: number;
  /** How late the load processes sent edits against their schedule (open loop). */
  sendLateP99Ms: number;
  sent: number;
  /** Deliveries that never came after the step drained (sent × (editors − 1) − received). */
  missing: number;
  drainMs: number;
  serverGc: { count: number; totalMs: number; maxMs: number };
  otherCpu: number;
  otherTop: string[];
  attempts: number;
}

export interface StepSummary {
  rate: number;
  offeredEditsPerSec: number;
  expectedDeliveriesPerSec: number;
  deliveredPerSec: Spread;
  updatesPerSec: Spread;
  latencyP50Ms: Spread;
  latencyP99Ms: Spread;
  serverCpu: Spread;
  /** The server's CPU time per delivered update, µs: comparable even where the load core is the limit. */
  serverUsPerDelivery: Spread;
  loadCpu: Spread;
  missing: number;
}

export interface SystemResult {
  system: SystemName;
  label: string;
  runs: StepRun[];
  steps: StepSummary[];
  /** Every editor's text was the same after the last step. */
  converged: boolean;
  documentLength: number;
}

export interface YjsResults {
  meta: RunMeta;
  plan: YjsPlan;
  machine: string;
  clock: string;
  notes: string[];
  systems: SystemResult[];
}

export function summarize(system: Omit<SystemResult, 'steps'>, plan: YjsPlan): SystemResult {
  const steps = plan.rates.map((rate): StepSummary => {
    const runs = system.runs.filter((r) => r.rate === rate);
    const s = (pick: (r: StepRun) => number): Spread => spread(runs.map(pick));
    return {
      rate,
      offeredEditsPerSec: rate * plan.editors,
      expectedDeliveriesPerSec: rate * plan.editors * (plan.editors - 1),
      deliveredPerSec: s((r) => r.deliveredPerSec),
      updatesPerSec: s((r) => r.updatesPerSec),
      latencyP50Ms: s((r) => r.latencyP50Ms),
      latencyP99Ms: s((r) => r.latencyP99Ms),
      serverCpu: s((r) => r.serverCpu),
      serverUsPerDelivery: s((r) => (r.serverCpu / r.deliveredPerSec) * 1e6),
      loadCpu: s((r) => r.loadCpu),
      missing: runs.reduce((sum, r) => sum + r.missing, 0),
    };
  });
  return { ...system, steps };
}

const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '–');
const ms = (x: number): string => (!Number.isFinite(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const us = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–');
const range = (s: Spread, f: (x: number) => string): string => (s.runs.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median));

export function formatReport(results: YjsResults): string {
  const { plan, meta } = results;
  const lines: string[] = [];
  lines.push(`# Yjs update fan-out (${plan.mode}), ${meta.date}, commit ${meta.commit.slice(0, 12)}${meta.uncommitted.length ? ` + ${meta.uncommitted.length} uncommitted changes` : ''}`);
  lines.push(`${meta.cpu}, ${meta.cores} cores, Node ${meta.node}; ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ')}. ${results.machine}`);
  lines.push(
    `One document, ${plan.editors} editors in ${plan.loadProcesses} load process(es); each editor inserts a stamp of a few characters at the end of a shared Y.Text at a fixed rate. ` +
      `Delivered = remote edits applied at the editors per second, over all editors (the most is rate × ${plan.editors} × ${plan.editors - 1}); edits per update: how many edits each remote update carried on average (a provider may merge an editor's edits into one update). ` +
      `Window ${plan.measureMs} ms after ${plan.warmupMs} ms warm-up, ${plan.runs} run(s) per step: median (min–max).`,
  );
  // Ratios against y-websocket when it ran (the issue's comparison), else the first system.
  const base = results.systems.find((r) => r.system === 'y-websocket') ?? results.systems[0];
  for (const step of plan.rates) {
    const at = (r: SystemResult): StepSummary | undefined => r.steps.find((s) => s.rate === step);
    const first = base ? at(base) : undefined;
    lines.push('', `## ${step} edits/s per editor (${int(step * plan.editors)} edits/s offered, ${int(step * plan.editors * (plan.editors - 1))} deliveries/s if every edit reaches everyone)`, '');
    const header = ['system', 'delivered/s', 'edits per update', 'p50 ms', 'p99 ms', 'server CPU', 'server µs per delivery', 'load CPU', 'missing', ...(base ? [`delivered ÷ ${base.system}'s`, `p99 ÷ ${base.system}'s`, `server µs per delivery ÷ ${base.system}'s`] : [])];
    lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const r of results.systems) {
      const s = at(r);
      if (!s) continue;
      lines.push(
        `| ${[
          r.label,
          range(s.deliveredPerSec, int),
          (s.deliveredPerSec.median / s.updatesPerSec.median).toFixed(2),
          range(s.latencyP50Ms, ms),
          range(s.latencyP99Ms, ms),
          pct(s.serverCpu.median),
          us(s.serverUsPerDelivery.median),
          pct(s.loadCpu.median),
          int(s.missing),
          ...(first
            ? [
                ratio(s.deliveredPerSec.median, first.deliveredPerSec.median),
                ratio(s.latencyP99Ms.median, first.latencyP99Ms.median),
                ratio(s.serverUsPerDelivery.median, first.serverUsPerDelivery.median),
              ]
            : []),
        ].join(' | ')} |`,
      );
    }
  }
  lines.push('');
  for (const r of results.systems) lines.push(`- ${r.label}: ${r.converged ? 'every editor ended with the same text' : 'EDITORS DISAGREE at the end'} (${int(r.documentLength)} characters).`);
  const disturbed = results.systems.flatMap((s) => s.runs.filter((r) => r.otherCpu > 0.2).map((r) => `${s.system} at ${r.rate}/s (${pct(r.otherCpu)} of a core: ${r.otherTop.join(', ')})`));
  if (disturbed.length > 0) lines.push('', `Runs kept although other processes used more than 20% of a core (noisy): ${disturbed.length}`, ...disturbed.map((d) => `  - ${d}`));
  for (const note of results.notes) lines.push(`- ${note}`);
  return lines.join('\n');
}
