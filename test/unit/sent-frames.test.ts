import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SentFrames } from '../../src/server/sent-frames.js';
import { SharedFrame } from '../../src/transport/shared-frame.js';

test('frames are numbered from 1; acknowledged ones are forgotten; the rest replay in order, across the ring wrapping', () => {
  const sent = new SentFrames(10, 1 << 20);
  let n = 0;
  const add = (k: number): void => {
    for (let i = 0; i < k; i++) sent.add(`f${++n}`);
  };
  add(6);
  assert.equal(sent.sent, 6);
  assert.deepEqual(sent.after(3), ['f4', 'f5', 'f6']);
  sent.acknowledge(4);
  assert.equal(sent.canReplayAfter(3), false, 'frame 4 is forgotten');
  assert.equal(sent.canReplayAfter(4), true);
  // Wraps around the ring (capacity 8, then 11) many times while acknowledgements follow.
  for (let round = 0; round < 50; round++) {
    add(7);
    assert.deepEqual(sent.after(n - 3), [`f${n - 2}`, `f${n - 1}`, `f${n}`]);
    sent.acknowledge(n - 2);
    assert.deepEqual(sent.after(n - 2), [`f${n - 1}`, `f${n}`]);
  }
  assert.equal(sent.canReplayAfter(n + 1), false, 'not in the future');
  sent.acknowledge(n);
  assert.deepEqual(sent.after(n), []);
  assert.equal(sent.canReplayAfter(n), true);
  add(1);
  assert.deepEqual(sent.after(n - 1), [`f${n}`]);
});

test('nothing is forgotten before it is acknowledged; `over` says the bounds are reached; shared frames count their payload bytes', () => {
  const byFrames = new SentFrames(3, 1 << 20);
  for (let i = 1; i <= 2; i++) byFrames.add(`f${i}`);
  assert.equal(byFrames.over, false);
  for (let i = 3; i <= 5; i++) byFrames.add(`f${i}`);
  assert.equal(byFrames.over, true);
  assert.deepEqual(byFrames.after(0), ['f1', 'f2', 'f3', 'f4', 'f5'], 'a replay longer than the bound stays whole');
  byFrames.acknowledge(4);
  assert.equal(byFrames.over, false);

  const byBytes = new SentFrames(100, 10);
  const frame = new SharedFrame('"abcd"'); // 6 bytes of payload
  byBytes.add(frame);
  assert.equal(byBytes.over, false);
  byBytes.add(frame);
  assert.equal(byBytes.over, true, '12 bytes >= 10');
  assert.deepEqual(byBytes.after(0), [frame, frame]);
});

test('skipTo forgets what is kept and counts on: a resume from before is refused', () => {
  const sent = new SentFrames(10, 1 << 20);
  sent.add('a');
  sent.add('b');
  sent.skipTo(7);
  assert.equal(sent.sent, 7);
  assert.equal(sent.canReplayAfter(1), false);
  assert.equal(sent.canReplayAfter(7), true);
  sent.add('h');
  assert.deepEqual(sent.after(7), ['h']);
});
