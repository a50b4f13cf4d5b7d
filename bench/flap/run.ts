/**
 * `npm run bench:flap [-- --full] [--messages=N] [--seed=N] [--systems=a,b] [--blackhole=0.5] [--no-memory]`
 *
 * Issue 13's headline scenario, side by side: 20 clients in one room, numbered messages at
 * 200/s, each client's link flapping like a phone on a train (the harsh profile of
 * test/helpers/flap-profile.ts, seeded), for Socket.IO 4.8 without and with connection
 * state recovery (120 s), and Switchboard with an ordinary and a durable room. Then the
 * server memory each system spends per session held for a comeback. Writes
 * bench/results/flap-<timestamp>.json and prints a table. The default run sends 4,000
 * messages per system (about 2–4 minutes in all); --full sends the issue's 6,000.
 */
import { execFileSync } from 'node:child_process';
import { HARSH_PROFILE, profile } from '../../test/helpers/link-flap.js';
import { faultSeed } from '../../test/helpers/seeded-random.js';
import { collectMeta } from '../meta.js';
import { LOADER_CORE } from '../server-process.js';
import { flapHeartbeat } from './heartbeat.js';
import { type FlapPlan, runFlap, runHeldMemory } from './measure.js';
import { formatFlapReport, type FlapResults } from './report.js';
import { SYSTEM_NAMES, SYSTEMS, type SystemName } from './systems.js';
import { args, option, ROOT, log, writeResults } from '../cli.js';

const flag = (name: string): boolean => args.includes(`--${name}`);

function plan(): FlapPlan {
  const messages = Number(option('messages') ?? (flag('full') ? 6000 : 4000));
  const blackhole = Number(option('blackhole') ?? HARSH_PROFILE.blackholeChance);
  const seed = option('seed') !== undefined ? Number(option('seed')) : faultSeed();
  if (!(messages > 0) || !(blackhole >= 0 && blackhole <= 1) || !Number.isInteger(seed)) throw new Error('--messages must be positive, --blackhole in [0, 1], --seed an integer');
  return {
    seed,
    profile: profile({ blackholeChance: blackhole }),
    clients: 20,
    rate: 200,
    messages,
    // The SDK's backoff window is capped at 30 s: a client may wait that long before its comeback.
    settleMs: 40_000,
    memory: { sessions: 200, messages: 600 },
  };
}

function systems(): SystemName[] {
  const value = option('systems');
  if (!value) return [...SYSTEM_NAMES];
  const chosen = value.split(',') as SystemName[];
  for (const s of chosen) if (!SYSTEM_NAMES.includes(s)) throw new Error(`--systems: unknown "${s}" (one of ${SYSTEM_NAMES.join(', ')})`);
  return chosen;
}

async function main(): Promise<void> {
  const started = Date.now();
  const p = plan();
  // The clients and their links keep core 0; the servers get core 1 (bench/server-process.ts).
  execFileSync('taskset', ['-a', '-p', '-c', String(LOADER_CORE), String(process.pid)], { stdio: 'ignore' });
  const results: FlapResults = { meta: collectMeta(args), plan: { ...p, heartbeatMs: flapHeartbeat().interval }, flap: [], memory: [] };
  log(`flap bench of ${results.meta.commit.slice(0, 12)}${results.meta.uncommitted.length ? ` + ${results.meta.uncommitted.length} uncommitted changes` : ''}, seed ${p.seed}`);
  const chosen = systems();
  // Every system gets the same seed, so the same outages at the same moments of its run.
  for (const name of chosen) results.flap.push(await runFlap(SYSTEMS[name], p, log));
  if (!flag('no-memory')) for (const name of chosen) results.memory.push(await runHeldMemory(SYSTEMS[name], p, log));
  results.meta.durationSeconds = Math.round((Date.now() - started) / 1000);
  const file = `${ROOT}bench/results/flap-${results.meta.date.replace(/[:.]/g, '-')}.json`;
  writeResults(file, results, 2);
  console.log(formatFlapReport(results));
  log(`written to ${file}`);
}

await main();
