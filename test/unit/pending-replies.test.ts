import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { PendingReplies, type ReplyTimers } from '../../src/protocol/pending-replies.js';

/** Timers run by hand: `fire()` runs every started, uncancelled timeout. */
function manualTimers(): ReplyTimers & { running: Set<number>; fire(): void } {
  const callbacks = new Map<number, () => void>();
  let next = 1;
  return {
    running: new Set(),
    start(onTimeout) {
      const id = next++;
      callbacks.set(id, onTimeout);
      this.running.add(id);
      return id;
    },
    cancel(timer) {
      callbacks.delete(timer as number);
      this.running.delete(timer as number);
    },
    fire() {
      const due = [...callbacks.values()];
      callbacks.clear();
      this.running.clear();
      for (const onTimeout of due) onTimeout();
    },
  };
}

describe('PendingReplies', () => {
  test('create hands out increasing refs starting at 1 and counts pending requests', async () => {
    const pending = new PendingReplies(manualTimers());
    const a = pending.create(Infinity, 'a');
    const b = pending.create(Infinity, 'b');
    assert.equal(a.ref, 1);
    assert.equal(b.ref, 2);
    assert.equal(pending.size, 2);
    pending.rejectAll(new SwitchboardError('closed', 'test over'));
    await Promise.allSettled([a.reply, b.reply]);
  });

  test('settle with data resolves the matching request only', async () => {
    const pending = new PendingReplies(manualTimers());
    const a = pending.create(10_000, 'a');
    const b = pending.create(10_000, 'b');
    assert.equal(pending.settle({ type: 'reply', ref: b.ref, data: { sum: 3 } }), true);
    assert.deepEqual(await b.reply, { sum: 3 });
    assert.equal(pending.size, 1);
    assert.equal(pending.settle({ type: 'reply', ref: a.ref }), true);
    assert.equal(await a.reply, undefined);
    assert.equal(pending.size, 0);
  });

  test('settle with an error rejects with a SwitchboardError carrying its code and message', async () => {
    const pending = new PendingReplies(manualTimers());
    const { ref, reply } = pending.create(10_000, 'q');
    assert.equal(pending.settle({ type: 'reply', ref, error: { code: 'out_of_stock', message: 'only 2 left' } }), true);
    await assert.rejects(reply, (err: unknown) => {
      assert.ok(err instanceof SwitchboardError);
      assert.equal(err.code, 'out_of_stock');
      assert.equal(err.message, 'only 2 left');
      return true;
    });
    assert.equal(pending.size, 0);
  });

  test('settle returns false for a ref it never handed out, and changes nothing', async () => {
    const pending = new PendingReplies(manualTimers());
    const { ref, reply } = pending.create(10_000, 'q');
    assert.equal(pending.settle({ type: 'reply', ref: ref + 100, data: 1 }), false);
    assert.equal(pending.size, 1);
    pending.settle({ type: 'reply', ref, data: 'mine' });
    assert.equal(await reply, 'mine');
  });

  test('a second reply to the same ref is ignored', async () => {
    const pending = new PendingReplies(manualTimers());
    const { ref, reply } = pending.create(10_000, 'q');
    assert.equal(pending.settle({ type: 'reply', ref, data: 'first' }), true);
    assert.equal(pending.settle({ type: 'reply', ref, data: 'second' }), false);
    assert.equal(await reply, 'first');
  });

  test('a request without a reply rejects with timeout, and a late reply is ignored', async () => {
    const timers = manualTimers();
    const pending = new PendingReplies(timers);
    const { ref, reply } = pending.create(5, 'emitWithAck("slow")');
    timers.fire();
    await assert.rejects(reply, (err: unknown) => {
      assert.ok(err instanceof SwitchboardError);
      assert.equal(err.code, ErrorCode.Timeout);
      assert.match(err.message, /emitWithAck\("slow"\)/);
      return true;
    });
    assert.equal(pending.size, 0);
    assert.equal(pending.settle({ type: 'reply', ref, data: 'too late' }), false);
  });

  test('a reply before the timeout wins and cancels its timer', async () => {
    const timers = manualTimers();
    const pending = new PendingReplies(timers);
    const { ref, reply } = pending.create(5, 'q');
    assert.equal(timers.running.size, 1);
    pending.settle({ type: 'reply', ref, data: 'in time' });
    assert.equal(timers.running.size, 0);
    assert.equal(await reply, 'in time');
  });

  test('a timeout of 0 or Infinity means no timeout', async () => {
    const timers = manualTimers();
    const pending = new PendingReplies(timers);
    const a = pending.create(0, 'a');
    const b = pending.create(Infinity, 'b');
    assert.equal(timers.running.size, 0);
    timers.fire();
    assert.equal(pending.size, 2);
    pending.settle({ type: 'reply', ref: a.ref, data: 'a' });
    pending.settle({ type: 'reply', ref: b.ref, data: 'b' });
    assert.deepEqual(await Promise.all([a.reply, b.reply]), ['a', 'b']);
  });

  test('rejectAll rejects every pending request with the given error, cancels their timers, and later replies are ignored', async () => {
    const timers = manualTimers();
    const pending = new PendingReplies(timers);
    const requests = [pending.create(10_000, 'a'), pending.create(Infinity, 'b'), pending.create(10_000, 'c')];
    const error = new SwitchboardError(ErrorCode.Disconnected, 'connection lost');
    pending.rejectAll(error);
    assert.equal(pending.size, 0);
    assert.equal(timers.running.size, 0);
    for (const { reply } of requests) await assert.rejects(reply, (err: unknown) => err === error);
    assert.equal(pending.settle({ type: 'reply', ref: requests[0]!.ref, data: 1 }), false);
    const next = pending.create(10_000, 'd');
    assert.equal(next.ref, 4, 'refs are not reused after rejectAll');
    pending.settle({ type: 'reply', ref: next.ref, data: 'd' });
    assert.equal(await next.reply, 'd');
  });

  test('fail rejects one request and leaves the others pending', async () => {
    const timers = manualTimers();
    const pending = new PendingReplies(timers);
    const a = pending.create(10_000, 'a');
    const b = pending.create(10_000, 'b');
    const error = new SwitchboardError(ErrorCode.MessageTooBig, 'too big');
    pending.fail(a.ref, error);
    await assert.rejects(a.reply, (err: unknown) => err === error);
    assert.equal(pending.size, 1);
    assert.equal(timers.running.size, 1);
    pending.fail(a.ref, error); // unknown ref now: no effect
    pending.settle({ type: 'reply', ref: b.ref, data: 'b' });
    assert.equal(await b.reply, 'b');
  });
});

describe('the protocol layer', () => {
  // The client bundle uses it too, and it is specified as data: codecs and frames, no I/O and no clock.
  test('keeps no timers and imports nothing from node:', () => {
    const dir = join(import.meta.dirname, '../../src/protocol');
    const offending: string[] = [];
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const code = readFileSync(join(dir, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const use of ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'Date.now', 'performance.now', "from 'node:"]) {
        if (code.includes(use)) offending.push(`${file}: ${use}`);
      }
    }
    assert.deepEqual(offending, []);
  });
});
