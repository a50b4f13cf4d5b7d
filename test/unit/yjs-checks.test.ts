/**
 * The pure parts of the document host: the checks bytes from clients pass before they touch
 * a document, who owns which awareness states, and the per-document task queue.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { AwarenessOwners } from '../../src/yjs/awareness-owners.js';
import { KeyedQueue } from '../../src/yjs/keyed-queue.js';
import { mergeStoredUpdates } from '../../src/yjs/compaction.js';
import { AwarenessCheck, checkStateVector, checkUpdate, updateBytes } from '../../src/yjs/update-checks.js';

function awarenessOf(state: Record<string, unknown> | null): { update: Uint8Array; clientID: number } {
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  clearInterval(awareness._checkInterval);
  awareness.setLocalState(state ?? { x: 1 });
  if (state === null) removeAwarenessStates(awareness, [doc.clientID], null);
  const update = encodeAwarenessUpdate(awareness, [doc.clientID]);
  awareness.destroy();
  return { update, clientID: doc.clientID };
}

describe('update checks', () => {
  test('a real update passes; garbage, truncation and non-binary values are malformed_update', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hello');
    const update = Y.encodeStateAsUpdate(doc);
    checkUpdate(update);
    checkUpdate(new Uint8Array([0, 0]));
    for (const bad of [update.slice(0, 5), new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array([1, 1, 7, 0, 99])]) {
      assert.throws(() => checkUpdate(bad), { code: 'malformed_update' });
    }
    for (const bad of ['AAA', [0, 0], null, undefined, 5, { 0: 0 }, new ArrayBuffer(2)]) {
      assert.throws(() => updateBytes(bad), { code: 'malformed_update' });
    }
    assert.equal(updateBytes(update), update);
    checkStateVector(Y.encodeStateVector(doc));
    assert.throws(() => checkStateVector(new Uint8Array([5, 1])), { code: 'malformed_update' });
  });

  test('an awareness check names the clients present and removed, and refuses what y-protocols cannot read', () => {
    const check = new AwarenessCheck();
    try {
      const present = awarenessOf({ user: { name: 'Ada' } });
      assert.deepEqual(check.clientsOf(present.update), { present: [present.clientID], removed: [] });
      const removed = awarenessOf(null);
      assert.deepEqual(check.clientsOf(removed.update), { present: [], removed: [removed.clientID] });
      // The scratch is reset: the same message reads the same way twice.
      assert.deepEqual(check.clientsOf(present.update), { present: [present.clientID], removed: [] });
      const text = new TextEncoder();
      const numberState = new Uint8Array([1, 7, 1, 1, ...text.encode('5')]);
      for (const bad of [new Uint8Array([2, 1, 1]), new Uint8Array([1, 5, 1, 3, ...text.encode('{"a')]), numberState]) {
        assert.throws(() => check.clientsOf(bad), { code: 'malformed_update' });
      }
    } finally {
      check.destroy();
    }
  });
});

describe('AwarenessOwners', () => {
  test('the last socket to send a clientID owns it; release gives back what a socket owned', () => {
    const owners = new AwarenessOwners();
    owners.claim('s1', [1, 2]);
    owners.claim('s2', [3]);
    owners.claim('s2', [2]); // a reconnected client on a new session takes its state along
    assert.deepEqual(owners.release('s1'), [1]);
    owners.forget([3]);
    assert.deepEqual(owners.release('s2'), [2]);
    assert.deepEqual(owners.release('s2'), []);
    assert.equal(owners.size, 0);
  });
});

describe('KeyedQueue', () => {
  test('tasks of one key run one at a time in order; other keys do not wait; a failure does not stop the queue', async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const a1 = queue.run('a', async () => {
      await gate;
      order.push('a1');
    });
    const a2 = queue.run('a', () => {
      order.push('a2');
      throw new Error('boom');
    });
    const a3 = queue.run('a', () => order.push('a3'));
    await queue.run('b', () => order.push('b1'));
    assert.deepEqual(order, ['b1']);
    release();
    await a1;
    await assert.rejects(a2, /boom/);
    await a3;
    assert.deepEqual(order, ['b1', 'a1', 'a2', 'a3']);
    await queue.idle();
  });
});

test('mergeStoredUpdates keeps updates whose dependencies are missing', () => {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  doc.getText('t').insert(0, 'a');
  doc.getText('t').insert(1, 'b');
  doc.getText('t').insert(2, 'c');
  // Without the first update, the others wait for it; merged, they must still be there.
  const merged = mergeStoredUpdates(updates.slice(1));
  const target = new Y.Doc();
  Y.applyUpdate(target, updates[0] as Uint8Array);
  Y.applyUpdate(target, merged);
  assert.equal(target.getText('t').toString(), 'abc');
});
