import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmitBuffer } from '../../src/client/emit-buffer.js';
import { SwitchboardError } from '../../src/protocol/errors.js';

const frame = (text: string) => ({ text, bytes: Buffer.byteLength(text) });

describe('EmitBuffer', () => {
  it('keeps frames in order and tracks their bytes', () => {
    const buffer = new EmitBuffer({ count: 10, bytes: 1000 });
    buffer.push(frame('a'));
    buffer.push(frame('bb'));
    buffer.push(frame('ccc'));
    assert.equal(buffer.size, 3);
    assert.equal(buffer.bytes, 6);
    assert.equal(buffer.peek()?.text, 'a');
    assert.deepEqual([buffer.shift()?.text, buffer.shift()?.text, buffer.shift()?.text], ['a', 'bb', 'ccc']);
    assert.equal(buffer.bytes, 0);
    assert.equal(buffer.shift(), undefined);
  });

  it('throws buffer_full past the count limit and keeps what it had', () => {
    const buffer = new EmitBuffer({ count: 2, bytes: 1000 });
    buffer.push(frame('a'));
    buffer.push(frame('b'));
    assert.throws(
      () => buffer.push(frame('c')),
      (e: unknown) => e instanceof SwitchboardError && e.code === 'buffer_full' && /2 frames/.test(e.message),
    );
    assert.equal(buffer.size, 2);
  });

  it('throws buffer_full past the byte limit', () => {
    const buffer = new EmitBuffer({ count: 100, bytes: 10 });
    buffer.push(frame('12345678'));
    assert.throws(() => buffer.push(frame('123')), (e: unknown) => e instanceof SwitchboardError && e.code === 'buffer_full' && /10 bytes/.test(e.message));
    buffer.push(frame('12')); // exactly at the limit is fine
    assert.equal(buffer.bytes, 10);
  });

  it('removes a frame from the middle and frees its bytes', () => {
    const buffer = new EmitBuffer({ count: 3, bytes: 100 });
    const a = frame('a');
    const b = frame('bbbb');
    buffer.push(a);
    buffer.push(b);
    buffer.push(frame('c'));
    assert.equal(buffer.remove(b), true);
    assert.equal(buffer.remove(b), false);
    assert.equal(buffer.bytes, 2);
    buffer.push(frame('d')); // space freed
    assert.deepEqual(buffer.clear().map((f) => f.text), ['a', 'c', 'd']);
    assert.equal(buffer.size, 0);
    assert.equal(buffer.bytes, 0);
  });
});
