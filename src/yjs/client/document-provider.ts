import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { type AwarenessMessage, type SyncReply, type SyncRequest, type UpdateMessage, YjsErrorCode, YjsEvent } from '../messages.js';
import { AwarenessLink } from './awareness-link.js';
import type { DocumentClient } from './document-client.js';
import { type DocumentProviderEvents, ProviderListeners } from './provider-events.js';
import { codeOf, isConnectionLoss, refusesTheDocument, refusesTheUpdate } from './reply-codes.js';
import { carriesChanges, UpdateQueue } from './update-queue.js';

/** Options of `new DocumentProvider()`. */
export interface DocumentProviderOptions {
  /** The awareness (cursors, names) to share. Default: a new `Awareness(doc)`, destroyed with the provider. */
  awareness?: Awareness;
}

/** Backoff of a sync retried after a failure other than a lost connection: windows of 0.5, 1, 2, 4, 5, 5... s. */
const RETRY_DELAY_MS = 500;
const RETRY_MAX_DELAY_MS = 5000;

/**
 * Connects a Y.Doc and an Awareness to a document on a Switchboard server (a `DocumentHost`),
 * over an existing client: joins the document's room (the client rejoins it after every
 * reconnect), syncs on every connect, sends local changes while synced and applies remote
 * ones. Edits made while disconnected are carried by the next sync; nothing is sent twice
 * that Yjs would apply twice (it never does).
 */
export class DocumentProvider {
  /** The document's name, which is also its room. */
  readonly document: string;
  /** The local copy of the document. */
  readonly doc: Y.Doc;
  /** The awareness shared with the document's other clients. */
  readonly awareness: Awareness;

  readonly #client: DocumentClient;
  readonly #listeners = new ProviderListeners();
  readonly #awarenessLink: AwarenessLink;
  readonly #ownsAwareness: boolean;
  readonly #queue: UpdateQueue;
  #synced = false;
  #readOnly = false;
  #connected = false;
  #destroyed = false;
  /** Counts syncs: a reply or failure of an older one must not undo a newer one's outcome. */
  #syncRun = 0;
  #retryAttempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The server refused the room (authorizeJoin): asked again at the next connect, not in a loop. */
  #joinRefused = false;
  /** The join this provider is waiting for, if any. */
  #joining: Promise<boolean> | undefined;
  /** A sync answered `not_joined` was retried once right after a join; a second one waits a backoff. */
  #rejoinedForSync = false;

  /**
   * @param client - a connected (or connecting) client: `connect(...)`'s result, or a namespace handle `client.of('/docs')`.
   * @param document - the document's name, which is also its room.
   * @param doc - the local copy; its content so far is merged into the server's at the first sync.
   */
  constructor(
    client: DocumentClient,
    document: string,
    doc: Y.Doc,
    options: DocumentProviderOptions = {},
  ) {
    if (typeof document !== 'string' || document.length === 0 || document.length > 256) {
      throw new TypeError('DocumentProvider: the document name must be a string of 1 to 256 characters');
    }
    if (!(doc instanceof Y.Doc)) throw new TypeError('DocumentProvider: doc must be a Y.Doc');
    if (options.awareness && options.awareness.doc !== doc) throw new TypeError('DocumentProvider: options.awareness belongs to another Y.Doc');
    this.#client = client;
    this.document = document;
    this.doc = doc;
    this.#ownsAwareness = options.awareness === undefined;
    this.awareness = options.awareness ?? new Awareness(doc);
    this.#awarenessLink = new AwarenessLink(this.awareness, (update) => this.#emit(YjsEvent.Awareness, { document, update } satisfies AwarenessMessage));
    this.#queue = new UpdateQueue((update) => this.#sendUpdate(update));

    doc.on('update', this.#onLocalUpdate);
    client.on(YjsEvent.Update, this.#onRemoteUpdate);
    client.on(YjsEvent.Awareness, this.#onRemoteAwareness);
    client.on('connect', this.#onConnect);
    client.on('disconnect', this.#onDisconnect);
    void this.#join();
    // Frames go out in order, so this sync follows the join (a server still authorizing the
    // join may answer it not_joined first: #syncFailed then waits for the join). When the
    // client is not connected yet, its `connect` event starts the first sync.
    if (client.connected) {
      this.#connected = true;
      this.#sync();
    }
  }

  /** The document matches the server's as of the last sync; false while disconnected and until the sync after a reconnect. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The server lets this client read but not edit the document (told at each sync). A read-only provider sends no updates. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** The client's namespace is connected. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Listen to `synced`, `status` or `error` (see DocumentProviderEvents). */
  on<E extends keyof DocumentProviderEvents>(event: E, listener: DocumentProviderEvents[E]): this {
    this.#listeners.add(event, listener);
    return this;
  }

  /** Remove one listener, or all of the event's listeners when none is given. */
  off<E extends keyof DocumentProviderEvents>(event: E, listener?: DocumentProviderEvents[E]): this {
    this.#listeners.remove(event, listener);
    return this;
  }

  /**
   * Stop: removes the local awareness state (the others see the cursor go), leaves the room,
   * stops listening to the client and the doc. The doc and the client stay usable; an
   * awareness the provider made is destroyed. Calling it twice does nothing.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#clearRetry();
    this.#queue.clear();
    this.#awarenessLink.close();
    this.doc.off('update', this.#onLocalUpdate);
    this.#client.off(YjsEvent.Update, this.#onRemoteUpdate);
    this.#client.off(YjsEvent.Awareness, this.#onRemoteAwareness);
    this.#client.off('connect', this.#onConnect);
    this.#client.off('disconnect', this.#onDisconnect);
    try {
      this.#client.leave(this.document).catch(() => {
        // Leaving fails only when the connection went away, which ends the membership too.
      });
    } catch {
      // The client was closed: there is nothing to leave.
    }
    if (this.#ownsAwareness) this.awareness.destroy();
    this.#synced = false;
    this.#connected = false;
    this.#listeners.clear();
  }

  readonly #onConnect = (): void => {
    this.#connected = true;
    this.#listeners.emit('status', { connected: true });
    // The client rejoined its rooms before `connect` (and a resumed session kept them); the
    // sync goes out after the join, in order. A room it dropped (refused) is asked for again.
    this.#rejoinedForSync = false;
    if (!this.#client.rooms.has(this.document)) void this.#join();
    this.#sync();
  };

  readonly #onDisconnect = (): void => {
    this.#connected = false;
    this.#synced = false;
    this.#clearRetry();
    this.#queue.clear();
    this.#awarenessLink.setLive(false);
    this.#listeners.emit('status', { connected: false });
  };

  readonly #onLocalUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this || !this.#synced || this.#readOnly) return;
    // Until synced again, the next sync sends whatever the server is missing, this included.
    this.#queue.push(update);
  };

  readonly #onRemoteUpdate = (data: UpdateMessage): void => {
    if (data?.document !== this.document) return;
    if (!(data.update instanceof Uint8Array)) {
      this.#report(YjsErrorCode.MalformedUpdate, 'the server sent a yjs:update whose update is not binary');
      return;
    }
    try {
      Y.applyUpdate(this.doc, data.update, this);
    } catch (err) {
      this.#report(YjsErrorCode.MalformedUpdate, `the server sent a yjs:update Yjs cannot apply: ${(err as Error).message}`);
    }
  };

  readonly #onRemoteAwareness = (data: AwarenessMessage): void => {
    if (data?.document !== this.document || !this.#awarenessLink.live) return;
    if (!(data.update instanceof Uint8Array)) return;
    try {
      this.#awarenessLink.receive(data.update);
    } catch (err) {
      this.#report(YjsErrorCode.MalformedUpdate, `the server sent a yjs:awareness update that cannot be read: ${(err as Error).message}`);
    }
  };

  /** Join the document's room; resolves true once the server confirms, false when it did not. */
  #join(): Promise<boolean> {
    this.#joinRefused = false;
    this.#joining ??= this.#client.join(this.document).then(
      () => {
        this.#joining = undefined;
        return true;
      },
      (err: unknown) => {
        this.#joining = undefined;
        if (this.#destroyed) return false;
        const code = codeOf(err);
        // A timeout keeps the room subscribed (the client joins it later); a lost connection retries by itself.
        if (code === 'timeout' || isConnectionLoss(code)) return false;
        this.#joinRefused = true;
        this.#reportError(err, `could not join the document's room "${this.document}"`);
        return false;
      },
    );
    return this.#joining;
  }

  #sync(): void {
    if (this.#destroyed) return;
    const run = ++this.#syncRun;
    this.#clearRetry();
    this.#synced = false;
    this.#queue.clear();
    const request: SyncRequest = { document: this.document, stateVector: Y.encodeStateVector(this.doc) };
    (this.#client.emitWithAck(YjsEvent.Sync, request) as Promise<SyncReply>).then(
      (reply) => this.#synchronise(run, reply),
      (err: unknown) => this.#syncFailed(run, err),
    );
  }

  #synchronise(run: number, reply: SyncReply): void {
    if (this.#destroyed) return;
    if (!(reply?.update instanceof Uint8Array) || !(reply.stateVector instanceof Uint8Array) || !(reply.awareness instanceof Uint8Array)) {
      this.#report(YjsErrorCode.MalformedUpdate, 'the server answered yjs:sync without update, stateVector and awareness as binary');
      return;
    }
    try {
      // Even the reply of an outdated sync is worth applying: Yjs takes each change once.
      Y.applyUpdate(this.doc, reply.update, this);
    } catch (err) {
      this.#report(YjsErrorCode.MalformedUpdate, `the server's yjs:sync update cannot be applied: ${(err as Error).message}`);
      return;
    }
    if (run !== this.#syncRun || !this.#connected) return;
    this.#readOnly = reply.readOnly === true;
    this.#awarenessLink.setLive(true);
    if (reply.awareness.length > 0) {
      try {
        this.#awarenessLink.receive(reply.awareness);
      } catch {
        // Someone's cursor cannot be shown; the document is fine.
      }
    }
    this.#synced = true;
    if (!this.#readOnly) {
      const missing = Y.encodeStateAsUpdate(this.doc, reply.stateVector);
      if (carriesChanges(missing)) this.#sendUpdate(missing);
    }
    this.#retryAttempt = 0;
    this.#rejoinedForSync = false;
    this.#awarenessLink.announce();
    this.#listeners.emit('synced');
  }

  #syncFailed(run: number, err: unknown): void {
    if (this.#destroyed || run !== this.#syncRun) return;
    const code = codeOf(err);
    if (isConnectionLoss(code)) return;
    if (code === YjsErrorCode.NotJoined) {
      // The join was refused (and reported): the next connect asks again.
      if (this.#joinRefused) return;
      // The sync overtook the join (the server was still authorizing it, after a reconnect
      // or at the start): wait for the join, then sync at once. Once only: a server that
      // keeps answering not_joined gets the backoff below.
      if (!this.#rejoinedForSync) {
        this.#rejoinedForSync = true;
        void this.#join().then((joined) => {
          if (joined && run === this.#syncRun && this.#connected && !this.#destroyed) this.#sync();
        });
        return;
      }
    }
    this.#reportError(err, `could not sync "${this.document}"`);
    if (refusesTheDocument(code)) return;
    this.#scheduleRetry();
  }

  /** Send a local update; what it returns settles once the server answered (undefined: nothing sent). */
  #sendUpdate(update: Uint8Array): Promise<void> | undefined {
    if (!this.#synced || this.#readOnly) return undefined;
    const run = this.#syncRun;
    return this.#emitWithAck(YjsEvent.Update, { document: this.document, update } satisfies UpdateMessage).then(() => undefined, (err: unknown) => {
      if (this.#destroyed) return;
      const code = codeOf(err);
      if (isConnectionLoss(code)) return;
      if (code === YjsErrorCode.ReadOnly) this.#readOnly = true;
      this.#reportError(err, `an update to "${this.document}" was refused`);
      if (refusesTheUpdate(code) || run !== this.#syncRun || !this.#connected) return;
      // Lost in a cut link, not joined, or not stored: a sync sends whatever the server lacks.
      this.#synced = false;
      this.#scheduleRetry();
    });
  }

  #scheduleRetry(): void {
    if (!this.#connected || this.#retryTimer !== undefined) return;
    // Full jitter, as the client's own reconnects (its backoffDelay is not imported: the
    // provider takes nothing but types from the client, so it works with any copy of it).
    const delay = Math.random() * Math.min(RETRY_MAX_DELAY_MS, RETRY_DELAY_MS * 2 ** this.#retryAttempt++);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#connected) this.#sync();
    }, delay);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #emit(event: string, data: unknown): void {
    try {
      this.#client.emit(event, data);
    } catch (err) {
      // buffer_full and the like: awareness is refreshed often enough to skip one.
      this.#reportError(err, `could not send ${event}`);
    }
  }

  #emitWithAck(event: string, data: unknown): Promise<unknown> {
    return this.#client.emitWithAck(event, data);
  }

  #report(code: string, message: string): void {
    this.#listeners.emit('error', Object.assign(new Error(message), { code }));
  }

  #reportError(err: unknown, context: string): void {
    const code = codeOf(err);
    const error = Object.assign(new Error(`${context}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }), { code });
    this.#listeners.emit('error', error);
  }
}
