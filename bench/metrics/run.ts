/**
 * `npm run bench:metrics -- --baseline=/tmp/sb-baseline [--quick] [--subscribers=1000] [--per-turn=1,8] [--runs=5]`
 *
 * Does counting cost the fan-out path? One run measures the same fan-out (bench/scenarios/fanout.ts:
 * one room, the server publishing `perTurn` messages per event-loop turn) on three servers:
 *   a. Switchboard from a baseline source tree (a worktree of a commit before the counters),
 *   b. Switchboard from this tree,
 *   c. this tree with createMetrics mounted on /metrics and scraped every second meanwhile,
 * all three alive at once, the runs alternating a b c a b c ... so that drift of a shared
 * machine falls on all three alike. It reports deliveries/s and server CPU µs per delivery,
 * and the ratios b/a and c/a (medians of the ratios within each a-b-c cycle). A full run
 * writes bench/results/metrics-<date>.json; --quick is a smoke run and writes nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { args, log, option, ROOT, runMain, writeResults } from '../cli.js';
import { busyBetween, coreTimes } from '../cpu.js';
import { Tally, type LoadConnection } from '../load/connection.js';
import { DIALECTS } from '../load/dialects.js';
import { closeAll, joinAll, openConnections } from '../load/open-many.js';
import { collectMeta, type RunMeta } from '../meta.js';
import { OtherCpuWatch, pct, undisturbed, type Undisturbed } from '../scenarios/undisturbed.js';
import { LOADER_CORE, SERVER_CORE, ServerProcess } from '../server-process.js';
import { monotonicUs, sleep, spread, type Spread } from '../stats.js';

const VARIANTS = ['baseline', 'counting', 'scraped'] as const;
type Variant = (typeof VARIANTS)[number];

interface Plan {
  mode: 'quick' | 'full';
  subscribers: number;
  perTurn: number[];
  runs: number;
  warmupMs: number;
  measureMs: number;
  scrapeEveryMs: number;
}

interface Run extends Undisturbed {
  variant: Variant;
  cycle: number;
  deliveriesPerSec: number;
  /** Server CPU over the window, 1 = one core. */
  serverCpu: number;
  /** Server CPU µs per delivery. */
  cpuUsPerDelivery: number;
  serverCoreBusy: number;
  loaderCoreBusy: number;
  /** Scrapes of /metrics answered 200 during the run (variant scraped only). */
  scrapes: number;
}

interface Comparison {
  perTurn: number;
  deliveriesPerSec: Record<Variant, Spread>;
  cpuUsPerDelivery: Record<Variant, Spread>;
  /** Within each cycle: b/a and c/a of deliveries/s and of CPU per delivery. */
  ratios: { countingDeliveries: Spread; scrapedDeliveries: Spread; countingCpu: Spread; scrapedCpu: Spread };
}

const ROOM = 'bench';
const CONCURRENCY = 200;
const SERVER_FILE = fileURLToPath(new URL('server.ts', import.meta.url));

const number = (name: string, fallback: number): number => {
  const v = option(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: a positive integer, got "${v}"`);
  return n;
};

function planFromArgs(): Plan {
  const quick = args.includes('--quick');
  const perTurn = (option('per-turn') ?? (quick ? '8' : '1,8')).split(',').map(Number);
  if (perTurn.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('--per-turn: positive integers, as 1,8');
  return {
    mode: quick ? 'quick' : 'full',
    subscribers: number('subscribers', quick ? 200 : 1000),
    perTurn,
    runs: number('runs', quick ? 1 : 5),
    warmupMs: quick ? 300 : 500,
    measureMs: quick ? 1000 : 3000,
    scrapeEveryMs: 1000,
  };
}

/** The baseline tree must be a source tree of Switchboard; it borrows this repository's node_modules. */
function baselineTree(): { path: string; commit: string } {
  const path = option('baseline');
  if (!path) throw new Error('--baseline=PATH: a source tree of a commit before the counters, e.g. `git -C /work/main worktree add --detach /tmp/sb-baseline 697f011`');
  if (!existsSync(`${path}/src/server/index.ts`)) throw new Error(`--baseline=${path}: no src/server/index.ts there`);
  if (!existsSync(`${path}/node_modules`)) {
    symlinkSync(`${ROOT}node_modules`, `${path}/node_modules`);
    log(`linked ${path}/node_modules to ${ROOT}node_modules`);
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', path, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git tree: the commit stays unknown in the results.
  }
  return { path, commit };
}

/** One server under test with its room of subscribers, kept open for every run. */
interface Subject {
  variant: Variant;
  server: ServerProcess<string>;
  tally: Tally;
  conns: LoadConnection[];
}

async function startSubject(variant: Variant, tree: string, plan: Plan): Promise<Subject> {
  const env = { SB_TREE: tree, SB_METRICS: variant === 'scraped' ? '1' : '0' };
  const server = await ServerProcess.startFile(variant, SERVER_FILE, env);
  const tally = new Tally();
  const dialect = DIALECTS.switchboard;
  const conns = await openConnections({ port: server.port, dialect, count: plan.subscribers, concurrency: CONCURRENCY, tally });
  await joinAll(conns, dialect, ROOM, CONCURRENCY);
  for (const c of conns) {
    c.decodeAll = false;
    if (dialect.onCount) c.onCount(dialect.onCount);
  }
  return { variant, server, tally, conns };
}

/** Scrape /metrics every `everyMs` until stopped, as Prometheus would; counts the answers that were 200. */
function scrapeEvery(port: number, everyMs: number): { stop(): Promise<number> } {
  let ok = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      const text = await res.text();
      if (res.status === 200 && text.includes('switchboard_deliveries_total')) ok++;
      else throw new Error(`/metrics answered ${res.status}`);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return ok;
    },
  };
}

async function measure(subject: Subject, perTurn: number, plan: Plan, cycle: number): Promise<Omit<Run, 'attempts' | 'quietWaitMs'>> {
  const { server, tally } = subject;
  const others = new OtherCpuWatch(server.pid);
  tally.frames = 0;
  const scraper = subject.variant === 'scraped' ? scrapeEvery(server.port, plan.scrapeEveryMs) : undefined;
  const sample = () => ({ t: monotonicUs(), frames: tally.frames, cpu: server.cpuSeconds(), cores: coreTimes() });
  const done = server.command<{ published: number }>('fanout', { room: ROOM, perTurn, durationMs: plan.warmupMs + plan.measureMs + 250 });
  await sleep(plan.warmupMs);
  const a = sample();
  others.start();
  await sleep(plan.measureMs);
  const b = sample();
  const disturbance = others.stop();
  const scrapes = (await scraper?.stop()) ?? 0;
  await done;
  // Let the room drain before the next run starts on another server.
  let last = -1;
  while (tally.frames !== last) {
    last = tally.frames;
    await sleep(200);
  }
  const seconds = (b.t - a.t) / 1e6;
  const deliveries = b.frames - a.frames;
  const cores = busyBetween(a.cores, b.cores);
  return {
    variant: subject.variant,
    cycle,
    deliveriesPerSec: deliveries / seconds,
    serverCpu: (b.cpu - a.cpu) / seconds,
    cpuUsPerDelivery: ((b.cpu - a.cpu) * 1e6) / deliveries,
    serverCoreBusy: cores[SERVER_CORE] as number,
    loaderCoreBusy: cores[LOADER_CORE] as number,
    scrapes,
    ...disturbance,
  };
}

function compare(perTurn: number, runs: Run[]): Comparison {
  const of = (v: Variant, key: 'deliveriesPerSec' | 'cpuUsPerDelivery') => spread(runs.filter((r) => r.variant === v).map((r) => r[key]));
  const cycles = [...new Set(runs.map((r) => r.cycle))];
  const ratio = (v: Variant, key: 'deliveriesPerSec' | 'cpuUsPerDelivery') =>
    spread(
      cycles.map((c) => {
        const base = runs.find((r) => r.cycle === c && r.variant === 'baseline') as Run;
        return (runs.find((r) => r.cycle === c && r.variant === v) as Run)[key] / base[key];
      }),
    );
  return {
    perTurn,
    deliveriesPerSec: { baseline: of('baseline', 'deliveriesPerSec'), counting: of('counting', 'deliveriesPerSec'), scraped: of('scraped', 'deliveriesPerSec') },
    cpuUsPerDelivery: { baseline: of('baseline', 'cpuUsPerDelivery'), counting: of('counting', 'cpuUsPerDelivery'), scraped: of('scraped', 'cpuUsPerDelivery') },
    ratios: {
      countingDeliveries: ratio('counting', 'deliveriesPerSec'),
      scrapedDeliveries: ratio('scraped', 'deliveriesPerSec'),
      countingCpu: ratio('counting', 'cpuUsPerDelivery'),
      scrapedCpu: ratio('scraped', 'cpuUsPerDelivery'),
    },
  };
}

function report(plan: Plan, comparisons: Comparison[]): string {
  const k = (s: Spread) => `${Math.round(s.median / 1000)}k (${Math.round(s.min / 1000)}k–${Math.round(s.max / 1000)}k)`;
  const us = (s: Spread) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  const x = (s: Spread) => `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
  const lines = [
    `fan-out to ${plan.subscribers} subscribers, ${plan.runs} cycles of a-b-c, windows of ${plan.measureMs / 1000} s (medians, min–max):`,
    '',
    '| per turn | deliveries/s a (baseline) | b (counting) | c (counting + /metrics scraped 1/s) | b/a | c/a | server µs per delivery a / b / c | b/a | c/a |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of comparisons) {
    const d = c.deliveriesPerSec;
    const u = c.cpuUsPerDelivery;
    lines.push(
      `| ${c.perTurn} | ${k(d.baseline)} | ${k(d.counting)} | ${k(d.scraped)} | ${x(c.ratios.countingDeliveries)} | ${x(c.ratios.scrapedDeliveries)} | ${us(u.baseline)} / ${us(u.counting)} / ${us(u.scraped)} | ${x(c.ratios.countingCpu)} | ${x(c.ratios.scrapedCpu)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const plan = planFromArgs();
  const baseline = baselineTree();
  const meta: RunMeta & { baselineCommit?: string } = { ...collectMeta(args), baselineCommit: baseline.commit };
  // The load generator keeps core 0, every thread of it; the servers get core 1.
  execFileSync('taskset', ['-a', '-p', '-c', String(LOADER_CORE), String(process.pid)], { stdio: 'ignore' });
  log(`metrics bench (${plan.mode}): baseline ${baseline.commit.slice(0, 12)} at ${baseline.path}, this tree ${meta.commit.slice(0, 12)}${meta.uncommitted.length ? ` + ${meta.uncommitted.length} uncommitted changes` : ''}`);
  const started = Date.now();
  const subjects: Subject[] = [];
  try {
    for (const variant of VARIANTS) {
      subjects.push(await startSubject(variant, variant === 'baseline' ? baseline.path : ROOT.replace(/\/$/, ''), plan));
      log(`  ${variant}: ${plan.subscribers} subscribers joined`);
    }
    const runs: Run[] = [];
    const comparisons: Comparison[] = [];
    for (const perTurn of plan.perTurn) {
      const these: Run[] = [];
      for (let cycle = 1; cycle <= plan.runs; cycle++) {
        for (const subject of subjects) {
          const run = { ...(await undisturbed(`${subject.variant} cycle ${cycle}`, () => measure(subject, perTurn, plan, cycle), log)) };
          these.push(run);
          log(
            `  ${perTurn}/turn cycle ${cycle} ${subject.variant}: ${Math.round(run.deliveriesPerSec).toLocaleString('en')} deliveries/s, ` +
              `${run.cpuUsPerDelivery.toFixed(2)} µs CPU per delivery, server CPU ${pct(run.serverCpu)} (core ${pct(run.serverCoreBusy)})` +
              (subject.variant === 'scraped' ? `, ${run.scrapes} scrapes` : ''),
          );
        }
      }
      runs.push(...these.map((r) => ({ ...r, perTurn })));
      comparisons.push(compare(perTurn, these));
    }
    meta.durationSeconds = Math.round((Date.now() - started) / 1000);
    console.log(report(plan, comparisons));
    if (plan.mode === 'full') writeResults(`${ROOT}bench/results/metrics-${meta.date.replace(/[:.]/g, '-')}.json`, { meta, plan, comparisons, runs });
    else log('quick run: no results file (a smoke run, not for the record)');
  } finally {
    for (const s of subjects) {
      closeAll(s.conns);
      await s.server.stop();
    }
  }
}

runMain(main);
