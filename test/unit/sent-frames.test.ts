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

test('past the frame or byte bound the oldest are forgotten; shared frames count their payload bytes', () => {
  const byFrames = new SentFrames(3, 1 << 20);
  for (let i = 1; i <= 5; i++) byFrames.add(`f${i}`);
  assert.equal(byFrames.canReplayAfter(1), false);
  assert.deepEqual(byFrames.after(2), ['f3', 'f4', 'f5']);

  const byBytes = new SentFrames(100, 10);
  const frame = new SharedFrame('"abcd"'); // 6 bytes of payload
  byBytes.add(frame);
  assert.deepEqual(byBytes.after(0), [frame]);
  byBytes.add(frame);
  assert.deepEqual(byBytes.after(1), [frame], 'the first was forgotten: 12 bytes > 10');
  assert.equal(byBytes.canReplayAfter(0), false);
  // A single frame over the byte bound is still kept (a resume replays it).
  const big = new SentFrames(100, 4);
  big.add(frame);
  assert.deepEqual(big.after(0), [frame]);
});

test('pinned frames (a resume replay) are kept past the bounds until acknowledged; then the bounds apply again', () => {
  const sent = new SentFrames(3, 1 << 20);
  sent.add('a');
  for (let i = 1; i <= 20; i++) sent.add(`r${i}`, true);
  sent.add('b');
  sent.add('c');
  assert.equal(sent.canReplayAfter(0), true, 'nothing forgotten while pinned frames are unacknowledged');
  assert.equal(sent.after(0).length, 23);
  sent.acknowledge(21);
  assert.deepEqual(sent.after(21), ['b', 'c']);
  for (let i = 1; i <= 5; i++) sent.add(`d${i}`);
  assert.equal(sent.canReplayAfter(22), false, 'past the pins, the oldest go again');
  assert.deepEqual(sent.after(25), ['d3', 'd4', 'd5']);
});
