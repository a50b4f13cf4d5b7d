/**
 * `npm run fuzz`: a long bad-input soak outside `npm test` — the same checks as
 * test/integration/fuzz.test.ts (see test/helpers/fuzz-run.ts), with more frames and
 * several seeds, one after another, each on a fresh server.
 *
 *   npm run fuzz                              3 random seeds × 2 000 000 frames
 *   npm run fuzz -- --seeds=7,42 --frames=500000
 *   npm run fuzz -- --runs=10
 *   FUZZ_SEED=42 FUZZ_FRAMES=100000 npm run fuzz    replay one seed
 *   npm run fuzz -- --socketio --frames=20000   the Socket.IO front door instead
 *                                               (test/helpers/socketio-fuzz-run.ts; frames = cases)
 *
 * Exits 1 if any run failed, after printing each failing seed's replay command.
 */
import { parseArgs } from 'node:util';
import { countFromEnv, describeReport, runFuzz, seedFromEnv } from '../test/helpers/fuzz-run.js';
import { describeSocketIoReport, runSocketIoFuzz } from '../test/helpers/socketio-fuzz-run.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    runs: { type: 'string' },
    frames: { type: 'string' },
    concurrency: { type: 'string' },
    socketio: { type: 'boolean' },
  },
});

function count(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

const frames = count('frames', values.frames, countFromEnv('FUZZ_FRAMES', values.socketio ? 20_000 : 2_000_000));
const concurrency = count('concurrency', values.concurrency, values.socketio ? 8 : 32);
const seeds = values.seeds
  ? values.seeds.split(',').map((s) => seedFromEnv('--seeds', { '--seeds': s }))
  : process.env.FUZZ_SEED
    ? [seedFromEnv('FUZZ_SEED')]
    : Array.from({ length: count('runs', values.runs, 3) }, () => seedFromEnv('unset', {}));

console.log(`fuzzing: ${seeds.length} run(s) of ${frames} frames, ${concurrency} connections at a time; seeds ${seeds.join(', ')}`);
async function fuzzOnce(seed: number): Promise<{ lines: string[]; failures: string[] }> {
  if (values.socketio) {
    const report = await runSocketIoFuzz({ seed, cases: frames, concurrency });
    return { lines: describeSocketIoReport(report), failures: report.failures };
  }
  const report = await runFuzz({ seed, frames, concurrency });
  return { lines: describeReport(report), failures: report.failures };
}

const failed: number[] = [];
for (const seed of seeds) {
  console.log(`seed ${seed}: replay with FUZZ_SEED=${seed} FUZZ_FRAMES=${frames} npm run fuzz${values.socketio ? ' -- --socketio' : ''}`);
  const report = await fuzzOnce(seed);
  for (const line of report.lines) console.log(`  ${line}`);
  for (const failure of report.failures) console.log(`  FAIL ${failure}`);
  if (report.failures.length > 0) failed.push(seed);
}
if (failed.length > 0) {
  console.log(`\n${failed.length} of ${seeds.length} run(s) failed. Replay:`);
  for (const seed of failed) console.log(`  FUZZ_SEED=${seed} FUZZ_FRAMES=${frames} npm run fuzz${values.socketio ? ' -- --socketio' : ''}`);
  process.exitCode = 1;
} else {
  console.log(`\nall ${seeds.length} run(s) passed`);
}
