import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NumberTally, SessionLog, unreportedLoss } from '../helpers/delivery-tally.js';
import { flapTimeline, HARSH_PROFILE, profile } from '../helpers/flap-profile.js';
import { seededRandom } from '../helpers/seeded-random.js';

test('a flap timeline is the seed alone: same seed, same outages; another seed, others', () => {
  const a = flapTimeline(HARSH_PROFILE, seededRandom(42), 60_000);
  assert.deepEqual(flapTimeline(HARSH_PROFILE, seededRandom(42), 60_000), a);
  assert.notDeepEqual(flapTimeline(HARSH_PROFILE, seededRandom(43), 60_000), a);
});

test('the harsh timeline keeps to its profile: up 1–4 s between outages, out 0.1–0.9 s or 2–5 s, none starting after the end', () => {
  const periods = flapTimeline(HARSH_PROFILE, seededRandom(7), 600_000);
  let upFrom = 0;
  let short = 0;
  for (const p of periods) {
    const up = p.outAt - upFrom;
    assert.ok(up >= 1000 && up <= 4000, `up ${up} ms`);
    const isShort = p.outMs >= 100 && p.outMs <= 900;
    assert.ok(isShort || (p.outMs >= 2000 && p.outMs <= 5000), `out ${p.outMs} ms`);
    if (isShort) short++;
    assert.ok(p.outAt < 600_000);
    upFrom = p.outAt + p.outMs;
  }
  // 80% short, give or take what ~170 draws spread.
  assert.ok(short / periods.length > 0.7 && short / periods.length < 0.9, `short share ${short / periods.length}`);
  const kinds = new Set(periods.map((p) => p.kind));
  assert.deepEqual([...kinds].sort(), ['blackhole', 'fin', 'reset']);
  assert.ok(flapTimeline(profile({ blackholeChance: 0 }), seededRandom(7), 600_000).every((p) => p.kind !== 'blackhole'));
});

test('a number tally counts duplicates and late arrivals apart, and what never came', () => {
  const t = new NumberTally();
  for (const n of [0, 1, 3, 2, 3, 5]) t.record(n);
  assert.equal(t.received, 6);
  assert.equal(t.duplicates, 1);
  assert.equal(t.reordered, 1, '2 after 3');
  assert.deepEqual(t.missing(7), [4, 6]);
});

test('a session log tells resumed, restored (same id, not resumed) and new sessions apart', () => {
  const s = new SessionLog();
  s.connected(false, 'a');
  s.disconnected();
  s.connected(true, 'a');
  s.connected(false, 'a');
  s.connected(false, 'b');
  assert.deepEqual({ reconnects: s.reconnects, resumed: s.resumed, restored: s.restored, fresh: s.fresh }, { reconnects: 3, resumed: 1, restored: 1, fresh: 1 });
  assert.equal(s.allResumed, false);
});

test('loss is silent unless its offset lies in a reported recovered:false gap', () => {
  const offsetOf = (n: number): number => n + 1;
  assert.deepEqual(unreportedLoss([3, 4, 9], offsetOf, [{ fromOffset: 3, toOffset: 5 }]), [9]);
  assert.deepEqual(unreportedLoss([2], offsetOf, [{ fromOffset: 3, toOffset: 5 }]), [2], 'offset 3 is the last one seen, not part of the gap');
  assert.deepEqual(unreportedLoss([1], () => undefined, []), [1], 'never stored');
});
