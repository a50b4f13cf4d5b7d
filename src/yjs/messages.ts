/**
 * The wire between the Yjs document host (server) and the document provider (client):
 * event names, payloads and reply error codes. docs/COLLABORATION.md specifies the same.
 * Pure types and constants — both sides (and the browser bundle) import this file.
 */

/** Event names in the host's namespace. */
export const YjsEvent = {
  /** Request `{ document, stateVector }` → reply `SyncReply`. */
  Sync: 'yjs:sync',
  /** Request `{ document, update }` from a client → reply null or an error; event `{ document, update }` to the room except the sender. */
  Update: 'yjs:update',
  /** Event `{ document, update }` both ways: a y-protocols awareness update. */
  Awareness: 'yjs:awareness',
} as const;
/** One of the Yjs event names. */
export type YjsEvent = (typeof YjsEvent)[keyof typeof YjsEvent];

/** Request `yjs:sync`: the client's state vector (`Y.encodeStateVector(doc)`). */
export interface SyncRequest {
  /** The document's name, which is also its room. */
  document: string;
  /** `Y.encodeStateVector(doc)` of the client's copy. */
  stateVector: Uint8Array;
}

/** Reply to `yjs:sync`. */
export interface SyncReply {
  /** `Y.encodeStateAsUpdate(serverDoc, clientStateVector)`: what the client is missing. */
  update: Uint8Array;
  /** The server's state vector: the client sends back what the server is missing. */
  stateVector: Uint8Array;
  /** `encodeAwarenessUpdate` of every awareness state the host knows for the document. */
  awareness: Uint8Array;
  /** True when this socket may read but not edit (`canEdit` refused): its updates are refused with `read_only`. */
  readOnly: boolean;
}

/** Request `yjs:update` from a client (reply null), and event `yjs:update` to the room. */
export interface UpdateMessage {
  /** The document's name, which is also its room. */
  document: string;
  /** A Yjs update (`Y.encodeStateAsUpdate`, or a doc's `update` event). */
  update: Uint8Array;
}

/** Event `yjs:awareness`, both ways. */
export interface AwarenessMessage {
  /** The document's name, which is also its room. */
  document: string;
  /** A y-protocols awareness update (`encodeAwarenessUpdate`). */
  update: Uint8Array;
}

/** Reply error codes of the Yjs events (`ReplyError.code`). */
export const YjsErrorCode = {
  /** The room named by `document` is not a document (the host's `documents` option). */
  NotADocument: 'not_a_document',
  /** The socket is not in the document's room: join it first. */
  NotJoined: 'not_joined',
  /** `canEdit` refused: this socket may read the document but not change it. */
  ReadOnly: 'read_only',
  /** An update or awareness message Yjs cannot decode, or not a Uint8Array. */
  MalformedUpdate: 'malformed_update',
  /** The update would take the document past `maxDocumentBytes`; it was not applied. */
  DocumentTooLarge: 'document_too_large',
  /** The store refused; the update was not applied or sent on. */
  StorageFailed: 'storage_failed',
} as const;
/** One of the Yjs reply error codes. */
export type YjsErrorCode = (typeof YjsErrorCode)[keyof typeof YjsErrorCode];
