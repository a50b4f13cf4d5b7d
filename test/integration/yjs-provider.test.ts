/**
 * The document provider (switchboard/yjs/client) against a real server with a DocumentHost:
 * Node clients on real sockets. Providers converge, edits made while disconnected (offline,
 * a cut link, a server restart) merge on return with nothing lost or doubled, a late
 * joiner gets the whole document, the HTTP fallbacks carry it too, awareness comes and
 * goes, and a read-only provider sends nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import * as Y from 'yjs';
import { type ClientOptions, connect, type SwitchboardClient } from '../../src/client/node.js';
import { Switchboard } from '../../src/server/index.js';
import { DocumentProvider } from '../../src/yjs/client/index.js';
import { DocumentHost, type DocumentStore, FileDocumentStore, MemoryDocumentStore } from '../../src/yjs/index.js';
import { eventually } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const fastReconnect = { reconnect: { delay: 20, maxDelay: 200 } } satisfies ClientOptions;

interface DocServer {
  sb: Switchboard;
  host: DocumentHost;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A Switchboard with a DocumentHost for rooms `doc:*`; viewers (auth.role 'viewer') may read but not edit. */
async function startDocServer(options: { port?: number; store?: DocumentStore } = {}): Promise<DocServer> {
  const sb = new Switchboard(options.port ?? 0);
  await sb.ready();
  const host = new DocumentHost(sb, {
    documents: /^doc:/,
    store: options.store ?? new MemoryDocumentStore(),
    canEdit: (socket) => (socket.handshake.auth as { role?: string } | undefined)?.role !== 'viewer',
  });
  let closing: Promise<void> | undefined;
  return {
    sb,
    host,
    port: sb.port,
    url: `ws://127.0.0.1:${sb.port}/ws`,
    close: () => {
      closing ??= (async () => {
        await sb.close({ deadline: 50 });
        await host.close();
      })();
      return closing;
    },
  };
}

/** One person: a client, a doc, a provider, and a network switch to take the client offline. */
class Peer {
  readonly doc = new Y.Doc();
  readonly text = this.doc.getText('text');
  readonly client: SwitchboardClient;
  readonly provider: DocumentProvider;
  readonly errors: string[] = [];
  #online = true;
  readonly #network = new EventTarget();

  constructor(url: string, document: string, options: ClientOptions = {}, name?: string) {
    // A long maxDelay: while offline, only the `online` event brings the client back.
    this.client = connect(url, { ...fastReconnect, network: { target: this.#network, isOnline: () => this.#online }, ...options });
    this.provider = new DocumentProvider(this.client, document, this.doc);
    this.provider.on('error', (err) => this.errors.push(err.code ?? err.message));
    if (name) this.provider.awareness.setLocalStateField('user', { name });
    peers.push(this);
  }

  get value(): string {
    return this.text.toString();
  }

  /** The device goes offline: the client closes its socket (4005) and waits for `online`. */
  offline(): void {
    this.#online = false;
    this.#network.dispatchEvent(new Event('offline'));
  }

  online(): void {
    this.#online = true;
    this.#network.dispatchEvent(new Event('online'));
  }

  synced(what = 'the provider to sync'): Promise<void> {
    return eventually(() => this.provider.synced, what);
  }

  /** Names in this peer's awareness, its own included, sorted. */
  names(): string[] {
    return [...this.provider.awareness.getStates().values()]
      .map((state) => (state.user as { name?: string } | undefined)?.name)
      .filter((name): name is string => typeof name === 'string')
      .sort();
  }

  close(): void {
    this.provider.destroy();
    this.client.close();
  }
}

const peers: Peer[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: { port?: number; store?: DocumentStore } = {}): Promise<DocServer> {
  const started = await startDocServer(options);
  cleanups.push(() => started.close());
  return started;
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

/** Every peer shows the same text as the server's document. */
async function converged(host: DocumentHost, document: string, ...all: Peer[]): Promise<string> {
  const serverText = (await host.document(document)).getText('text');
  await eventually(() => all.every((p) => p.value === serverText.toString()), `every peer to show the server's text "${serverText.toString()}"`);
  return serverText.toString();
}

describe('DocumentProvider', { timeout: 60_000 }, () => {
  test('two providers converge: inserts at the same spot at the same time end in the same text everywhere', async () => {
    const { url, host } = await server();
    const ada = new Peer(url, 'doc:same-spot');
    const bob = new Peer(url, 'doc:same-spot');
    await Promise.all([ada.synced(), bob.synced()]);
    ada.text.insert(0, 'hello world');
    await eventually(() => bob.value === 'hello world', 'bob to see ada’s text');

    ada.text.insert(5, ' ADA');
    bob.text.insert(5, ' BOB');
    const text = await converged(host, 'doc:same-spot', ada, bob);
    assert.equal(count(text, ' ADA'), 1);
    assert.equal(count(text, ' BOB'), 1);
    assert.equal(text.length, 'hello world'.length + 8);
    assert.deepEqual(ada.errors, []);
    assert.deepEqual(bob.errors, []);
  });

  test('what a doc held before it was connected is merged into the server’s; a late joiner gets the whole document', async () => {
    const { url, host } = await server();
    const early = new Peer(url, 'doc:late');
    await early.synced();
    for (let i = 0; i < 200; i++) early.text.insert(early.text.length, `line ${i}\n`);
    await converged(host, 'doc:late', early);

    const late = new Peer(url, 'doc:late');
    await late.synced();
    assert.equal(late.value, early.value, 'the whole document at the first sync');

    const offlineAuthor = new Y.Doc();
    offlineAuthor.getText('text').insert(0, 'written before connecting\n');
    const client = connect(url, fastReconnect);
    const provider = new DocumentProvider(client, 'doc:late', offlineAuthor);
    cleanups.push(() => {
      provider.destroy();
      client.close();
    });
    await eventually(() => provider.synced, 'the third provider to sync');
    const serverText = (await host.document('doc:late')).getText('text');
    await eventually(() => serverText.toString().includes('written before connecting'), 'what it held to reach the server');
    const text = await converged(host, 'doc:late', early, late);
    assert.equal(count(text, 'written before connecting'), 1);
    assert.equal(offlineAuthor.getText('text').toString(), text);
  });

  test('edits made offline merge on return with the edits made meanwhile: nothing lost, nothing doubled', async () => {
    const { url, host } = await server();
    const ada = new Peer(url, 'doc:offline');
    const bob = new Peer(url, 'doc:offline');
    await Promise.all([ada.synced(), bob.synced()]);
    ada.text.insert(0, 'start\n');
    await eventually(() => bob.value === 'start\n', 'the start');

    const statuses: boolean[] = [];
    ada.provider.on('status', ({ connected }) => statuses.push(connected));
    ada.offline();
    await eventually(() => !ada.provider.connected && !ada.provider.synced, 'ada to be offline');
    ada.text.insert(ada.text.length, 'offline by ada\n');
    ada.text.delete(0, 'start\n'.length);
    bob.text.insert(bob.text.length, 'meanwhile by bob\n');
    const serverText = (await host.document('doc:offline')).getText('text');
    await eventually(() => serverText.toString().includes('meanwhile'), 'bob’s edit on the server');
    assert.equal(ada.value.includes('meanwhile'), false, 'ada is really offline');

    const synced = new Promise<void>((resolve) => ada.provider.on('synced', resolve));
    ada.online();
    await synced;
    const text = await converged(host, 'doc:offline', ada, bob);
    assert.equal(count(text, 'offline by ada\n'), 1);
    assert.equal(count(text, 'meanwhile by bob\n'), 1);
    assert.equal(count(text, 'start'), 0, 'the offline deletion reached everyone');
    assert.deepEqual(statuses, [false, true]);
  });

  test('edits across a cut link (the session resumes): nothing lost or doubled, and the link keeps working', async () => {
    const { url, host, port } = await server();
    const proxy = await TcpProxy.start(port);
    cleanups.push(() => proxy.close());
    const ada = new Peer(proxy.url(), 'doc:cut');
    const bob = new Peer(url, 'doc:cut');
    await Promise.all([ada.synced(), bob.synced()]);

    proxy.refuse(true);
    proxy.cutAll();
    // Typed into the dead link before the client notices, and after.
    ada.text.insert(0, 'into the cut\n');
    await eventually(() => !ada.provider.connected, 'ada to notice the cut');
    ada.text.insert(ada.text.length, 'after the cut\n');
    bob.text.insert(0, 'bob meanwhile\n');
    proxy.refuse(false);

    const text = await converged(host, 'doc:cut', ada, bob);
    for (const part of ['into the cut\n', 'after the cut\n', 'bob meanwhile\n']) assert.equal(count(text, part), 1, part);
    ada.text.insert(0, 'live again\n');
    await eventually(() => bob.value.startsWith('live again\n'), 'a live edit after the resume');
  });

  test('after a server restart (a new session) the document is still there and offline edits merge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-yjs-provider-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startDocServer({ store: new FileDocumentStore(dir) });
    const ada = new Peer(first.url, 'doc:restart');
    await ada.synced();
    ada.text.insert(0, 'kept across the restart\n');
    await converged(first.host, 'doc:restart', ada);
    const sessionBefore = ada.client.id;

    await first.close();
    await eventually(() => !ada.provider.connected, 'ada to see the server go');
    ada.text.insert(ada.text.length, 'typed while the server was down\n');

    const second = await server({ port: first.port, store: new FileDocumentStore(dir) });
    await eventually(() => ada.provider.synced, 'ada to sync with the new server', 20_000);
    assert.notEqual(ada.client.id, sessionBefore, 'a new session: the SDK rejoined the room by itself');
    const bob = new Peer(second.url, 'doc:restart');
    await bob.synced();
    const text = await converged(second.host, 'doc:restart', ada, bob);
    assert.equal(count(text, 'kept across the restart\n'), 1);
    assert.equal(count(text, 'typed while the server was down\n'), 1);
  });

  for (const transport of ['polling', 'sse'] as const) {
    test(`on the ${transport} fallback: converges, awareness flows, offline edits merge`, async () => {
      const { url, host } = await server();
      const ada = new Peer(url, `doc:${transport}`, {}, 'Ada');
      const bob = new Peer(url, `doc:${transport}`, { transports: [transport], upgrade: false }, 'Bob');
      await Promise.all([ada.synced(), bob.synced()]);
      assert.equal(bob.client.transport, transport);

      ada.text.insert(0, 'from the websocket\n');
      bob.text.insert(0, `from ${transport}\n`);
      await converged(host, `doc:${transport}`, ada, bob);
      await eventually(() => bob.names().join() === 'Ada,Bob' && ada.names().join() === 'Ada,Bob', 'each to see the other’s name');

      bob.offline();
      await eventually(() => !bob.provider.connected, 'bob offline');
      bob.text.insert(bob.text.length, 'bob offline\n');
      ada.text.insert(ada.text.length, 'ada meanwhile\n');
      bob.online();
      const text = await converged(host, `doc:${transport}`, ada, bob);
      assert.equal(count(text, 'bob offline\n'), 1);
      assert.equal(count(text, 'ada meanwhile\n'), 1);
      assert.equal(bob.client.transport, transport);
    });
  }

  test('awareness: each sees the others; a destroyed provider’s state goes; offline, a client forgets the others until it is back', async () => {
    const { url } = await server();
    const ada = new Peer(url, 'doc:awareness', {}, 'Ada');
    const bob = new Peer(url, 'doc:awareness', {}, 'Bob');
    const cy = new Peer(url, 'doc:awareness', {}, 'Cy');
    await eventually(() => [ada, bob, cy].every((p) => p.names().join() === 'Ada,Bob,Cy'), 'everyone to see everyone');

    ada.provider.awareness.setLocalStateField('cursor', { index: 3 });
    await eventually(() => (bob.provider.awareness.getStates().get(ada.doc.clientID)?.cursor as { index?: number } | undefined)?.index === 3, 'bob to see ada’s cursor');

    cy.provider.destroy();
    await eventually(() => ada.names().join() === 'Ada,Bob' && bob.names().join() === 'Ada,Bob', 'cy to be gone');

    bob.offline();
    await eventually(() => bob.names().join() === 'Bob', 'offline, bob sees only himself');
    bob.online();
    await eventually(() => ada.names().join() === 'Ada,Bob' && bob.names().join() === 'Ada,Bob', 'bob back in both lists');
  });

  test('a read-only provider reports readOnly, sends no updates, and still receives the others’', async () => {
    const { url, host } = await server();
    const editor = new Peer(url, 'doc:ro');
    const viewer = new Peer(url, 'doc:ro', { auth: { role: 'viewer' } });
    await Promise.all([editor.synced(), viewer.synced()]);
    assert.equal(viewer.provider.readOnly, true);
    assert.equal(editor.provider.readOnly, false);

    viewer.text.insert(0, 'the viewer typed this');
    editor.text.insert(0, 'the editor typed this');
    await eventually(() => viewer.value.includes('the editor typed this'), 'the viewer to receive the edit');
    const fence = new Peer(url, 'doc:ro');
    await fence.synced();
    assert.equal(fence.value, 'the editor typed this');
    assert.equal((await host.document('doc:ro')).getText('text').toString(), 'the editor typed this');
    assert.equal(editor.value, 'the editor typed this');
    assert.deepEqual(viewer.errors, [], 'nothing was sent to be refused');
  });

  test('a room that is not a document: the provider reports not_a_document', async () => {
    const { url } = await server();
    const peer = new Peer(url, 'notes:x');
    await eventually(() => peer.errors.includes('not_a_document'), 'the refusal');
    assert.equal(peer.provider.synced, false);
  });

  test('destroy() leaves the room and stops listening; the doc and client stay usable', async () => {
    const { url, sb } = await server();
    const ada = new Peer(url, 'doc:destroy');
    const bob = new Peer(url, 'doc:destroy');
    await Promise.all([ada.synced(), bob.synced()]);
    ada.provider.destroy();
    await eventually(() => !ada.client.rooms.has('doc:destroy'), 'the room left');
    bob.text.insert(0, 'after ada left');
    const fence = new Peer(url, 'doc:destroy');
    await eventually(() => fence.value === 'after ada left', 'a third peer to see it');
    assert.equal(ada.value, '');
    assert.equal(ada.client.connected, true);
    assert.equal(sb.connectionCount, 3);
  });
});
