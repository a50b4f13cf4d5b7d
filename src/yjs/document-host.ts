import type * as Y from 'yjs';
import { ReplyError } from '../server/index.js';
import type { DocumentStore } from './document-store.js';
import type { DocumentNamespace, DocumentServer, DocumentSocket } from './host-ports.js';
import { HostedDocument } from './hosted-document.js';
import { MemoryDocumentStore } from './memory-store.js';
import { YjsErrorCode, YjsEvent, type AwarenessMessage, type SyncReply, type SyncRequest, type UpdateMessage } from './messages.js';
import { AwarenessCheck, checkStateVector, checkUpdate, updateBytes } from './update-checks.js';

/** Options of a DocumentHost; `S` is the app's socket type (what canEdit receives). */
export interface DocumentHostOptions<S> {
  /** Which rooms are documents: an exact name, a RegExp or a predicate. Required. */
  documents: string | RegExp | ((room: string) => boolean);
  /** Where documents are kept. Default: a MemoryDocumentStore (lost on restart). */
  store?: DocumentStore;
  /** Whether a socket may change a document it may open (authorizeJoin decides who opens). Default: everyone may. Refused: `read_only`. */
  canEdit?: (socket: S, document: string) => boolean | Promise<boolean>;
  /** Bound on a document's encoded size (Y.encodeStateAsUpdate) in bytes; an update past it is refused `document_too_large`. Default 8 MiB. */
  maxDocumentBytes?: number;
  /** Stored updates after which a document's log is merged into one. Default 200. */
  compactAfter?: number;
  /** Milliseconds between checks for sockets that left a document's room (their awareness states are removed). Default 1000. */
  leaveCheckInterval?: number;
  /** Where failures of the store outside a request (compaction, app edits) are reported. Default: console.error. */
  onError?: (err: unknown, context: { document: string; during: string }) => void;
}

/**
 * Hosts Yjs documents in the rooms of a Switchboard namespace: answers the sync handshake,
 * stores and fans out updates, and keeps each document's awareness (docs/COLLABORATION.md).
 * Create it before clients connect; sockets already connected are served too.
 */
export class DocumentHost<S extends DocumentSocket = DocumentSocket> {
  readonly #namespace: DocumentNamespace<DocumentSocket>;
  readonly #isDocument: (room: string) => boolean;
  readonly #store: DocumentStore;
  // Typed by DocumentSocket inside: the app's socket type appears only where the app gives it, so
  // a DocumentHost of any socket type is a DocumentHost.
  readonly #canEdit: (socket: DocumentSocket, document: string) => boolean | Promise<boolean>;
  readonly #documents = new Map<string, HostedDocument>();
  /** Per socket id: the documents it takes part in on this node. */
  readonly #socketDocuments = new Map<string, Set<string>>();
  /** Sockets served on this node, with the listeners the host added (close() removes them). */
  readonly #sockets = new Map<string, { socket: DocumentSocket; listeners: [string, (data: unknown) => unknown][] }>();
  readonly #awarenessCheck = new AwarenessCheck();
  readonly #leaveCheck: ReturnType<typeof setInterval>;
  readonly #context;
  readonly #onConnection = (socket: DocumentSocket): void => this.#serve(socket);
  #closed = false;

  /** Host documents in the rooms of a Switchboard's root namespace. */
  constructor(target: DocumentServer<S>, options: DocumentHostOptions<S>);
  /** Host documents in the rooms of one namespace, `sb.of('/docs')`. */
  constructor(target: DocumentNamespace<S>, options: DocumentHostOptions<S>);
  constructor(target: DocumentServer<S> | DocumentNamespace<S>, options: DocumentHostOptions<S>) {
    if (!options || options.documents === undefined) throw new TypeError('DocumentHost needs options.documents: which rooms are documents');
    // A namespace's `sockets` is its map of connections; a Switchboard's is its root namespace.
    const namespace = (target.sockets instanceof Map ? target : target.sockets) as DocumentNamespace<DocumentSocket>;
    this.#namespace = namespace;
    this.#isDocument = roomPredicate(options.documents);
    this.#store = options.store ?? new MemoryDocumentStore();
    this.#canEdit = (options.canEdit ?? (() => true)) as (socket: DocumentSocket, document: string) => boolean | Promise<boolean>;
    const maxDocumentBytes = positive(options.maxDocumentBytes, 8 * 1024 * 1024, 'maxDocumentBytes');
    const compactAfter = positive(options.compactAfter, 200, 'compactAfter');
    const onError = options.onError ?? ((err, context) => console.error('[switchboard/yjs]', context, err));
    this.#context = {
      store: this.#store,
      maxDocumentBytes,
      compactAfter,
      broadcast: (document: string, event: string, data: unknown, except?: string) => {
        const to = namespace.to(document);
        (except === undefined ? to : to.except(except)).emit(event, data);
      },
      reportError: (err: unknown, document: string, during: string) => {
        try {
          onError(err, { document, during });
        } catch {
          // A failing error handler must not take the host down.
        }
      },
    };
    namespace.on('connection', this.#onConnection);
    for (const socket of namespace.sockets.values()) this.#serve(socket);
    this.#leaveCheck = setInterval(() => this.#checkLeavers(), positive(options.leaveCheckInterval, 1000, 'leaveCheckInterval'));
    this.#leaveCheck.unref?.();
  }

  /** The server's Y.Doc of `document`, loaded from the store. Changes the app makes to it are stored and sent to the room. */
  async document(name: string): Promise<Y.Doc> {
    if (this.#closed) throw new Error('DocumentHost is closed');
    const hosted = this.#hosted(name);
    await hosted.run(async () => {
      if (!hosted.loaded) await hosted.catchUp();
    });
    return hosted.doc;
  }

  /** Stop serving: finish queued work and compactions, then close the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#leaveCheck);
    this.#namespace.off('connection', this.#onConnection);
    for (const { socket, listeners } of this.#sockets.values()) for (const [event, listener] of listeners) socket.off(event, listener);
    this.#sockets.clear();
    await Promise.all([...this.#documents.values()].map((hosted) => hosted.settled()));
    for (const hosted of this.#documents.values()) hosted.destroy();
    this.#documents.clear();
    this.#awarenessCheck.destroy();
    await this.#store.close();
  }

  #serve(socket: DocumentSocket): void {
    if (this.#closed) return;
    const listeners: [string, (data: unknown) => unknown][] = [
      [YjsEvent.Sync, (data: unknown) => this.#sync(socket, data)],
      [YjsEvent.Update, (data: unknown) => this.#update(socket, data)],
      [YjsEvent.Awareness, (data: unknown) => this.#awareness(socket, data)],
      [
        'disconnect',
        () => {
          this.#sockets.delete(socket.id);
          for (const name of this.#socketDocuments.get(socket.id) ?? []) this.#leave(socket.id, name);
          this.#socketDocuments.delete(socket.id);
        },
      ],
    ];
    this.#sockets.set(socket.id, { socket, listeners });
    for (const [event, listener] of listeners) socket.on(event, listener);
  }

  async #sync(socket: DocumentSocket, data: unknown): Promise<SyncReply> {
    const { document, stateVector } = this.#message<SyncRequest>(socket, data);
    const vector = updateBytes(stateVector, 'stateVector');
    checkStateVector(vector);
    const readOnly = !(await this.#mayEdit(socket, document));
    const hosted = this.#join(socket, document);
    return hosted.run(() => hosted.sync(vector, readOnly));
  }

  async #update(socket: DocumentSocket, data: unknown): Promise<null> {
    const { document, update } = this.#message<UpdateMessage>(socket, data);
    const bytes = updateBytes(update);
    if (!(await this.#mayEdit(socket, document))) {
      throw new ReplyError(YjsErrorCode.ReadOnly, `this connection may read document "${document}" but not change it`);
    }
    checkUpdate(bytes);
    if (!socket.connected || !socket.rooms.has(document)) throw notJoined(document);
    const hosted = this.#join(socket, document);
    await hosted.run(() => hosted.applyUpdate(bytes, socket.id));
    return null;
  }

  #awareness(socket: DocumentSocket, data: unknown): null {
    const { document, update } = this.#message<AwarenessMessage>(socket, data);
    const bytes = updateBytes(update);
    const clients = this.#awarenessCheck.clientsOf(bytes);
    this.#join(socket, document).applyAwareness(bytes, socket.id, clients);
    return null;
  }

  /** The document named by a message, which must be a document this socket is in. */
  #message<T extends { document: string }>(socket: DocumentSocket, data: unknown): T {
    if (this.#closed) throw new ReplyError(YjsErrorCode.NotADocument, 'the document host is closed');
    const document = typeof data === 'object' && data !== null ? (data as { document?: unknown }).document : undefined;
    if (typeof document !== 'string' || !this.#isDocument(document)) {
      throw new ReplyError(YjsErrorCode.NotADocument, `${typeof document === 'string' ? `room "${document}"` : 'the message names no room that'} is not a document`);
    }
    if (!socket.rooms.has(document)) throw notJoined(document);
    return data as T;
  }

  async #mayEdit(socket: DocumentSocket, document: string): Promise<boolean> {
    return (await this.#canEdit(socket, document)) === true;
  }

  /** The socket takes part in the document (its awareness states are removed when it leaves). */
  #join(socket: DocumentSocket, name: string): HostedDocument {
    const hosted = this.#hosted(name);
    hosted.participants.add(socket.id);
    let names = this.#socketDocuments.get(socket.id);
    if (!names) this.#socketDocuments.set(socket.id, (names = new Set()));
    names.add(name);
    return hosted;
  }

  #hosted(name: string): HostedDocument {
    let hosted = this.#documents.get(name);
    if (!hosted) this.#documents.set(name, (hosted = new HostedDocument(name, this.#context)));
    return hosted;
  }

  /** A socket left a document (its room, or the namespace): its awareness goes, and an unused document is unloaded. */
  #leave(socketId: string, name: string): void {
    const hosted = this.#documents.get(name);
    this.#socketDocuments.get(socketId)?.delete(name);
    if (!hosted) return;
    hosted.release(socketId);
    if (hosted.participants.size > 0) return;
    void hosted.settled().then(() => {
      if (hosted.participants.size > 0 || this.#documents.get(name) !== hosted || this.#closed) return;
      this.#documents.delete(name);
      hosted.destroy();
    });
  }

  /** The server tells the host of no room leaves: look for sockets no longer in a document's room. */
  #checkLeavers(): void {
    for (const [socketId, names] of this.#socketDocuments) {
      const socket = this.#sockets.get(socketId)?.socket;
      for (const name of names) if (!socket?.connected || !socket.rooms.has(name)) this.#leave(socketId, name);
    }
  }
}

function notJoined(document: string): ReplyError {
  return new ReplyError(YjsErrorCode.NotJoined, `join room "${document}" before using the document`);
}

function roomPredicate(matcher: DocumentHostOptions<DocumentSocket>['documents']): (room: string) => boolean {
  if (typeof matcher === 'string') return (room) => room === matcher;
  if (matcher instanceof RegExp) {
    // A global or sticky RegExp keeps lastIndex between test() calls; a copy without those flags does not.
    const pattern = new RegExp(matcher.source, matcher.flags.replace(/[gy]/g, ''));
    return (room) => pattern.test(room);
  }
  if (typeof matcher === 'function') return matcher;
  throw new TypeError('DocumentHost: options.documents must be a room name, a RegExp or a function');
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new RangeError(`DocumentHost: ${name} must be a positive number, got ${String(value)}`);
  return value;
}
