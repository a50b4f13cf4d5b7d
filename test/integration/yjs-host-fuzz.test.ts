/**
 * Random and mutated bytes as updates and awareness messages: the host answers each with
 * null or a documented code (never internal_error), stays up, stores only what it accepted,
 * and the stored document still loads and matches the server's. Replay a failing run with
 * YJS_FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { DocumentHost, MemoryDocumentStore, type AppendResult } from '../../src/yjs/index.js';
import { seededRandom, type SeededRandom } from '../helpers/seeded-random.js';
import { startServer } from '../helpers/server.js';
import { WireEditor } from './yjs-host-wire-editor.js';

/** A memory store that counts appends. */
class CountingStore extends MemoryDocumentStore {
  appends = 0;
  override async append(document: string, update: Uint8Array): Promise<AppendResult> {
    this.appends++;
    return super.append(document, update);
  }
}

function mutate(random: SeededRandom, source: Uint8Array): Uint8Array {
  const bytes = [...source];
  const edits = random.int(1, 4);
  for (let i = 0; i < edits; i++) {
    const at = random.int(0, Math.max(0, bytes.length - 1));
    switch (random.int(0, 4)) {
      case 0:
        bytes[at] = random.int(0, 255);
        break;
      case 1:
        bytes.splice(at, random.int(1, 8));
        break;
      case 2:
        bytes.splice(at, 0, ...Array.from({ length: random.int(1, 8) }, () => random.int(0, 255)));
        break;
      case 3:
        bytes.length = at;
        break;
      default:
        bytes[at] = random.pick([0, 0x7f, 0x80, 0xff]);
    }
  }
  return new Uint8Array(bytes);
}

test('random and mutated updates and awareness never crash the host nor reach the store or others unchecked', async () => {
  const seed = Number(process.env.YJS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = seededRandom(seed);
  const { sb, url } = await startServer();
  const reported: unknown[] = [];
  sb.on('error', (err) => reported.push(err));
  const store = new CountingStore();
  const host = new DocumentHost(sb, { documents: /^doc:/, store, maxDocumentBytes: 64 * 1024 });
  const alice = await WireEditor.open(url, 'doc:fuzz');
  const bob = await WireEditor.open(url, 'doc:fuzz');
  try {
    await alice.type('a document to mutate ');
    await alice.present({ user: { name: 'Alice', color: '#123456' }, cursor: { anchor: 3, head: 7 } });
    // Valid material to mutate: updates from another client, and awareness messages.
    const other = new Y.Doc();
    const samples: Uint8Array[] = [];
    other.on('update', (u: Uint8Array) => samples.push(u));
    other.getText('t').insert(0, 'other text');
    other.getMap('m').set('k', { nested: [1, 2, 3] });
    other.getText('t').delete(2, 3);
    samples.push(Y.encodeStateAsUpdate(other));
    const awareness = new Awareness(other);
    clearInterval(awareness._checkInterval);
    awareness.setLocalState({ user: { name: 'Other' } });
    const awarenessSamples = [encodeAwarenessUpdate(awareness, [other.clientID])];
    awareness.setLocalState(null);
    awarenessSamples.push(encodeAwarenessUpdate(awareness, [other.clientID]));
    awareness.destroy();

    const appendsBefore = store.appends;
    let accepted = 0;
    const codes = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const asAwareness = random.chance(0.4);
      const pool = asAwareness ? awarenessSamples : samples;
      const bytes = random.chance(0.3)
        ? new Uint8Array(Array.from({ length: random.int(0, 48) }, () => random.int(0, 255)))
        : mutate(random, random.pick(pool));
      const reply = asAwareness ? alice.sendAwareness(bytes) : alice.send(bytes);
      try {
        assert.equal(await reply, null);
        if (!asAwareness) accepted++;
      } catch (err) {
        const code = (err as { code?: string }).code ?? String(err);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        assert.ok(['malformed_update', 'document_too_large'].includes(code), `seed ${seed}: input ${i} (${Buffer.from(bytes).toString('hex')}) was answered ${code}`);
      }
    }
    assert.equal(store.appends - appendsBefore, accepted, `seed ${seed}: only accepted updates were stored`);
    assert.ok((codes.get('malformed_update') ?? 0) > 0, 'the fuzz reached the checks');
    assert.deepEqual(reported, [], `seed ${seed}: nothing failed inside the host`);

    // The stored log still loads, and holds what the server's document holds.
    const fromStore = new Y.Doc();
    for (const u of (await store.load('doc:fuzz')).updates) Y.applyUpdate(fromStore, u);
    const served = await host.document('doc:fuzz');
    assert.deepEqual(Y.encodeStateVector(fromStore), Y.encodeStateVector(served));
    assert.equal(fromStore.getText('t').toString(), served.getText('t').toString());
    // Bob got exactly the accepted updates (after alice's first one), then a marker.
    await alice.type('marker');
    await bob.until(() => bob.text.includes('marker'), `seed ${seed}: bob gets the marker`);
    assert.equal(bob.received.filter((r) => r.event === 'yjs:update').length, accepted + 2, `seed ${seed}: bob received only accepted updates`);
    // The host still serves: a late joiner syncs to the same document.
    const carol = await WireEditor.open(url, 'doc:fuzz');
    assert.equal(carol.text, served.getText('t').toString());
    carol.close();
  } finally {
    alice.close();
    bob.close();
    await sb.close({ deadline: 50 });
    await host.close();
  }
});
