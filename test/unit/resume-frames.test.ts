import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResumeFrames } from '../../src/server/resume-frames.js';
import { ResumeLog } from '../../src/server/resume-log.js';
import { SharedFrame } from '../../src/transport/shared-frame.js';

/** A session in room 'r' of '/', with the log it shares with the node. */
function setup(maxFrames = 3) {
  const log = new ResumeLog(1 << 20);
  let lost = 0;
  const kept = new ResumeFrames(
    log,
    {
      frameOf: (entry) => (entry.rooms.includes('r') ? entry.frame : undefined),
      resumeLost: () => {
        lost++;
      },
    },
    { maxFrames, maxBytes: 1 << 20, maxUnackedMs: 60_000 },
  );
  /** A broadcast to room 'r' as BroadcastOperator hands it out. */
  const broadcast = (text: string, live = true): void => {
    const frame = new SharedFrame(text);
    if (log.active) log.append('/', ['r'], [], frame);
    if (live) kept.sentOnLink(frame, true);
    else kept.keptWhileAway(frame, true);
  };
  return { log, kept, broadcast, lost: () => lost };
}

const texts = (frames: (string | SharedFrame)[]): string[] => frames.map((f) => (typeof f === 'string' ? f : f.payload.toString()));

test('a live link past the bounds keeps broadcasts by position: a resume from before replays every frame in order', () => {
  const { kept, broadcast, log } = setup(3);
  for (let i = 1; i <= 3; i++) broadcast(`"b${i}"`);
  assert.equal(log.active, true, 'past the bounds the log keeps what follows');
  kept.sentOnLink('"own"', false);
  for (let i = 4; i <= 6; i++) broadcast(`"b${i}"`);
  assert.equal(kept.sent, 7);
  kept.linkLost();
  broadcast('"away"', false);
  assert.equal(kept.canReplayAfter(1), true);
  assert.deepEqual(texts(kept.replayAfter(1)), ['"b2"', '"b3"', '"own"', '"b4"', '"b5"', '"b6"', '"away"']);
  assert.equal(log.active, false, 'folded back: the log keeps nothing for it');
  assert.equal(kept.sent, 8);
  assert.equal(kept.canReplayAfter(1), true, 'replayed frames stay kept until acknowledged');
});

test('an acknowledgement past the first part folds the rest back; one from before is refused after it', () => {
  const { kept, broadcast, log } = setup(2);
  for (let i = 1; i <= 5; i++) broadcast(`"b${i}"`);
  kept.acknowledge(4);
  assert.equal(log.active, false);
  assert.equal(kept.canReplayAfter(3), false);
  assert.deepEqual(texts(kept.replayAfter(4)), ['"b5"']);
});

test('frames for the session alone past the bounds while away: not resumable', () => {
  const { kept } = setup(2);
  kept.linkLost();
  assert.equal(kept.keptWhileAway('"1"', false), true);
  assert.equal(kept.keptWhileAway('"2"', false), true);
  assert.equal(kept.keptWhileAway('"3"', false), false);
  assert.equal(kept.canReplayAfter(0), false);
});
