import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoggedBroadcast } from '../../src/server/resume-log.js';
import { ResumeLog } from '../../src/server/resume-log.js';
import { WaitingFrames } from '../../src/server/waiting-frames.js';
import { SharedFrame } from '../../src/transport/shared-frame.js';

/** A waiting session in some rooms of namespace '/', as Socket.frameOf decides. */
function waiter(log: ResumeLog, rooms: Set<string>, bounds = { frames: 100, bytes: 1 << 20 }) {
  let lost = 0;
  const frames = new WaitingFrames(
    log,
    {
      frameOf(entry: LoggedBroadcast) {
        if (entry.ns !== '/') return undefined;
        if (entry.rooms.length > 0 && !entry.rooms.some((r) => rooms.has(r))) return undefined;
        for (const r of entry.except) if (rooms.has(r)) return entry.exceptFrame;
        return entry.frame;
      },
      resumeLost() {
        lost++;
      },
    },
    bounds.frames,
    bounds.bytes,
  );
  return { frames, rooms, lost: () => lost };
}

/** Broadcast as BroadcastOperator does: log it, then hand it to the members. */
function broadcast(log: ResumeLog, members: ReturnType<typeof waiter>[], rooms: string[], text: string, except: string[] = []): SharedFrame {
  const frame = new SharedFrame(text);
  if (log.active) log.append('/', rooms, except, frame);
  for (const m of members) {
    const inTarget = rooms.length === 0 || rooms.some((r) => m.rooms.has(r));
    if (inTarget && !except.some((r) => m.rooms.has(r))) m.frames.countBroadcast();
  }
  return frame;
}

const texts = (kept: (string | SharedFrame)[] | undefined): string[] | undefined => kept?.map((k) => (typeof k === 'string' ? k : k.payload.toString()));

test('a waiting session takes back its own broadcasts from the log, merged with its own frames in the order produced', () => {
  const log = new ResumeLog(1 << 20);
  assert.equal(log.active, false);
  const before = new SharedFrame('"not logged: nobody waits"');
  log.append('/', [], [], before);
  const a = waiter(log, new Set(['a']));
  const b = waiter(log, new Set(['b']));
  assert.equal(log.active, true);
  broadcast(log, [a, b], ['a'], '"a1"');
  a.frames.keep('"reply"');
  broadcast(log, [a, b], ['b'], '"b1"');
  broadcast(log, [a, b], [], '"all"');
  broadcast(log, [a, b], ['a', 'b'], '"ab-except-b"', ['b']);
  assert.deepEqual(texts(a.frames.frames()), ['"a1"', '"reply"', '"all"', '"ab-except-b"']);
  assert.deepEqual(texts(b.frames.frames()), ['"b1"', '"all"']);
  a.frames.close();
  b.frames.close();
  assert.equal(log.active, false);
  assert.equal(log.length, 0, 'nothing kept once nobody waits');
});

test('a count that does not match what the log selects refuses the resume instead of a hole', () => {
  const log = new ResumeLog(1 << 20);
  const a = waiter(log, new Set(['a']));
  broadcast(log, [a], ['a'], '"a1"');
  a.frames.countBroadcast(); // handed a broadcast the log never saw
  assert.equal(a.frames.frames(), undefined);
});

test('settle() before a membership change keeps what the old rooms selected', () => {
  const log = new ResumeLog(1 << 20);
  const a = waiter(log, new Set(['a']));
  broadcast(log, [a], ['a'], '"a1"');
  broadcast(log, [a], ['b'], '"b0"');
  assert.equal(a.frames.settle(), true);
  a.rooms.add('b');
  a.rooms.delete('a');
  broadcast(log, [a], ['b'], '"b1"');
  broadcast(log, [a], ['a'], '"a2"');
  assert.deepEqual(texts(a.frames.frames()), ['"a1"', '"b1"']);
});

test('entries no waiting session needs are pruned; past the byte bound the sessions a dropped entry was for are lost, the others skip it', () => {
  const log = new ResumeLog(400);
  const busy = waiter(log, new Set(['busy']));
  const quiet = waiter(log, new Set(['quiet']));
  for (let i = 0; i < 20; i++) broadcast(log, [busy, quiet], ['busy'], `"${'x'.repeat(40)}${i}"`);
  assert.equal(busy.lost(), 1, 'its broadcasts were dropped');
  assert.equal(quiet.lost(), 0);
  assert.ok(log.heldBytes <= 400);
  broadcast(log, [busy, quiet], ['quiet'], '"q"');
  assert.deepEqual(texts(quiet.frames.frames()), ['"q"']);
  quiet.frames.close();
  assert.equal(log.length, 0);
});

test('own frames past the per-session bound break the session', () => {
  const log = new ResumeLog(1 << 20);
  const a = waiter(log, new Set(['a']), { frames: 2, bytes: 1 << 20 });
  assert.equal(a.frames.keep('1'), true);
  assert.equal(a.frames.keep('2'), true);
  assert.equal(a.frames.keep('3'), false);
  assert.equal(a.frames.intact, false);
  assert.equal(a.frames.frames(), undefined);
});
