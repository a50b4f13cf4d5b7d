import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { ReplyError } from '../server/index.js';
import { AwarenessOwners } from './awareness-owners.js';
import type { DocumentStore } from './document-store.js';
import { YjsErrorCode, YjsEvent, type SyncReply } from './messages.js';

/** The origin of every change the host itself applies: changes with any other origin were made by the app. */
const HOST_ORIGIN = Symbol('switchboard/yjs host');

/** What a document needs of its host. */
export interface DocumentContext {
  readonly store: DocumentStore;
  readonly maxDocumentBytes: number;
  readonly compactAfter: number;
  /** Send an event to the document's room, leaving out the socket `except`. */
  broadcast(document: string, event: string, data: unknown, except?: string): void;
  reportError(err: unknown, document: string, during: string): void;
}

/**
 * One document on this node: its Y.Doc (loaded from the store, caught up incrementally
 * with what other nodes stored), its awareness and who owns which states in it, the bound
 * on its size, and its compaction. Work that touches the Y.Doc or the store runs one task at
 * a time (`run`), so a load, updates and app edits never interleave.
 */
export class HostedDocument {
  readonly doc = new Y.Doc();
  readonly awareness: Awareness;
  /** Local sockets that opened the document (synced or sent to it), by id. */
  readonly participants = new Set<string>();
  readonly #owners = new AwarenessOwners();
  readonly #context: DocumentContext;
  /** The store's cursor: the last seq applied to `doc`; undefined until loaded. */
  #cursor: number | undefined;
  /** An upper estimate of the encoded size (see admits()). */
  #estimate = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #compaction: Promise<void> | undefined;
  #destroyed = false;

  constructor(
    readonly name: string,
    context: DocumentContext,
  ) {
    this.#context = context;
    this.awareness = new Awareness(this.doc);
    // The server is no participant: it holds others' states, none of its own.
    this.awareness.setLocalState(null);
    this.awareness.on('update', ({ removed }: { removed: number[] }) => this.#owners.forget(removed));
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== HOST_ORIGIN) void this.run(() => this.#storeAppEdit(update));
    });
  }

  /** Run `task` after every task queued before it. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => {});
    return result;
  }

  get loaded(): boolean {
    return this.#cursor !== undefined;
  }

  /** Apply what the store holds beyond the cursor (everything, the first time). Inside run(). */
  async catchUp(): Promise<void> {
    let found;
    try {
      found = await this.#context.store.load(this.name, this.#cursor);
    } catch (err) {
      throw this.#storageFailed(err, 'loading from the store');
    }
    const first = this.#cursor === undefined;
    if (found.updates.length > 0) {
      this.doc.transact(() => {
        for (const update of found.updates) Y.applyUpdate(this.doc, update, HOST_ORIGIN);
      }, HOST_ORIGIN);
    }
    this.#cursor = found.cursor;
    if (first) this.#estimate = Y.encodeStateAsUpdate(this.doc).byteLength;
    else for (const update of found.updates) this.#estimate += estimateGrowth(update);
  }

  /** The reply to a sync: what the client misses, our state vector and every awareness state. Inside run(). */
  async sync(stateVector: Uint8Array, readOnly: boolean): Promise<SyncReply> {
    await this.catchUp();
    return {
      update: Y.encodeStateAsUpdate(this.doc, stateVector),
      stateVector: Y.encodeStateVector(this.doc),
      awareness: encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()]),
      readOnly,
    };
  }

  /**
   * A client's update (already checked to be one Yjs reads): within the size bound, stored,
   * applied, and sent to the room but the sender. Refused: none of that happens. Inside run().
   */
  async applyUpdate(update: Uint8Array, sender: string): Promise<void> {
    await this.catchUp();
    if (!this.#admits(update)) {
      throw new ReplyError(YjsErrorCode.DocumentTooLarge, `the update would take document "${this.name}" past maxDocumentBytes (${this.#context.maxDocumentBytes})`);
    }
    let stored;
    try {
      stored = await this.#context.store.append(this.name, update);
    } catch (err) {
      throw this.#storageFailed(err, 'storing an update');
    }
    // Stored first: an update the store refused never reaches the document or anyone.
    Y.applyUpdate(this.doc, update, HOST_ORIGIN);
    this.#estimate += estimateGrowth(update);
    this.#advance(stored.seq);
    this.#context.broadcast(this.name, YjsEvent.Update, { document: this.name, update }, sender);
    if (stored.uncompacted >= this.#context.compactAfter) this.#compact();
  }

  /** A client's awareness update (already read on a scratch Awareness): applied, owned, sent on. */
  applyAwareness(update: Uint8Array, sender: string, clients: { present: number[]; removed: number[] }): void {
    applyAwarenessUpdate(this.awareness, update, sender);
    this.#owners.claim(sender, clients.present.filter((clientID) => this.awareness.states.has(clientID)));
    this.#owners.forget(clients.removed);
    this.#context.broadcast(this.name, YjsEvent.Awareness, { document: this.name, update }, sender);
  }

  /** The socket left the document: remove its awareness states and tell the room. */
  release(socketId: string): void {
    this.participants.delete(socketId);
    const clients = this.#owners.release(socketId).filter((clientID) => this.awareness.states.has(clientID));
    if (clients.length === 0) return;
    removeAwarenessStates(this.awareness, clients, HOST_ORIGIN);
    const update = encodeAwarenessUpdate(this.awareness, clients);
    this.#context.broadcast(this.name, YjsEvent.Awareness, { document: this.name, update });
  }

  /** Settles once queued work and a running compaction are done. */
  async settled(): Promise<void> {
    await this.#tail;
    await this.#compaction;
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.awareness.destroy();
    this.doc.destroy();
  }

  /**
   * Whether the document stays within maxDocumentBytes with `update` applied. The running
   * estimate (encoded size at load plus a generous growth per update) answers cheaply far from
   * the bound; near it, the merged size is measured and becomes the new estimate.
   */
  #admits(update: Uint8Array): boolean {
    const max = this.#context.maxDocumentBytes;
    if (this.#estimate + estimateGrowth(update) <= max) return true;
    const exact = Y.mergeUpdates([Y.encodeStateAsUpdate(this.doc), update]).byteLength;
    if (exact > max) return false;
    // Applied next: the estimate covers it (the caller adds its growth).
    this.#estimate = exact - estimateGrowth(update);
    return true;
  }

  /** Our own append moves the cursor only when nothing from another node lies between. */
  #advance(seq: number): void {
    if (this.#cursor !== undefined && seq === this.#cursor + 1) this.#cursor = seq;
  }

  /** A change the app made to `doc` (host.document()): stored and sent to the whole room. */
  async #storeAppEdit(update: Uint8Array): Promise<void> {
    if (this.#destroyed) return;
    try {
      const stored = await this.#context.store.append(this.name, update);
      this.#estimate += estimateGrowth(update);
      this.#advance(stored.seq);
      this.#context.broadcast(this.name, YjsEvent.Update, { document: this.name, update });
      if (stored.uncompacted >= this.#context.compactAfter) this.#compact();
    } catch (err) {
      this.#context.reportError(err, this.name, 'storing a change the app made');
    }
  }

  /** The client hears the code; what the store said stays on the server (reported). */
  #storageFailed(err: unknown, during: string): ReplyError {
    this.#context.reportError(err, this.name, during);
    return new ReplyError(YjsErrorCode.StorageFailed, `the document store failed (${during}); the update was not applied or sent on`, { cause: err });
  }

  #compact(): void {
    if (this.#compaction) return;
    this.#compaction = this.#context.store
      .compact(this.name)
      .catch((err: unknown) => this.#context.reportError(err, this.name, 'compaction'))
      .finally(() => {
        this.#compaction = undefined;
      });
  }
}

/**
 * How much an update may add to the encoded document: its own bytes, plus room for the items
 * it splits (each split adds a few bytes of origin to the document's encoding).
 */
function estimateGrowth(update: Uint8Array): number {
  return update.byteLength * 2 + 64;
}

