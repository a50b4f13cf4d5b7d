import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameRate, type FrameVerdict } from '../../src/server/frame-rate.js';

function takeMany(rate: FrameRate, n: number, now: number): FrameVerdict[] {
  return Array.from({ length: n }, () => rate.take(now));
}

test('a burst is accepted; the first frame over it is reported, later ones quietly rejected', () => {
  const rate = new FrameRate({ perSecond: 10, burst: 3 }, 0);
  assert.deepEqual(takeMany(rate, 5, 0), ['accept', 'accept', 'accept', 'reject', 'reject-quietly']);
});

test('rejected frames take tokens too: the client must slow below the rate to get through again', () => {
  const rate = new FrameRate({ perSecond: 10, burst: 3 }, 0);
  takeMany(rate, 5, 0); // 3 accepted, 2 rejected: 2 tokens in debt
  assert.equal(rate.take(200), 'reject-quietly', 'the 2 tokens refilled in 0.2 s only pay the debt');
  // -1 + 3 refilled by 0.5 s: 2 tokens.
  assert.deepEqual(takeMany(rate, 3, 500), ['accept', 'accept', 'reject'], 'the first rejection after an accepted frame is reported again');
});

test('a debt of more than burst frames is abuse: twice the burst at once, or a steady stream over the rate', () => {
  const atOnce = new FrameRate({ perSecond: 10, burst: 3 }, 0);
  assert.deepEqual(takeMany(atOnce, 7, 0), ['accept', 'accept', 'accept', 'reject', 'reject-quietly', 'reject-quietly', 'abuse']);
  assert.equal(atOnce.take(0), 'abuse', 'stays abuse while the debt is there');

  // 20 frames/s against 10/s and burst 3: 3 + 10 t = 20 t - 3 → debt past 3 after 0.6 s.
  const steady = new FrameRate({ perSecond: 10, burst: 3 }, 0);
  const verdicts: FrameVerdict[] = [];
  for (let t = 0; t <= 2000 && verdicts.at(-1) !== 'abuse'; t += 50) verdicts.push(steady.take(t));
  assert.equal(verdicts.at(-1), 'abuse');
  assert.ok(verdicts.length > 7, `a steady stream is judged over time, not at once: ${verdicts.join(',')}`);
});

test('a client at the rate is never rejected', () => {
  const rate = new FrameRate({ perSecond: 100, burst: 5 }, 0);
  for (let t = 0; t < 60_000; t += 10) assert.equal(rate.take(t), 'accept', `at ${t} ms`);
});

test('an infinite rate or burst never rejects', () => {
  const noRate = new FrameRate({ perSecond: Number.POSITIVE_INFINITY, burst: 2 }, 0);
  const noBurst = new FrameRate({ perSecond: 1, burst: Number.POSITIVE_INFINITY }, 0);
  for (let i = 0; i < 1000; i++) {
    assert.equal(noRate.take(0), 'accept');
    assert.equal(noBurst.take(0), 'accept');
  }
});
