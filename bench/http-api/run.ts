/**
 * `npm run bench:http-api [-- --quick] [--clients=N] [--concurrency=N] [--runs=N] [--out=file]`
 *
 * The publish HTTP API (switchboard/http-api) under load: a backend publishing over HTTP
 * with keep-alive at a fixed concurrency (closed loops: each sends its next request when
 * the previous one is answered) to a room that N WebSocket clients are in. Scenarios, one
 * after another in one run: single publishes (POST /publish), batches of 10 and of 100
 * (POST /batch), and single publishes to a durable room (each answer waits for the
 * publication to be stored and carries its position). No idempotency keys: the bench
 * measures the publish path.
 *
 * The server (bench/http-api/server.ts) runs in its own process on core 1; the publisher
 * and the clients (bench/load/: raw WebSocket connections that count frames, a few probes
 * that read the send stamp) share this process on core 0. Publications/s: publications
 * answered 200 within the window. Latency: from the moment the request was sent (the
 * stamp each publication carries, CLOCK_MONOTONIC) to its arrival at a probe client, over
 * every delivery the probes saw in the window; the request latency (send to answer) is
 * given too. After each run the bench waits until every client has every publication
 * (a shortfall is reported as missing).
 *
 * Writes bench/results/http-api-<date>.json, or --out=…; the recorded run is
 * bench/results/http-api.json, quoted by docs/PERFORMANCE.md ("Publish HTTP API").
 * Not part of `npm test`.
 */
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { busyBetween, coreTimes, otherCpuBetween, otherProcessesCpu, waitForQuiet } from '../cpu.js';
import { Tally, type LoadConnection } from '../load/connection.js';
import { switchboardDialect } from '../load/dialects.js';
import { closeAll, joinAll, openConnections } from '../load/open-many.js';
import { collectMeta, type RunMeta } from '../meta.js';
import { LOADER_CORE, SERVER_CORE, ServerProcess } from '../server-process.js';
import { monotonicUs, percentiles, sleep, spread, type Spread } from '../stats.js';
import { HttpPublisher } from './publisher.js';
import { args, option, ROOT, log, writeResults, runMain } from '../cli.js';

interface Plan {
  mode: 'full' | 'quick';
  clients: number;
  probes: number;
  concurrency: number;
  runs: number;
  warmupMs: number;
  measureMs: number;
}

const FULL: Plan = { mode: 'full', clients: 20, probes: 5, concurrency: 8, runs: 2, warmupMs: 1000, measureMs: 5000 };
/** A smoke run: one short run per scenario. */
const QUICK: Plan = { mode: 'quick', clients: 10, probes: 3, concurrency: 4, runs: 1, warmupMs: 300, measureMs: 1000 };

interface Scenario {
  name: string;
  room: string;
  batch: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'single', room: 'bench', batch: 1 },
  { name: 'batch-10', room: 'bench', batch: 10 },
  { name: 'batch-100', room: 'bench', batch: 100 },
  { name: 'single-durable', room: 'durable', batch: 1 },
];

interface Run {
  publicationsPerSec: number;
  requestsPerSec: number;
  deliveredPerSec: number;
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  requestP50Ms: number;
  requestP99Ms: number;
  latencySamples: number;
  serverCpu: number;
  loadCoreBusy: number;
  serverCoreBusy: number;
  failures: number;
  missing: number;
  otherCpu: number;
  otherTop: string[];
}

interface ScenarioResult extends Scenario {
  runs: Run[];
  publicationsPerSec: Spread;
  deliveryP50Ms: Spread;
  deliveryP99Ms: Spread;
  requestP99Ms: Spread;
}

interface Results {
  meta: RunMeta;
  plan: Plan;
  machine: string;
  scenarios: ScenarioResult[];
}

const MACHINE =
  'The server under test pinned to core 1, the HTTP publisher and the WebSocket clients to core 0 (taskset). ' +
  'The machine was shared with other work: see otherCpu per run (share of a core other processes used during the window).';

const KEY = randomBytes(24).toString('base64url');
const PATH = '/api/switchboard';
const DRAIN_STALL_MS = 2_000;
/** A run during which other processes used more than this share of a core is measured again (once; the less disturbed is kept). */
const DISTURBED = 0.2;
const ATTEMPTS = 2;


function plan(): Plan {
  const p = { ...(args.includes('--quick') ? QUICK : FULL) };
  if (option('clients')) p.clients = Number(option('clients'));
  if (option('concurrency')) p.concurrency = Number(option('concurrency'));
  if (option('runs')) p.runs = Number(option('runs'));
  if (!(p.clients >= 1) || !(p.concurrency >= 1) || !(p.runs >= 1)) throw new Error('--clients, --concurrency and --runs must be positive');
  p.probes = Math.min(p.probes, p.clients);
  return p;
}

async function measure(server: ServerProcess<string>, tally: Tally, clients: number, p: Plan, s: Scenario): Promise<Run> {
  await waitForQuiet(0.1, 5_000);
  tally.frames = 0;
  tally.stamps = [];
  const publisher = new HttpPublisher({ port: server.port, path: PATH, key: KEY, room: s.room, batch: s.batch, concurrency: p.concurrency });
  const bench = new Set([process.pid, server.pid]);
  const sample = () => ({ t: monotonicUs(), frames: tally.frames, server: server.cpuSeconds(), cores: coreTimes() });
  publisher.start();
  await sleep(p.warmupMs);
  const a = sample();
  const othersBefore = otherProcessesCpu(bench);
  await sleep(p.measureMs);
  const b = sample();
  const seconds = (b.t - a.t) / 1e6;
  const others = otherCpuBetween(othersBefore, otherProcessesCpu(bench), seconds);
  const accepted = await publisher.stop();
  publisher.close();

  // Every client must get every accepted publication.
  const expected = accepted * clients;
  let last = -1;
  let lastChange = Date.now();
  while (tally.frames < expected && Date.now() - lastChange < DRAIN_STALL_MS) {
    await sleep(20);
    if (tally.frames !== last) {
      last = tally.frames;
      lastChange = Date.now();
    }
  }

  const answers = publisher.tally.answers;
  let publications = 0;
  let requests = 0;
  const requestLatencies: number[] = [];
  for (let i = 0; i < answers.length; i += 3) {
    const at = answers[i] as number;
    if (at < a.t || at > b.t) continue;
    requests++;
    publications += answers[i + 1] as number;
    requestLatencies.push(answers[i + 2] as number);
  }
  const deliveries: number[] = [];
  for (let i = 0; i < tally.stamps.length; i += 2) {
    const at = tally.stamps[i] as number;
    if (at >= a.t && at <= b.t) deliveries.push(tally.stamps[i + 1] as number);
  }
  const [d50, d99] = percentiles(deliveries, [0.5, 0.99]);
  const [r50, r99] = percentiles(requestLatencies, [0.5, 0.99]);
  const cores = busyBetween(a.cores, b.cores);
  if (publisher.tally.failures > 0) log(`    ${publisher.tally.failures} refused publications, the first: ${publisher.tally.firstFailure}`);
  return {
    publicationsPerSec: publications / seconds,
    requestsPerSec: requests / seconds,
    deliveredPerSec: (b.frames - a.frames) / seconds,
    deliveryP50Ms: (d50 as number) / 1000,
    deliveryP99Ms: (d99 as number) / 1000,
    requestP50Ms: (r50 as number) / 1000,
    requestP99Ms: (r99 as number) / 1000,
    latencySamples: deliveries.length,
    serverCpu: (b.server - a.server) / seconds,
    loadCoreBusy: cores[LOADER_CORE] as number,
    serverCoreBusy: cores[SERVER_CORE] as number,
    failures: publisher.tally.failures,
    missing: Math.max(0, expected - tally.frames),
    otherCpu: others.cores,
    otherTop: others.top,
  };
}

function formatReport(r: Results): string {
  const rows = r.scenarios.map((s) => {
    const m = (k: keyof Run) => spread(s.runs.map((x) => x[k] as number)).median;
    return `| ${s.name} | ${s.batch} | ${Math.round(s.publicationsPerSec.median).toLocaleString('en')} | ${Math.round(m('requestsPerSec')).toLocaleString('en')} | ${Math.round(m('deliveredPerSec')).toLocaleString('en')} | ${s.deliveryP50Ms.median.toFixed(1)} | ${s.deliveryP99Ms.median.toFixed(1)} | ${s.requestP99Ms.median.toFixed(1)} | ${Math.round(m('serverCpu') * 100)}% | ${s.runs.reduce((x, y) => x + y.missing, 0)} |`;
  });
  return [
    `HTTP API bench (${r.plan.mode}), commit ${r.meta.commit.slice(0, 7)}, ${r.meta.cpu}: ${r.plan.clients} clients in the room, ${r.plan.concurrency} requests in flight, ${r.plan.runs} run(s) per scenario (medians)`,
    '',
    '| Scenario | Batch | Publications/s | Requests/s | Deliveries/s | p50 request→delivery ms | p99 request→delivery ms | p99 request→answer ms | Server CPU | Missing |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const p = plan();
  execFileSync('taskset', ['-a', '-p', '-c', String(LOADER_CORE), String(process.pid)], { stdio: 'ignore' });
  const meta = collectMeta(args);
  log(`HTTP API bench (${p.mode}), ${meta.cores} cores: ${p.clients} clients, concurrency ${p.concurrency}`);
  const started = Date.now();
  const server = await ServerProcess.startFile('http-api', fileURLToPath(new URL('server.ts', import.meta.url)), { BENCH_HTTP_API_KEY: KEY });
  let conns: LoadConnection[] = [];
  const scenarios: ScenarioResult[] = [];
  try {
    const tally = new Tally();
    conns = await openConnections({ port: server.port, dialect: switchboardDialect, count: p.clients, concurrency: 20, tally });
    await joinAll(conns, switchboardDialect, 'bench', 20);
    await joinAll(conns, switchboardDialect, 'durable', 20);
    for (let k = 0; k < p.probes; k++) (conns[Math.floor(((k + 0.5) * p.clients) / p.probes)] as LoadConnection).probe = true;
    for (const c of conns) {
      c.decodeAll = false;
      c.onCount((conn) => switchboardDialect.onCount?.(conn));
    }
    // Unmeasured: the first requests run through code neither side has compiled yet.
    await measure(server, tally, p.clients, { ...p, warmupMs: 0, measureMs: 1500 }, SCENARIOS[0] as Scenario);
    for (const s of SCENARIOS) {
      const runs: Run[] = [];
      for (let r = 0; r < p.runs; r++) {
        let run = await measure(server, tally, p.clients, p, s);
        for (let attempt = 2; attempt <= ATTEMPTS && run.otherCpu > DISTURBED; attempt++) {
          log(`    (other processes used ${Math.round(run.otherCpu * 100)}% of a core — ${run.otherTop.join(', ')}; measuring again)`);
          const again = await measure(server, tally, p.clients, p, s);
          if (again.otherCpu < run.otherCpu) run = again;
        }
        runs.push(run);
        log(
          `  ${s.name} run ${r + 1}: ${Math.round(run.publicationsPerSec).toLocaleString('en')} publications/s (${Math.round(run.requestsPerSec).toLocaleString('en')} requests/s), ` +
            `request→delivery p50 ${run.deliveryP50Ms.toFixed(1)} ms p99 ${run.deliveryP99Ms.toFixed(1)} ms, request→answer p99 ${run.requestP99Ms.toFixed(1)} ms, ` +
            `server CPU ${Math.round(run.serverCpu * 100)}%, load core ${Math.round(run.loadCoreBusy * 100)}%, other ${Math.round(run.otherCpu * 100)}%${run.missing ? `, ${run.missing} MISSING` : ''}`,
        );
      }
      scenarios.push({
        ...s,
        runs,
        publicationsPerSec: spread(runs.map((x) => x.publicationsPerSec)),
        deliveryP50Ms: spread(runs.map((x) => x.deliveryP50Ms)),
        deliveryP99Ms: spread(runs.map((x) => x.deliveryP99Ms)),
        requestP99Ms: spread(runs.map((x) => x.requestP99Ms)),
      });
    }
  } finally {
    closeAll(conns);
    await server.stop();
  }
  meta.durationSeconds = Math.round((Date.now() - started) / 1000);
  const results: Results = { meta, plan: p, machine: MACHINE, scenarios };
  writeResults(option('out') ?? `${ROOT}bench/results/http-api-${meta.date.replace(/[:.]/g, '-')}.json`, results);
  console.log(formatReport(results));
}

runMain(main);
