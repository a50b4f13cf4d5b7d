import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../../src/server/token-bucket.js';

test('a token bucket allows a burst, then the refill rate, and is full again after a quiet while', () => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 3 }, 0);
  assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false]);
  assert.equal(bucket.take(50), false, 'half a token after 50 ms');
  assert.equal(bucket.take(100), true, 'one token after 100 ms');
  assert.equal(bucket.take(100), false);
  assert.equal(bucket.isFull(200), false);
  assert.equal(bucket.isFull(10_000), true, 'never more than the burst');
  assert.deepEqual([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)], [true, true, true, false]);
});

test('an unbounded bucket never refuses', () => {
  const bucket = new TokenBucket({ perSecond: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY }, 0);
  for (let i = 0; i < 1000; i++) assert.equal(bucket.take(0), true);
});
