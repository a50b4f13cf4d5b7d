/**
 * Bad-input fuzzing (issue 5): at least 100 000 random and mutated frames thrown at a live
 * server through real sockets — see test/helpers/fuzz-run.ts for what is checked and
 * test/helpers/frame-fuzzer.ts for what is sent. The seed is printed (and in the test's
 * name); replay a failure with FUZZ_SEED=<seed>, choose the count with FUZZ_FRAMES=<n>.
 * Longer soaks: `npm run fuzz`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countFromEnv, describeReport, runFuzz, seedFromEnv } from '../helpers/fuzz-run.js';

const seed = seedFromEnv('FUZZ_SEED');
const frames = countFromEnv('FUZZ_FRAMES', 100_000);
const replay = `FUZZ_SEED=${seed} FUZZ_FRAMES=${frames} node --import tsx --test test/integration/fuzz.test.ts`;

test(`fuzz: ${frames} random and mutated frames; no crash, only documented codes, every bad frame answered, counts back to zero (seed ${seed})`, { timeout: 180_000 }, async (t) => {
  t.diagnostic(`replay: ${replay}`);
  const report = await runFuzz({ seed, frames });
  for (const line of describeReport(report)) t.diagnostic(line);
  assert.deepEqual(report.failures, [], `fuzz failures; replay with ${replay}`);
  // The run really exercised the checks: a third of the messages must be answered with an error.
  assert.ok(report.answers > frames / 5, `only ${report.answers} answers were checked`);
  for (const label of ['invalid-utf8', 'binary', 'deep/array', 'truncated', 'unknown-type']) {
    assert.ok((report.labels[label] ?? 0) > 0 || frames < 10_000, `no "${label}" message was sent`);
  }
  for (const code of ['1002', '1007', '1009', '4000']) assert.ok((report.closes[code] ?? 0) > 0 || frames < 10_000, `no connection closed with ${code}`);
});
