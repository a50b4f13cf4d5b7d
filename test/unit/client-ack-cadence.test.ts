import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ackCadence } from '../../src/client/ack-cadence.js';

test('a quarter of the bounds the server announces', () => {
  assert.deepEqual(ackCadence({ maxUnackedFrames: 1000, maxUnackedBytes: 1024 * 1024 }), { frames: 250, size: 256 * 1024 });
  assert.deepEqual(ackCadence({ maxUnackedFrames: 8, maxUnackedBytes: 4096 }), { frames: 2, size: 1024 });
});

test('at least one frame and one character, however small the bounds', () => {
  assert.deepEqual(ackCadence({ maxUnackedFrames: 2, maxUnackedBytes: 3 }), { frames: 1, size: 1 });
});

test('bounds not announced, null (resume off) or malformed: what a server with defaults keeps', () => {
  for (const limits of [undefined, null, {}, { maxUnackedFrames: null, maxUnackedBytes: null }, { maxUnackedFrames: '1000', maxUnackedBytes: -1 }, { maxUnackedFrames: Infinity }]) {
    assert.deepEqual(ackCadence(limits), { frames: 250, size: 256 * 1024 }, JSON.stringify(limits));
  }
});
