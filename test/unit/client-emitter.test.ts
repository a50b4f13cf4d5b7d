import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../../src/client/emitter.js';

describe('Emitter', () => {
  it('calls listeners in order, once listeners only once', () => {
    const calls: string[] = [];
    const emitter = new Emitter(() => {});
    emitter.on('x', (v: string) => calls.push(`a${v}`));
    emitter.on('x', (v: string) => calls.push(`b${v}`), true);
    assert.equal(emitter.emit('x', '1'), 2);
    assert.equal(emitter.emit('x', '2'), 1);
    assert.deepEqual(calls, ['a1', 'b1', 'a2']);
  });

  it('off removes one listener, or all without a function', () => {
    const emitter = new Emitter(() => {});
    const f = () => {};
    emitter.on('x', f);
    emitter.on('x', () => {});
    emitter.off('x', f);
    assert.equal(emitter.listenerCount('x'), 1);
    emitter.off('x');
    assert.equal(emitter.listenerCount('x'), 0);
  });

  it('reports a throwing listener and still calls the next one', async () => {
    const reported: unknown[] = [];
    const emitter = new Emitter((e) => reported.push(e));
    let second = false;
    emitter.on('x', () => {
      throw new Error('boom');
    });
    emitter.on('x', async () => {
      second = true;
      throw new Error('async boom');
    });
    emitter.emit('x');
    await new Promise((r) => setImmediate(r));
    assert.equal(second, true);
    assert.deepEqual(reported.map((e) => (e as Error).message), ['boom', 'async boom']);
  });
});
