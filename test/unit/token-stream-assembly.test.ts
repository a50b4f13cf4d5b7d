/**
 * The reader's assembly of token-stream messages (src/token-streams/client/message-assembly.ts):
 * each publication applied once and in order, duplicates ignored, gaps detected, a finish
 * delivering the whole text, the snapshot a reloaded page continues from.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageAssembly } from '../../src/token-streams/client/message-assembly.js';
import { readStreamEvent, TokenStreamEvent } from '../../src/token-streams/wire.js';
import type { Publication } from '../../src/protocol/frames.js';

const E = 'epoch-a';
let offset = 0;
function pub(event: string, data: unknown, at = ++offset, epoch = E): Publication {
  return { event, data, position: { epoch, offset: at } };
}
const start = (id: string, at?: number, meta?: unknown) => pub(TokenStreamEvent.Start, meta === undefined ? { id } : { id, meta }, at);
const chunk = (id: string, index: number, text: string, at?: number) => pub(TokenStreamEvent.Chunk, { id, index, text }, at);
const finish = (id: string, chunks: number, text: string, at?: number) => pub(TokenStreamEvent.Finish, { id, chunks, text }, at);

describe('MessageAssembly', () => {
  test('start, chunks and finish make one message; meta from start; the finish text wins', () => {
    offset = 0;
    const a = new MessageAssembly();
    assert.equal(a.apply(start('m1', undefined, { role: 'assistant' })).outcome, 'applied');
    assert.equal(a.apply(chunk('m1', 0, 'Hel')).changed?.text, 'Hel');
    const grown = a.apply(chunk('m1', 1, 'lo')).changed;
    assert.deepEqual(grown, { id: 'm1', text: 'Hello', chunks: 2, done: false, failed: false, partial: false, meta: { role: 'assistant' } });
    const done = a.apply(finish('m1', 2, 'Hello')).changed;
    assert.equal(done?.done, true);
    assert.equal(done?.text, 'Hello');
    assert.deepEqual(a.position, { epoch: E, offset: 4 });
  });

  test('a publication at or before the last position is a duplicate, and so is a chunk index already applied', () => {
    offset = 0;
    const a = new MessageAssembly();
    const s = start('m');
    const c0 = chunk('m', 0, 'a');
    a.apply(s);
    a.apply(c0);
    assert.equal(a.apply(c0).outcome, 'duplicate', 'same position again');
    assert.equal(a.apply(s).outcome, 'duplicate');
    // The same chunk published again at a later position (a producer's retry): its index decides.
    assert.equal(a.apply(chunk('m', 0, 'a')).outcome, 'duplicate');
    assert.equal(a.get('m')?.text, 'a');
  });

  test('a chunk past the next index is a gap: nothing changes, not even the position; with acceptGaps the message is partial', () => {
    offset = 0;
    const a = new MessageAssembly();
    a.apply(start('m'));
    a.apply(chunk('m', 0, 'one '));
    const before = a.position;
    const skipping = chunk('m', 2, 'three ');
    assert.equal(a.apply(skipping).outcome, 'gap');
    assert.deepEqual(a.position, before);
    assert.equal(a.get('m')?.text, 'one ');

    const accepted = a.apply(skipping, true).changed;
    assert.deepEqual(accepted && { text: accepted.text, chunks: accepted.chunks, partial: accepted.partial }, { text: 'three ', chunks: 3, partial: true });
    // The finish brings the whole text and clears partial.
    const done = a.apply(finish('m', 3, 'one two three ')).changed;
    assert.equal(done?.partial, false);
    assert.equal(done?.text, 'one two three ');
  });

  test('a chunk of an unknown message: index 0 starts it, a later index is a gap', () => {
    offset = 0;
    const a = new MessageAssembly();
    assert.equal(a.apply(chunk('late', 4, 'x')).outcome, 'gap');
    assert.equal(a.get('late'), undefined);
    assert.equal(a.apply(chunk('fresh', 0, 'y')).changed?.text, 'y');
  });

  test('a finish alone delivers the whole message (a late joiner); chunks and fails after it are ignored', () => {
    offset = 0;
    const a = new MessageAssembly();
    assert.equal(a.apply(finish('m', 3, 'all of it')).changed?.text, 'all of it');
    assert.equal(a.apply(chunk('m', 3, 'more')).outcome, 'ignored');
    assert.equal(a.apply(pub(TokenStreamEvent.Fail, { id: 'm', code: 'x', message: '' })).outcome, 'ignored');
    assert.equal(a.get('m')?.done, true);
  });

  test('fail keeps the text received, or takes the producer’s when it is at least as long', () => {
    offset = 0;
    const a = new MessageAssembly();
    a.apply(start('m'));
    a.apply(chunk('m', 0, 'part'));
    const failed = a.apply(pub(TokenStreamEvent.Fail, { id: 'm', code: 'idle_timeout', message: 'quiet' })).changed;
    assert.deepEqual(failed && { text: failed.text, failed: failed.failed, error: failed.error }, { text: 'part', failed: true, error: { code: 'idle_timeout', message: 'quiet' } });

    const b = new MessageAssembly();
    b.apply(chunk('n', 0, 'a'));
    const withText = b.apply(pub(TokenStreamEvent.Fail, { id: 'n', code: 'failed', message: '', chunks: 2, text: 'ab' })).changed;
    assert.equal(withText?.text, 'ab');
  });

  test('other events of the room move the position and change nothing; malformed token-stream data is ignored', () => {
    offset = 0;
    const a = new MessageAssembly();
    assert.equal(a.apply(pub('said', { text: 'hi' })).outcome, 'ignored');
    assert.equal(a.apply(pub(TokenStreamEvent.Chunk, { id: 'm', index: -1, text: 'x' })).outcome, 'ignored');
    assert.equal(a.apply(pub(TokenStreamEvent.Chunk, { id: '', index: 0, text: 'x' })).outcome, 'ignored');
    assert.deepEqual(a.position, { epoch: E, offset: 3 });
    assert.deepEqual(a.list(), []);
  });

  test('two messages interleaved are assembled apart', () => {
    offset = 0;
    const a = new MessageAssembly();
    a.apply(start('a'));
    a.apply(start('b'));
    a.apply(chunk('a', 0, 'A0 '));
    a.apply(chunk('b', 0, 'B0 '));
    a.apply(chunk('b', 1, 'B1 '));
    a.apply(chunk('a', 1, 'A1 '));
    assert.deepEqual(
      a.list().map((m) => [m.id, m.text]),
      [
        ['a', 'A0 A1 '],
        ['b', 'B0 B1 '],
      ],
    );
  });

  test('startsMidMessage: chunks without their start, unless the assembly has the earlier ones or a finish follows', () => {
    offset = 0;
    const a = new MessageAssembly();
    assert.equal(a.startsMidMessage([chunk('m', 3, 'x', 10)]), true);
    assert.equal(a.startsMidMessage([start('m', 9), chunk('m', 0, 'x', 10)]), false);
    assert.equal(a.startsMidMessage([chunk('m', 3, 'x', 10), finish('m', 4, 'wxyz', 11)]), false);
    a.apply(start('m', 1));
    for (let i = 0; i < 3; i++) a.apply(chunk('m', i, 'c', 2 + i));
    assert.equal(a.startsMidMessage([chunk('m', 3, 'x', 10)]), false, 'the assembly has chunks 0..2');
  });

  test('keep bounds the messages: the oldest go first', () => {
    offset = 0;
    const a = new MessageAssembly(2);
    for (const id of ['a', 'b', 'c']) a.apply(finish(id, 1, id));
    assert.deepEqual(
      a.list().map((m) => m.id),
      ['b', 'c'],
    );
  });

  test('a snapshot restores the messages and the position; a damaged one restores nothing', () => {
    offset = 0;
    const a = new MessageAssembly();
    a.apply(start('m', undefined, { by: 'bot' }));
    a.apply(chunk('m', 0, 'so far'));
    const saved = JSON.parse(JSON.stringify(a.snapshot()));
    const b = MessageAssembly.restore(saved);
    assert.ok(b);
    assert.deepEqual(b.list(), a.list());
    assert.deepEqual(b.position, a.position);
    assert.equal(b.apply(chunk('m', 1, ' and more')).changed?.text, 'so far and more');
    assert.equal(MessageAssembly.restore({ v: 2, messages: [] }), undefined);
    assert.equal(MessageAssembly.restore({ v: 1, messages: [{ id: 'x' }] }), undefined);
    assert.equal(MessageAssembly.restore('nope'), undefined);
  });

  test('isOtherEpoch and forgetPosition', () => {
    offset = 0;
    const a = new MessageAssembly();
    a.apply(start('m'));
    assert.equal(a.isOtherEpoch({ epoch: 'epoch-b', offset: 1 }), true);
    a.forgetPosition();
    assert.equal(a.isOtherEpoch({ epoch: 'epoch-b', offset: 1 }), false);
    assert.equal(a.apply(pub(TokenStreamEvent.Chunk, { id: 'm', index: 0, text: 'x' }, 1, 'epoch-b')).changed?.text, 'x');
  });
});

describe('readStreamEvent', () => {
  test('checks each event’s fields', () => {
    assert.deepEqual(readStreamEvent(TokenStreamEvent.Start, { id: 'a', meta: 1 }), { event: TokenStreamEvent.Start, data: { id: 'a', meta: 1 } });
    assert.equal(readStreamEvent(TokenStreamEvent.Finish, { id: 'a', chunks: 1 }), undefined);
    assert.equal(readStreamEvent(TokenStreamEvent.Chunk, { id: 'a'.repeat(129), index: 0, text: '' }), undefined);
    assert.deepEqual(readStreamEvent(TokenStreamEvent.Fail, { id: 'a', code: 'c', message: 'm', chunks: 1 }), { event: TokenStreamEvent.Fail, data: { id: 'a', code: 'c', message: 'm' } }, 'chunks without text is dropped');
    assert.equal(readStreamEvent('token-stream:other', { id: 'a' }), undefined);
    assert.equal(readStreamEvent(TokenStreamEvent.Start, null), undefined);
  });
});
