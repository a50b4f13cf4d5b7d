/**
 * `switchboard/yjs`: collaborative editing with Yjs over Switchboard — the server's
 * document host and the stores it keeps documents in (docs/COLLABORATION.md). Needs the
 * `yjs` and `y-protocols` packages (optional peer dependencies). The SQLite and Redis stores
 * are their own entry points (`switchboard/yjs/sqlite`, `switchboard/yjs/redis`).
 */
export { DocumentHost, type DocumentHostOptions } from './document-host.js';
export type { DocumentStore, StoredUpdates, AppendResult } from './document-store.js';
export { MemoryDocumentStore } from './memory-store.js';
export { FileDocumentStore } from './file-store.js';
export { YjsEvent, YjsErrorCode, type SyncRequest, type SyncReply, type UpdateMessage, type AwarenessMessage } from './messages.js';
export type { DocumentSocket, DocumentNamespace, DocumentServer, DocumentBroadcast } from './host-ports.js';
