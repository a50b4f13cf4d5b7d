/**
 * The editors of each system: a Y.Doc with its text, kept in step with the server by that
 * system's own client. Every kind is opened the same way and reports when its document is
 * synced, so the workload (editors.ts) never knows which system it drives.
 */
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { DOCUMENT, TEXT } from './workload.js';

export interface Editor {
  readonly doc: Y.Doc;
  readonly text: Y.Text;
  close(): void;
}

/** Which client an editor uses: see SYSTEMS in systems.ts for the servers they talk to. */
export type EditorKind = 'switchboard-provider' | 'switchboard-wire' | 'y-websocket' | 'ws-relay';

const SYNC_TIMEOUT_MS = 20_000;

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not synced within ${SYNC_TIMEOUT_MS} ms`)), SYNC_TIMEOUT_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** A Switchboard connection as the bench opens it: WebSocket only, no fallback transports. */
function switchboardClient(port: number): SwitchboardClient {
  return connect(`ws://127.0.0.1:${port}/ws`, { transports: ['websocket'] });
}

/** Switchboard with helper D's DocumentProvider (switchboard/yjs/client), loaded only when this kind runs. */
async function openProvider(port: number): Promise<Editor> {
  const { DocumentProvider } = (await import('../../src/yjs/client/index.js')) as typeof import('../../src/yjs/client/index.js');
  const client = switchboardClient(port);
  const doc = new Y.Doc();
  const provider = new DocumentProvider(client, DOCUMENT, doc);
  await withTimeout(
    'switchboard provider',
    new Promise<void>((resolve, reject) => {
      if (provider.synced) resolve();
      provider.on('synced', () => resolve());
      provider.on('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
    }),
  );
  return {
    doc,
    text: doc.getText(TEXT),
    close: () => {
      provider.destroy();
      client.close();
    },
  };
}

/**
 * Switchboard spoken from the host's wire events directly (docs/COLLABORATION.md), from
 * the plain client: join, `yjs:sync`, then every local update as a `yjs:update` request
 * and every `yjs:update` event applied. No awareness, no batching, no resync: a floor
 * for what the provider adds (the system `switchboard-wire`, run only when named).
 */
async function openWire(port: number): Promise<Editor> {
  const client = switchboardClient(port);
  const doc = new Y.Doc();
  const remote = Symbol('remote');
  client.on('yjs:update', (data: unknown) => {
    const { document, update } = data as { document: string; update: Uint8Array };
    if (document === DOCUMENT) Y.applyUpdate(doc, update, remote);
  });
  await withTimeout(
    'switchboard wire',
    (async () => {
      await client.join(DOCUMENT);
      const reply = (await client.emitWithAck('yjs:sync', { document: DOCUMENT, stateVector: Y.encodeStateVector(doc) })) as {
        update: Uint8Array;
        stateVector: Uint8Array;
      };
      Y.applyUpdate(doc, reply.update, remote);
      const missing = Y.encodeStateAsUpdate(doc, reply.stateVector);
      // An update of an empty doc is two zero bytes: nothing to send.
      if (missing.length > 2) await client.emitWithAck('yjs:update', { document: DOCUMENT, update: missing });
    })(),
  );
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === remote) return;
    client.emitWithAck('yjs:update', { document: DOCUMENT, update }).catch((err: unknown) => {
      console.error(`yjs:update refused: ${(err as Error).message}`);
    });
  });
  return { doc, text: doc.getText(TEXT), close: () => client.close() };
}

/** y-websocket's own provider; BroadcastChannel off, or the editors of one process would talk past the server. */
async function openYWebsocket(port: number): Promise<Editor> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`ws://127.0.0.1:${port}`, DOCUMENT, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  await withTimeout(
    'y-websocket',
    new Promise<void>((resolve) => {
      provider.on('sync', (synced: boolean) => {
        if (synced) resolve();
      });
    }),
  );
  return {
    doc,
    text: doc.getText(TEXT),
    close: () => provider.destroy(),
  };
}

/**
 * The ceiling: the same Yjs work on the clients, and a server that relays each binary
 * message to every other connection (servers/ws-relay.ts) — no document, no sync, no
 * validation. Every editor starts with an empty doc, so no initial sync is needed.
 */
async function openRelay(port: number): Promise<Editor> {
  const doc = new Y.Doc();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  ws.binaryType = 'nodebuffer';
  const remote = Symbol('relay');
  await withTimeout(
    'ws relay',
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
  );
  ws.on('message', (data: Buffer) => Y.applyUpdate(doc, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), remote));
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== remote) ws.send(update);
  });
  return { doc, text: doc.getText(TEXT), close: () => ws.close() };
}

export function openEditor(kind: EditorKind, port: number): Promise<Editor> {
  switch (kind) {
    case 'switchboard-provider':
      return openProvider(port);
    case 'switchboard-wire':
      return openWire(port);
    case 'y-websocket':
      return openYWebsocket(port);
    case 'ws-relay':
      return openRelay(port);
  }
}
