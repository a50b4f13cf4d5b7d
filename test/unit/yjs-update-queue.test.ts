import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Y from 'yjs';
import { UpdateQueue } from '../../src/yjs/client/update-queue.js';

/** Updates of a real document: each insert is one transaction, one update. */
function edits(n: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < n; i++) doc.getText('t').insert(i, String(i % 10));
  return { doc, updates };
}

const textOf = (update: Uint8Array): string => {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc.getText('t').toString();
};

test('an update leaves at the end of the task that made it, without a timer', async () => {
  const sent: Uint8Array[] = [];
  const queue = new UpdateQueue((u) => (sent.push(u), Promise.resolve()));
  const { updates } = edits(1);
  queue.push(updates[0]!);
  assert.equal(sent.length, 0);
  await Promise.resolve();
  assert.equal(sent.length, 1);
});

test('updates made while one is unanswered wait for the answer and leave as one', async () => {
  const sent: Uint8Array[] = [];
  const answers: (() => void)[] = [];
  const queue = new UpdateQueue((u) => {
    sent.push(u);
    return new Promise<void>((resolve) => answers.push(resolve));
  });
  const { updates } = edits(5);
  queue.push(updates[0]!);
  await Promise.resolve();
  for (const u of updates.slice(1)) queue.push(u);
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 1, 'nothing more leaves before the first is answered');
  answers[0]!();
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 2);
  assert.equal(textOf(Y.mergeUpdates(sent)), '01234', 'the merged update carries the four waiting edits');
});

test('a failed request releases the queue too, and clear() forgets what waits', async () => {
  const sent: Uint8Array[] = [];
  let fail: (() => void) | undefined;
  const queue = new UpdateQueue((u) => {
    sent.push(u);
    return new Promise<void>((_, reject) => (fail = () => reject(new Error('lost'))));
  });
  const { updates } = edits(3);
  queue.push(updates[0]!);
  await Promise.resolve();
  queue.push(updates[1]!);
  fail!();
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 2, 'the waiting update left after the failure');
  queue.clear();
  queue.push(updates[2]!);
  await Promise.resolve();
  assert.equal(sent.length, 3, 'after clear() an unanswered request holds nothing back');
});

test('nothing sent (not synced): the next update is not held back', async () => {
  let calls = 0;
  const queue = new UpdateQueue(() => (calls++, undefined));
  const { updates } = edits(2);
  queue.push(updates[0]!);
  await Promise.resolve();
  queue.push(updates[1]!);
  await Promise.resolve();
  assert.equal(calls, 2);
});
