/**
 * `npm run bench [-- --quick] [--servers=a,b (switchboard-noresume only when named)] [--scenarios=fanout,memory,request-ack,connect-rate]
 * [--plot=path] [--no-plot] [--update-docs] [--report=results.json]`
 *
 * Runs every server under test as its own process on core 1 and the load generator (this
 * process) on core 0, scenario by scenario, and writes bench/results/<date>-<mode>.json,
 * a report on stdout and, for a full run, the fan-out plot beside the JSON. With
 * `--update-docs` a full run (or the `--report` file) becomes the one docs/PERFORMANCE.md
 * shows: its tables, docs/perf-fanout.png and bench/results/reference.json.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { recordInDocs } from './docs-update.js';
import { collectMeta } from './meta.js';
import { EXTRA_SERVERS, FULL, QUICK, SCENARIOS, SERVERS, type ScenarioName } from './plan.js';
import { renderFanoutPlot } from './plot.js';
import { formatReport, type BenchResults } from './report.js';
import { runConnectRate } from './scenarios/connect-rate.js';
import { runFanout } from './scenarios/fanout.js';
import { runMemory } from './scenarios/memory.js';
import { runRequestAck } from './scenarios/request-ack.js';
import { LOADER_CORE } from './server-process.js';
import type { ServerName } from './load/dialects.js';
import { args, option, ROOT, log, writeResults, runMain } from './cli.js';

const flag = (name: string): boolean => args.includes(`--${name}`);
/** `--name=a,b` chosen among `all`; without it, `defaults`. */
const list = <T extends string>(name: string, all: readonly T[], defaults: readonly T[] = all): T[] => {
  const value = option(name);
  if (!value) return [...defaults];
  const chosen = value.split(',') as T[];
  for (const c of chosen) if (!all.includes(c)) throw new Error(`--${name}: unknown "${c}" (one of ${all.join(', ')})`);
  return chosen;
};

async function main(): Promise<void> {
  const reportOnly = option('report');
  const updateDocs = flag('update-docs');
  if (reportOnly) {
    const results = JSON.parse(readFileSync(reportOnly, 'utf8')) as BenchResults;
    await publish(results, reportOnly, updateDocs);
    return;
  }
  const plan = flag('quick') ? QUICK : FULL;
  if (updateDocs && plan.mode !== 'full') throw new Error('--update-docs records full runs only');
  const servers = list<ServerName>('servers', [...SERVERS, ...EXTRA_SERVERS], SERVERS);
  const scenarios = list<ScenarioName>('scenarios', SCENARIOS);
  // The load generator keeps core 0, every thread of it; the servers get core 1.
  execFileSync('taskset', ['-a', '-p', '-c', String(LOADER_CORE), String(process.pid)], { stdio: 'ignore' });

  const results: BenchResults = { meta: collectMeta(args), plan, fanout: [], memory: [], requestAck: [], connectRate: [] };
  log(`bench (${plan.mode}) of ${results.meta.commit.slice(0, 12)}${results.meta.uncommitted.length ? ` + ${results.meta.uncommitted.length} uncommitted changes` : ''}: ${servers.join(', ')}`);
  const started = Date.now();
  if (scenarios.includes('fanout')) {
    for (const subscribers of plan.fanout.subscribers) {
      log(`fan-out to ${subscribers} subscribers`);
      for (const name of servers) results.fanout.push(...(await runFanout(name, { ...plan.fanout, subscribers: [subscribers] }, log)));
    }
  }
  if (scenarios.includes('memory')) {
    log(`idle memory at ${plan.memory.connections} connections`);
    for (const name of servers) results.memory.push(await runMemory(name, plan.memory, log));
  }
  if (scenarios.includes('request-ack')) {
    log(`request/ack round trips over ${plan.requestAck.connections} connections`);
    for (const name of servers) results.requestAck.push(...(await runRequestAck(name, plan.requestAck, log)));
  }
  if (scenarios.includes('connect-rate')) {
    log(`opening ${plan.connectRate.connections} connections, ${plan.connectRate.concurrency} at a time`);
    for (const name of servers) results.connectRate.push(await runConnectRate(name, plan.connectRate, log));
  }
  results.meta.durationSeconds = Math.round((Date.now() - started) / 1000);

  const file = `${ROOT}bench/results/${results.meta.date.replace(/[:.]/g, '-')}-${plan.mode}.json`;
  writeResults(file, results);
  await publish(results, file, updateDocs);
}

/** The report on stdout, the plot, and with `--update-docs` the docs' copy of both. */
async function publish(results: BenchResults, file: string, updateDocs: boolean): Promise<void> {
  const report = formatReport(results);
  console.log(report);
  const defaultPlot = updateDocs ? `${ROOT}docs/perf-fanout.png` : results.plan.mode === 'full' ? file.replace(/\.json$/, '-fanout.png') : undefined;
  const plotPath = option('plot') ?? defaultPlot;
  if (plotPath && !flag('no-plot') && results.fanout.length > 0) {
    await renderFanoutPlot(results, plotPath);
    log(`plot: ${plotPath}`);
  }
  if (updateDocs) {
    recordInDocs(ROOT, report, file);
    log('docs/PERFORMANCE.md and bench/results/reference.json now show this run');
  }
}

runMain(main);
