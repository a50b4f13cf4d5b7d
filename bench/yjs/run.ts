/**
 * `npm run bench:yjs [-- --quick] [--systems=a,b] [--rates=1,4,20] [--runs=N] [--editors=N] [--out=file]`
 *
 * Yjs update fan-out for one document with 50 editors (issue 15), side by side in one run:
 * Switchboard with the DocumentHost (switchboard/yjs) and editors on the DocumentProvider
 * (switchboard/yjs/client), the same with the host's compaction off, y-websocket 1.5's
 * server (bin/utils setupWSConnection) with its WebsocketProvider, and a raw `ws` relay
 * with no document at all, the ceiling. Systems are in bench/yjs/systems.ts.
 *
 * Each system: its server in its own process on core 1; the editors in load processes on
 * core 0 (bench/yjs/editors.ts), every editor a real Y.Doc kept in step by that system's
 * client. All systems stay up for the whole run and their runs take turns (see
 * measureAll). The same workload for each: every editor inserts a stamp of a few
 * characters at the end of one shared Y.Text at a fixed rate, open loop, the editors'
 * phases spread evenly; one step per rate (the default: 1 edit/s per editor, then 4/s,
 * 200 edits/s in all, then 20/s, a saturation step: on 2 cores the load core runs out
 * first, since every editor applies every other editor's edits; compare the server CPU
 * per delivery there). An unmeasured 3 s step at 4/s comes first.
 * Delivered: remote edits arriving at the editors during the window, per second, over all
 * editors. Latency: from the edit (the stamp it carries) to its arrival at each other
 * editor — the stamp is CLOCK_MONOTONIC (process.hrtime), shared by every process of the
 * machine, checked before the first step (see workload.ts). After every step the run
 * waits until every edit has reached every editor (a shortfall is reported as missing);
 * after the last, every editor's text must be the same. docs/PERFORMANCE.md
 * ("Collaborative editing") quotes the recorded run.
 *
 * Writes bench/results/yjs-<date>.json, or --out=…; the recorded run is
 * bench/results/yjs-fanout.json. Not part of `npm test`.
 */
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { busyBetween, coreTimes, otherCpuBetween, otherProcessesCpu, waitForQuiet } from '../cpu.js';
import { collectMeta } from '../meta.js';
import { LOADER_CORE, SERVER_CORE, ServerProcess } from '../server-process.js';
import { percentiles, sleep } from '../stats.js';
import { EditorLoad, type StepPlan } from './load.js';
import { formatReport, summarize, type StepRun, type SystemResult, type YjsPlan, type YjsResults } from './report.js';
import { DEFAULT_SYSTEMS, SYSTEMS, type SystemName } from './systems.js';
import { monotonicUs } from './workload.js';
import { args, option, ROOT, log, writeResults, runMain } from '../cli.js';

const FULL: YjsPlan = { mode: 'full', editors: 50, loadProcesses: 2, rates: [1, 4, 20], runs: 3, warmupMs: 1000, measureMs: 5000, tailMs: 250 };
/** A smoke run: one short run per step. */
const QUICK: YjsPlan = { mode: 'quick', editors: 50, loadProcesses: 2, rates: [1, 4, 20], runs: 1, warmupMs: 500, measureMs: 2000, tailMs: 250 };

const MACHINE =
  'Load processes pinned to core 0, the server under test to core 1 (taskset). Every editor applies every other editor\'s ' +
  'edits to its own Y.Doc, as a real editor does, so the load core does (editors − 1) Yjs applies per edit: at the higher ' +
  'rates it is the load core that runs out first (see load CPU), and the server CPU per delivery is the comparison.';
const CLOCK = 'Latency stamps: CLOCK_MONOTONIC µs via process.hrtime (shared by all processes on Linux; checked per load process before the first step).';

/** An unmeasured step before the first: the JIT's. */
const WARM_UP = { rate: 4, ms: 3000 };

/** A run during which other processes used more than this share of a core is measured again (once; the less disturbed is kept). */
const DISTURBED = 0.2;
const ATTEMPTS = 2;


function plan(): YjsPlan {
  const p = { ...(args.includes('--quick') ? QUICK : FULL) };
  if (option('rates')) p.rates = (option('rates') as string).split(',').map(Number);
  if (option('runs')) p.runs = Number(option('runs'));
  if (option('editors')) p.editors = Number(option('editors'));
  if (!p.rates.every((r) => r > 0) || !(p.runs >= 1) || !(p.editors >= 2)) throw new Error('--rates must be positive, --runs ≥ 1, --editors ≥ 2');
  return p;
}

function chosenSystems(): SystemName[] {
  const value = option('systems');
  if (!value) return [...DEFAULT_SYSTEMS];
  const names = value.split(',') as SystemName[];
  for (const n of names) if (!(n in SYSTEMS)) throw new Error(`--systems: unknown "${n}" (one of ${Object.keys(SYSTEMS).join(', ')})`);
  return names;
}

/** One run of one step; `bench` is every process of the bench (the other systems' idle ones are not "other work"). */
async function measureStep(server: ServerProcess<string>, load: EditorLoad, p: YjsPlan, rate: number, bench: ReadonlySet<number>): Promise<Omit<StepRun, 'attempts'>> {
  await waitForQuiet(0.1, 5_000);
  await server.command('gc-reset');
  const step: StepPlan = { rate, warmupMs: p.warmupMs, measureMs: p.measureMs, tailMs: p.tailMs };
  const startUs = monotonicUs() + 200_000;
  const sending = load.step(startUs, step);
  const sample = () => ({ t: monotonicUs(), server: server.cpuSeconds(), load: load.cpuSeconds(), cores: coreTimes() });
  await sleep((startUs - monotonicUs()) / 1000 + p.warmupMs);
  const a = sample();
  const othersBefore = otherProcessesCpu(bench);
  await sleep(p.measureMs);
  const b = sample();
  const seconds = (b.t - a.t) / 1e6;
  const others = otherCpuBetween(othersBefore, otherProcessesCpu(bench), seconds);
  const sent = await sending;
  const arrived = await load.drain(sent.sentBy);
  const gc = await server.command<{ count: number; totalMs: number; maxMs: number }>('gc-stats');
  const [p50, p99] = percentiles(Array.from(arrived.latenciesUs), [0.5, 0.99]);
  const cores = busyBetween(a.cores, b.cores);
  return {
    rate,
    offeredEditsPerSec: rate * p.editors,
    deliveredPerSec: arrived.inWindow / (p.measureMs / 1000),
    updatesPerSec: arrived.updatesInWindow / (p.measureMs / 1000),
    latencyP50Ms: (p50 as number) / 1000,
    latencyP99Ms: (p99 as number) / 1000,
    latencyMaxMs: arrived.latenciesUs.reduce((m, x) => Math.max(m, x), 0) / 1000,
    samples: arrived.latenciesUs.length,
    serverCpu: (b.server - a.server) / seconds,
    loadCpu: (b.load - a.load) / seconds,
    loadCoreBusy: cores[LOADER_CORE] as number,
    serverCoreBusy: cores[SERVER_CORE] as number,
    sendLateP99Ms: sent.lateP99Us / 1000,
    sent: sent.sentBy.reduce((s, x) => s + x, 0),
    missing: arrived.missing,
    drainMs: arrived.drainMs,
    serverGc: { count: gc.count, totalMs: gc.totalMs, maxMs: gc.maxMs },
    otherCpu: others.cores,
    otherTop: others.top,
  };
}

/** One system, up for the whole run: its server, its editors, and its runs so far. */
interface LiveSystem {
  name: SystemName;
  server: ServerProcess<string>;
  load: EditorLoad;
  runs: StepRun[];
}

async function openSystem(name: SystemName, p: YjsPlan): Promise<LiveSystem> {
  const system = SYSTEMS[name];
  log(`${system.label}: starting the server, opening ${p.editors} editors`);
  const server = await ServerProcess.startFile(name, fileURLToPath(new URL(system.server, import.meta.url)), system.env);
  try {
    const load = await EditorLoad.open(system.editor, server.port, p.editors, p.loadProcesses);
    await load.checkClock();
    // Unmeasured: the first edits run through code neither side has compiled yet.
    const warm = await load.step(monotonicUs() + 100_000, { rate: WARM_UP.rate, warmupMs: 0, measureMs: WARM_UP.ms, tailMs: 0 });
    await load.drain(warm.sentBy);
    return { name, server, load, runs: [] };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

async function measureRun(live: LiveSystem, p: YjsPlan, rate: number, r: number, bench: ReadonlySet<number>): Promise<void> {
  let kept: StepRun | undefined;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const run = { ...(await measureStep(live.server, live.load, p, rate, bench)), attempts: attempt };
    if (!kept || run.otherCpu < kept.otherCpu) kept = run;
    if (run.otherCpu <= DISTURBED) break;
    log(`    (other processes used ${Math.round(run.otherCpu * 100)}% of a core — ${run.otherTop.join(', ')}${attempt < ATTEMPTS ? '; measuring again' : ''})`);
  }
  const run = kept as StepRun;
  live.runs.push(run);
  log(
    `  ${live.name} ${rate}/s run ${r + 1}: ${Math.round(run.deliveredPerSec).toLocaleString('en')} delivered/s of ${(rate * p.editors * (p.editors - 1)).toLocaleString('en')} (${(run.deliveredPerSec / run.updatesPerSec).toFixed(2)} edits per update), ` +
      `p50 ${run.latencyP50Ms.toFixed(2)} ms, p99 ${run.latencyP99Ms.toFixed(2)} ms, server CPU ${Math.round(run.serverCpu * 100)}%, load CPU ${Math.round(run.loadCpu * 100)}%, ` +
      `sent late p99 ${run.sendLateP99Ms.toFixed(1)} ms, server GC ${run.serverGc.count} (longest ${run.serverGc.maxMs.toFixed(1)} ms)` +
      `${run.missing ? `, ${run.missing} MISSING` : ''}, drained in ${run.drainMs} ms`,
  );
}

/**
 * Every system is up for the whole run (idle editors cost next to nothing), and the runs
 * take turns: run r of a step starts with system r mod n. On a machine that other work
 * shares, a busy spell then falls on every system alike, not on whichever ran at the time.
 */
async function measureAll(names: SystemName[], p: YjsPlan): Promise<SystemResult[]> {
  const live: LiveSystem[] = [];
  try {
    for (const name of names) live.push(await openSystem(name, p));
    const bench = new Set([process.pid, ...live.flatMap((l) => [l.server.pid, ...l.load.pids])]);
    for (const rate of p.rates) {
      log(`${rate} edits/s per editor`);
      for (let r = 0; r < p.runs; r++) {
        for (let k = 0; k < live.length; k++) await measureRun(live[(r + k) % live.length] as LiveSystem, p, rate, r, bench);
      }
    }
    const results: SystemResult[] = [];
    for (const l of live) {
      const end = await l.load.converged();
      log(`${l.name}: ${end.converged ? 'every editor holds the same text' : `editors DISAGREE (${end.distinct} different texts)`}, ${end.length.toLocaleString('en')} characters`);
      results.push(summarize({ system: l.name, label: SYSTEMS[l.name].label, runs: l.runs, converged: end.converged, documentLength: end.length }, p));
    }
    return results;
  } finally {
    for (const l of live) {
      await l.load.stop();
      await l.server.stop();
    }
  }
}

async function main(): Promise<void> {
  const p = plan();
  const names = chosenSystems();
  execFileSync('taskset', ['-a', '-p', '-c', String(LOADER_CORE), String(process.pid)], { stdio: 'ignore' });
  const meta = collectMeta(args);
  for (const pkg of ['yjs', 'y-websocket', 'y-protocols']) meta.versions[pkg] = (await import(`${ROOT}node_modules/${pkg}/package.json`, { with: { type: 'json' } })).default.version as string;
  log(`yjs bench (${p.mode}), ${meta.cores} cores: ${names.join(', ')}; rates ${p.rates.join(', ')} edits/s per editor`);
  const started = Date.now();
  const systems = await measureAll(names, p);
  meta.durationSeconds = Math.round((Date.now() - started) / 1000);
  const results: YjsResults = { meta, plan: p, machine: MACHINE, clock: CLOCK, notes: [], systems };
  writeResults(option('out') ?? `${ROOT}bench/results/yjs-${meta.date.replace(/[:.]/g, '-')}.json`, results);
  console.log(formatReport(results));
}

runMain(main);
