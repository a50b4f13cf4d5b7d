import type { EditorKind } from './editor-clients.js';

/** The systems compared: a server (a file in this folder) and the client its editors use. */
export type SystemName = 'switchboard' | 'switchboard-nocompact' | 'switchboard-wire' | 'y-websocket' | 'ws-relay';

export interface System {
  name: SystemName;
  label: string;
  server: string;
  editor: EditorKind;
  /** Environment of the server process. */
  env?: Record<string, string>;
}

export const SYSTEMS: Record<SystemName, System> = {
  switchboard: { name: 'switchboard', label: 'Switchboard + DocumentHost, DocumentProvider', server: 'switchboard-server.ts', editor: 'switchboard-provider' },
  'switchboard-nocompact': {
    name: 'switchboard-nocompact',
    label: 'Switchboard + DocumentHost with compaction off, DocumentProvider',
    server: 'switchboard-server.ts',
    editor: 'switchboard-provider',
    // The host compacts a document's stored log every `compactAfter` updates (default 200); this never does.
    env: { BENCH_YJS_COMPACT_AFTER: String(Number.MAX_SAFE_INTEGER) },
  },
  'switchboard-wire': {
    name: 'switchboard-wire',
    label: 'Switchboard + DocumentHost, wire events from the plain client',
    server: 'switchboard-server.ts',
    editor: 'switchboard-wire',
  },
  'y-websocket': { name: 'y-websocket', label: 'y-websocket 1.5 server, WebsocketProvider', server: 'y-websocket-server.ts', editor: 'y-websocket' },
  'ws-relay': { name: 'ws-relay', label: 'raw ws relay (no document: the ceiling)', server: 'ws-relay-server.ts', editor: 'ws-relay' },
};

/** Run by default, in this order; switchboard-wire only when named with --systems=. */
export const DEFAULT_SYSTEMS: readonly SystemName[] = ['switchboard', 'switchboard-nocompact', 'y-websocket', 'ws-relay'];
