/**
 * The document host against real servers and Node clients speaking the yjs:* events by hand
 * (docs/COLLABORATION.md, "Wire"): sync, fan-out, read-only viewers, authorizeJoin, refused
 * input that reaches no one and no store, the size bound, awareness that goes with its
 * socket, restarts on the file and SQLite stores, and two nodes on Redis.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import * as Y from 'yjs';
import { encodeAwarenessUpdate } from 'y-protocols/awareness';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard, SwitchboardOptions } from '../../src/server/index.js';
import { connect } from '../../src/client/node.js';
import { DocumentHost, type AppendResult, type DocumentHostOptions, type DocumentSocket, type DocumentStore, FileDocumentStore, MemoryDocumentStore } from '../../src/yjs/index.js';
import { RedisDocumentStore } from '../../src/yjs/redis-store.js';
import { SqliteDocumentStore } from '../../src/yjs/sqlite-store.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { startServer } from '../helpers/server.js';
import { WireEditor } from './yjs-host-wire-editor.js';

interface DocServer {
  sb: Switchboard;
  host: DocumentHost;
  url: string;
  store: DocumentStore;
  close(): Promise<void>;
}

const running: DocServer[] = [];
const editors: WireEditor[] = [];
const dirs: string[] = [];

/** A server whose rooms `doc:*` are documents; a client with auth.role 'viewer' may read, not edit; room `doc:secret` is refused. */
async function docServer(
  options: Partial<Omit<DocumentHostOptions<DocumentSocket>, 'canEdit'>> & { server?: SwitchboardOptions } = {},
): Promise<DocServer> {
  const { server: serverOptions, ...hostOptions } = options;
  const { sb, url } = await startServer(serverOptions ?? {});
  sb.use((socket, next) => {
    socket.data = { role: (socket.handshake.auth as { role?: string } | undefined)?.role ?? 'editor' };
    next();
  });
  sb.sockets.authorizeJoin((_socket, room) => room !== 'doc:secret');
  const store = options.store ?? new MemoryDocumentStore();
  const host = new DocumentHost(sb, {
    documents: /^doc:/,
    canEdit: (socket) => (socket.data as { role: string }).role !== 'viewer',
    leaveCheckInterval: 20,
    ...hostOptions,
    store,
  });
  let closing: Promise<void> | undefined;
  const server: DocServer = {
    sb,
    host,
    url,
    store,
    close: () =>
      (closing ??= (async () => {
        await sb.close({ deadline: 50 });
        await host.close();
      })()),
  };
  running.push(server);
  return server;
}

async function editor(url: string, document = 'doc:a', auth?: Record<string, unknown>): Promise<WireEditor> {
  const e = await WireEditor.open(url, document, auth);
  editors.push(e);
  return e;
}

/** An update Yjs reads, made by a throwaway document. */
function someUpdate(text = 'x'): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

afterEach(async () => {
  for (const e of editors.splice(0)) e.close();
  for (const s of running.splice(0)) await s.close();
});

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('DocumentHost on one node', () => {
  test('a late joiner gets the whole document at sync, and sends what it had that the server did not', async () => {
    const { url } = await docServer();
    const alice = await editor(url);
    await alice.type('hello ');
    await alice.type('world');
    const bob = new WireEditor(url, 'doc:a');
    editors.push(bob);
    bob.doc.getText('t').insert(0, 'offline edit; ');
    await bob.client.join('doc:a');
    const reply = await bob.sync();
    assert.equal(reply.readOnly, false);
    assert.ok(reply.update instanceof Uint8Array && reply.stateVector instanceof Uint8Array && reply.awareness instanceof Uint8Array);
    await alice.until(() => alice.text.length === bob.text.length, 'alice gets bob’s offline edit');
    assert.equal(alice.text, bob.text);
    assert.match(bob.text, /hello world/);
    assert.match(bob.text, /offline edit; /);
  });

  test('an update goes to everyone else in the room, never back to its sender', async () => {
    const { url } = await docServer();
    const alice = await editor(url);
    const bob = await editor(url);
    const carol = await editor(url, 'doc:other');
    assert.equal(await alice.type('one'), null, 'the reply to an update is null');
    await bob.until(() => bob.text === 'one', 'bob gets alice’s update');
    await bob.type('two');
    await alice.until(() => alice.text === 'onetwo', 'alice gets bob’s update');
    // Alice got bob's update after sending hers: had hers come back, it would be here first.
    assert.deepEqual(alice.received.filter((r) => r.event === 'yjs:update').length, 1);
    assert.equal(carol.received.length, 0, 'another document’s editor hears nothing');
  });

  test('a read-only viewer is told so at sync, is refused read_only, and still receives updates', async () => {
    const { url, store } = await docServer();
    const alice = await editor(url);
    await alice.type('draft');
    const viewer = await editor(url, 'doc:a', { role: 'viewer' });
    assert.equal(viewer.readOnly, true);
    assert.equal(viewer.text, 'draft');
    await assert.rejects(viewer.type('vandalism'), { code: 'read_only' });
    await alice.type(' two');
    // The viewer's refused edit stays in its own copy only (a provider makes no edits read-only).
    await viewer.until(() => viewer.text.includes(' two'), 'the viewer gets alice’s next update');
    assert.equal(alice.text, 'draft two', 'the refused update never reached alice');
    const stored = new Y.Doc();
    for (const u of (await store.load('doc:a')).updates) Y.applyUpdate(stored, u);
    assert.equal(stored.getText('t').toString(), 'draft two', 'nor the store');
  });

  test('who may open a document is authorizeJoin: refused, and the yjs events answer not_joined', async () => {
    const { url } = await docServer();
    const alice = await editor(url);
    const mallory = new WireEditor(url, 'doc:secret');
    editors.push(mallory);
    await assert.rejects(mallory.client.join('doc:secret'), { code: 'forbidden' });
    await assert.rejects(mallory.sync(), { code: 'not_joined' });
    await assert.rejects(mallory.send(someUpdate()), { code: 'not_joined' });
    await assert.rejects(mallory.sendAwareness(encodeAwarenessUpdate(mallory.awareness, [])), { code: 'not_joined' });
    // Not joined to doc:a either: an editor must join the document's room.
    await assert.rejects(alice.client.emitWithAck('yjs:update', { document: 'doc:b', update: someUpdate() }), { code: 'not_joined' });
    await alice.client.join('lobby');
    await assert.rejects(alice.client.emitWithAck('yjs:sync', { document: 'lobby', stateVector: new Uint8Array([0]) }), { code: 'not_a_document' });
    await assert.rejects(alice.client.emitWithAck('yjs:sync', { stateVector: new Uint8Array([0]) }), { code: 'not_a_document' });
    await assert.rejects(alice.client.emitWithAck('yjs:sync', 'doc:a'), { code: 'not_a_document' });
  });

  test('malformed updates and awareness, and non-binary ones, are refused malformed_update and reach no one and no store', async () => {
    const { url, store } = await docServer();
    const alice = await editor(url);
    const bob = await editor(url);
    await alice.type('safe');
    await bob.until(() => bob.text === 'safe', 'bob is in step');
    const before = (await store.load('doc:a')).updates.length;
    const valid = someUpdate('abc');
    const bad: unknown[] = [
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]),
      valid.slice(0, valid.length - 3),
      new Uint8Array([1, 1, 0xaa, 0xbb, 0xcc, 0x05, 0x09]),
      'AAEC',
      [1, 2, 3],
      { 0: 1 },
      null,
      42,
    ];
    for (const update of bad) await assert.rejects(alice.send(update), { code: 'malformed_update' }, `update ${String(update)}`);
    await assert.rejects(alice.client.emitWithAck('yjs:sync', { document: 'doc:a', stateVector: 'nope' }), { code: 'malformed_update' });
    for (const update of [new Uint8Array([3, 1, 2]), new Uint8Array([1, 5, 1, 3, 0x7b, 0x22, 0x61]), new Uint8Array([1, 5, 1, 1, 0x35]), 'x', null]) {
      await assert.rejects(alice.sendAwareness(update), { code: 'malformed_update' }, `awareness ${String(update)}`);
    }
    assert.equal((await store.load('doc:a')).updates.length, before, 'nothing refused was stored');
    // A marker from the same sender: had anything refused been sent on, bob would get it first.
    await alice.type('!');
    await bob.until(() => bob.text === 'safe!', 'bob gets the marker');
    assert.equal(bob.received.length, 2, 'bob received the first update and the marker only');
    assert.equal(bob.received.every((r) => r.event === 'yjs:update'), true);
  });

  test('an update that would take the document past maxDocumentBytes is refused document_too_large and not applied', async () => {
    const { url, store, host } = await docServer({ maxDocumentBytes: 4096 });
    const alice = await editor(url);
    const bob = await editor(url);
    await alice.type('x'.repeat(1000));
    await assert.rejects(alice.type('y'.repeat(4000)), { code: 'document_too_large' });
    assert.equal((await host.document('doc:a')).getText('t').length, 1000, 'the server’s document is unchanged');
    const stored = new Y.Doc();
    for (const u of (await store.load('doc:a')).updates) Y.applyUpdate(stored, u);
    assert.equal(stored.getText('t').length, 1000);
    // Small edits near the bound are measured, not guessed: they go on until the bound.
    const small = new WireEditor(url, 'doc:a');
    editors.push(small);
    await small.client.join('doc:a');
    await small.sync();
    let accepted = 0;
    for (let i = 0; i < 20; i++) {
      try {
        await small.type('z'.repeat(200));
        accepted++;
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'document_too_large');
        break;
      }
    }
    assert.ok(accepted >= 10, `edits up to the bound are accepted (${accepted})`);
    assert.ok(Y.encodeStateAsUpdate(await host.document('doc:a')).byteLength <= 4096);
    await bob.until(() => bob.text.length === 1000 + accepted * 200, 'bob has exactly the accepted edits');
  });

  test('awareness: states reach the room, the late joiner gets them at sync, and they go when their socket disconnects or leaves', async () => {
    const { url } = await docServer();
    const alice = await editor(url);
    const bob = await editor(url);
    assert.equal(await alice.present({ user: { name: 'Alice', color: '#f00' }, cursor: { anchor: 1, head: 3 } }), null);
    await bob.until(() => bob.awareness.getStates().has(alice.doc.clientID), 'bob sees alice');
    assert.deepEqual(bob.awareness.getStates().get(alice.doc.clientID)?.user, { name: 'Alice', color: '#f00' });
    await bob.present({ user: { name: 'Bob' } });
    const carol = await editor(url);
    assert.equal(carol.awareness.getStates().has(alice.doc.clientID), true, 'the sync reply carried alice’s state');
    assert.equal(carol.awareness.getStates().has(bob.doc.clientID), true);
    alice.client.close();
    await bob.until(() => !bob.awareness.getStates().has(alice.doc.clientID), 'alice’s state goes when she disconnects');
    await carol.until(() => !carol.awareness.getStates().has(alice.doc.clientID), 'for everyone');
    await bob.client.leave('doc:a');
    await carol.until(() => !carol.awareness.getStates().has(bob.doc.clientID), 'bob’s state goes when he leaves the room');
  });

  test('a store that fails: the update is refused storage_failed, not applied, not sent on; the cause stays on the server', async () => {
    class FailingStore extends MemoryDocumentStore {
      failing = false;
      override async append(document: string, update: Uint8Array): Promise<AppendResult> {
        if (this.failing) throw new Error('disk full at /secret/path');
        return super.append(document, update);
      }
    }
    const store = new FailingStore();
    const reported: { document: string; during: string }[] = [];
    const { url, host } = await docServer({ store, onError: (_err, context) => reported.push(context) });
    const alice = await editor(url);
    const bob = await editor(url);
    await alice.type('before');
    await bob.until(() => bob.text === 'before', 'bob is in step');
    store.failing = true;
    const refused = await alice.type(' lost').then(
      () => undefined,
      (err: { code?: string; message?: string }) => err,
    );
    assert.equal(refused?.code, 'storage_failed');
    assert.doesNotMatch(refused?.message ?? '', /secret/, 'the store’s own message is not sent to the client');
    assert.deepEqual(reported, [{ document: 'doc:a', during: 'storing an update' }]);
    assert.equal((await host.document('doc:a')).getText('t').toString(), 'before', 'not applied');
    store.failing = false;
    await bob.type('!');
    await alice.until(() => alice.received.length === 1, 'alice gets bob’s marker');
    assert.equal(bob.received.length, 1, 'bob never got the refused update');
  });

  test('a host on a namespace serves that namespace only', async () => {
    const { sb, url } = await startServer();
    const host = new DocumentHost(sb.of('/docs'), { documents: (room) => room.startsWith('doc:') });
    running.push({ sb, host, url, store: new MemoryDocumentStore(), close: async () => { await sb.close({ deadline: 50 }); await host.close(); } });
    const client = connect(url);
    const docs = client.of('/docs');
    await docs.join('doc:ns');
    const reply = (await docs.emitWithAck('yjs:sync', { document: 'doc:ns', stateVector: new Uint8Array([0]) })) as { readOnly: boolean };
    assert.equal(reply.readOnly, false);
    await client.join('doc:ns');
    await assert.rejects(client.emitWithAck('yjs:sync', { document: 'doc:ns', stateVector: new Uint8Array([0]) }), { code: 'no_handler' });
    client.close();
  });

  test('changes the app makes to host.document() are stored and sent to the room', async () => {
    const { url, host, store } = await docServer();
    const seeded = await host.document('doc:seeded');
    seeded.getText('t').insert(0, 'template');
    const alice = await editor(url, 'doc:seeded');
    assert.equal(alice.text, 'template');
    seeded.getText('t').insert(8, '!');
    await alice.until(() => alice.text === 'template!', 'alice gets the app’s edit');
    const stored = new Y.Doc();
    for (const u of (await store.load('doc:seeded')).updates) Y.applyUpdate(stored, u);
    assert.equal(stored.getText('t').toString(), 'template!');
  });

  test('the log is compacted after compactAfter updates, and the document is the same', async () => {
    const { url, store } = await docServer({ compactAfter: 10 });
    const alice = await editor(url);
    for (let i = 0; i < 35; i++) await alice.type(String(i % 10));
    await alice.until(() => true, 'settle');
    const stored = await store.load('doc:a');
    assert.ok(stored.updates.length <= 10, `the log holds ${stored.updates.length} updates`);
    const doc = new Y.Doc();
    for (const u of stored.updates) Y.applyUpdate(doc, u);
    assert.equal(doc.getText('t').toString(), alice.text);
  });
});

describe('DocumentHost restarts', () => {
  for (const kind of ['file', 'sqlite'] as const) {
    test(`the document survives a server restart on the ${kind} store`, async () => {
      const dir = await mkdtemp(join(tmpdir(), `yjs-restart-${kind}-`));
      dirs.push(dir);
      const makeStore = (): DocumentStore => (kind === 'file' ? new FileDocumentStore(dir) : new SqliteDocumentStore(join(dir, 'docs.db')));
      const first = await docServer({ store: makeStore(), compactAfter: 5 });
      const alice = await editor(first.url);
      for (const word of ['kept ', 'across ', 'a ', 'restart ', 'of ', 'the ', 'server']) await alice.type(word);
      alice.close();
      await first.close();
      const second = await docServer({ store: makeStore() });
      const bob = await editor(second.url);
      assert.equal(bob.text, 'kept across a restart of the server');
    });
  }
});

describe('DocumentHost on two nodes with the Redis adapter and RedisDocumentStore', () => {
  const redisKeys = useRedisKeys();

  test('edits from both nodes converge, and a late joiner on either node gets all of them', async () => {
    const prefix = redisKeys.prefix('yjs-cluster');
    const nodes = [
      await docServer({ server: { adapter: new RedisAdapter(REDIS_URL, { prefix }) }, store: new RedisDocumentStore(REDIS_URL, { prefix }), compactAfter: 8 }),
      await docServer({ server: { adapter: new RedisAdapter(REDIS_URL, { prefix }) }, store: new RedisDocumentStore(REDIS_URL, { prefix }), compactAfter: 8 }),
    ] as const;
    const alice = await editor(nodes[0].url);
    const bob = await editor(nodes[1].url);
    await alice.present({ user: { name: 'Alice' } });
    await bob.until(() => bob.awareness.getStates().has(alice.doc.clientID), 'awareness crosses nodes through the room');
    for (let i = 0; i < 10; i++) {
      await Promise.all([alice.type(`a${i} `), bob.type(`b${i} `)]);
    }
    await alice.until(() => alice.text.length === 60, 'alice has every edit');
    await bob.until(() => bob.text === alice.text, 'bob and alice converge');
    for (const node of nodes) {
      const late = await editor(node.url);
      assert.equal(late.text, alice.text, 'a late joiner gets every edit of both nodes');
    }
    alice.client.close();
    await bob.until(() => !bob.awareness.getStates().has(alice.doc.clientID), 'alice’s awareness removal reaches the other node');
  });
});
