import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeCounts, LatencySamples } from '../../src/cli/bench/latency-stats.js';

test('nearest-rank percentiles of the samples, zeros when there are none', () => {
  assert.deepEqual(new LatencySamples().percentiles(), { count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  const samples = new LatencySamples();
  for (let ms = 100; ms >= 1; ms--) samples.add(ms);
  assert.deepEqual(samples.percentiles(), { count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  const one = new LatencySamples();
  one.add(1.26);
  assert.deepEqual(one.percentiles(), { count: 1, p50: 1.3, p95: 1.3, p99: 1.3, max: 1.3 });
});

test('failures are counted by code', () => {
  const counts = new CodeCounts();
  for (const code of ['unauthorized', 'timeout', 'unauthorized']) counts.add(code);
  assert.deepEqual(counts.byCode, { unauthorized: 2, timeout: 1 });
  assert.equal(counts.total, 3);
});
