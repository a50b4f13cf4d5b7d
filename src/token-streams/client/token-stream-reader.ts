import type { Publication, StreamPosition } from '../../protocol/frames.js';
import { type CancelRequestData, isMessageId, MAX_ID_LENGTH, TokenStreamEvent, TokenStreamRequest } from '../wire.js';
import { readHistoryTail } from './history-tail.js';
import { MessageAssembly, type TokenMessage } from './message-assembly.js';
import type { TokenStreamClient, TokenStreamStorage } from './reader-client.js';

/** Options of `new TokenStreamReader()`. */
export interface TokenStreamReaderOptions {
  /**
   * Keep the messages and the room position here after every change (`sessionStorage` in a
   * page), and continue from them when a reader for the same key starts: a reloaded page goes
   * on mid-message with nothing repeated or missing. Default: none (every start reads history).
   */
  storage?: TokenStreamStorage;
  /** The key in `storage`. Default `switchboard:token-streams:<namespace>:<room>`. */
  storageKey?: string;
  /** How many of the room's latest publications to read when starting without a saved position, or rebuilding. Default 1000. */
  backlog?: number;
  /** How many messages to keep (and save); the oldest go first. Default 200. */
  keep?: number;
}

/** Options of `reader.cancel()`. */
export interface CancelOptions {
  /** Reject with `timeout` when the server has not answered within this many ms. Default: the client's `ackTimeout`. */
  timeout?: number;
}

/** Events of a TokenStreamReader. */
export interface TokenStreamReaderEvents {
  /** A message appeared or changed (grew, finished, failed): its new state. */
  message: (message: TokenMessage) => void;
  /** Every message may have changed (restored from storage, rebuilt from history): the whole list, oldest first. */
  reset: (messages: TokenMessage[]) => void;
  /** Something the reader could not do: the join was refused, a history read or a save failed. `error.code` has the code. */
  error: (error: Error & { code?: string }) => void;
}

export const DEFAULT_BACKLOG = 1000;
export const DEFAULT_KEEP = 200;
/** Wait before reading history again after a read failed (offline, timeout). */
const RETRY_DELAY_MS = 1000;
const STREAM_EVENTS = Object.values(TokenStreamEvent);
/** History answers that another read would only repeat. */
const FINAL_CODES: ReadonlySet<unknown> = new Set(['not_durable', 'forbidden', 'closed', 'bad_request']);

type Listeners = { [E in keyof TokenStreamReaderEvents]: Set<TokenStreamReaderEvents[E]> };

/**
 * Reads the token streams of one durable room and renders them as they grow: joins the room
 * (from the saved position when there is one), applies each chunk once and in order, and
 * rebuilds from the room's history whenever its position cannot be recovered (`recovered:
 * false` after a reconnect, a first start, a gap) — never a silent hole.
 */
export class TokenStreamReader {
  /** The room read. */
  readonly room: string;
  /** Settles once the room is joined and the messages are complete as of then; rejects when the join is refused. */
  readonly ready: Promise<void>;

  readonly #client: TokenStreamClient;
  readonly #storage: TokenStreamStorage | undefined;
  readonly #storageKey: string;
  readonly #backlog: number;
  readonly #keep: number;
  readonly #listeners: Listeners = { message: new Set(), reset: new Set(), error: new Set() };
  readonly #handlers = new Map<string, (data: unknown, meta: { room?: string; position?: StreamPosition } | undefined) => void>();
  #assembly: MessageAssembly;
  #restored: boolean;
  /** While history is read: live publications wait here, applied after it. */
  #held: Publication[] | undefined;
  #rebuilding: Promise<void> | undefined;
  #rebuildAgain = false;
  #saveQueued = false;
  #closed = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param client - a client (`connect(...)`) or a namespace handle (`client.of('/ai')`).
   * @param room - a durable room the producer streams to.
   */
  constructor(client: TokenStreamClient, room: string, options: TokenStreamReaderOptions = {}) {
    if (typeof room !== 'string' || room.length === 0 || room.length > 256) throw new TypeError('TokenStreamReader: the room must be a string of 1 to 256 characters');
    const backlog = options.backlog ?? DEFAULT_BACKLOG;
    const keep = options.keep ?? DEFAULT_KEEP;
    if (!Number.isSafeInteger(backlog) || backlog < 1) throw new RangeError('TokenStreamReader: backlog must be a whole number >= 1');
    if (!(keep >= 1)) throw new RangeError('TokenStreamReader: keep must be >= 1');
    this.#client = client;
    this.room = room;
    this.#storage = options.storage;
    this.#storageKey = options.storageKey ?? `switchboard:token-streams:${client.namespace}:${room}`;
    this.#backlog = backlog;
    this.#keep = keep;
    const restored = this.#load();
    this.#restored = restored !== undefined;
    this.#assembly = restored ?? new MessageAssembly(keep);

    for (const event of STREAM_EVENTS) {
      const handler = (data: unknown, meta: { room?: string; position?: StreamPosition } | undefined): void => {
        if (meta?.room === this.room && meta.position) this.#onPublication({ event, data, position: meta.position });
      };
      this.#handlers.set(event, handler);
      client.on(event, handler);
    }
    client.on('recovery', this.#onRecovery);
    this.ready = this.#start();
    // The `error` event reports it too; an app that never awaits `ready` must not get an unhandled rejection.
    this.ready.catch(() => {});
  }

  /** The messages, oldest first (copies). */
  get messages(): TokenMessage[] {
    return this.#assembly.list();
  }

  /** One message by id (a copy), if the reader has it. */
  message(id: string): TokenMessage | undefined {
    return this.#assembly.get(id);
  }

  /** The room position the messages include (what is saved), if any. */
  get position(): StreamPosition | undefined {
    return this.#assembly.position;
  }

  /** Listen to `message`, `reset` or `error` (see TokenStreamReaderEvents). */
  on<E extends keyof TokenStreamReaderEvents>(event: E, listener: TokenStreamReaderEvents[E]): this {
    this.#listeners[event].add(listener);
    return this;
  }

  /** Remove one listener, or all of the event's listeners when none is given. */
  off<E extends keyof TokenStreamReaderEvents>(event: E, listener?: TokenStreamReaderEvents[E]): this {
    if (listener) this.#listeners[event].delete(listener);
    else this.#listeners[event].clear();
    return this;
  }

  /**
   * Ask the server to stop message `id` of this reader's room ("Stop generating"): sends a
   * `token-stream:cancel` request, which a server answers once it called
   * `acceptTokenStreamCancels()`. Resolves once the stream was cancelled — its producer's
   * `signal` aborted; the message then ends as failed with code `cancelled` and keeps its
   * text so far, for this reader and every other one (the `message` event says so; it may
   * come before or after this resolves). Rejects with a `SwitchboardError` whose `code` is
   * `forbidden` (not allowed: by default, only members of the room may cancel),
   * `stream_closed` (the message already ended), `unknown_stream` (no server streams it),
   * `no_handler` (the server does not accept cancels), or a request failure (`timeout`,
   * `disconnected`, …). Throws `TypeError` for an id that is not 1 to 128 characters.
   */
  cancel(id: string, options: CancelOptions = {}): Promise<void> {
    if (!isMessageId(id)) throw new TypeError(`TokenStreamReader.cancel: the id must be a string of 1 to ${MAX_ID_LENGTH} characters`);
    const request: CancelRequestData = { room: this.room, id };
    const args: unknown[] = options.timeout === undefined ? [request] : [request, { timeout: options.timeout }];
    return this.#client.emitWithAck(TokenStreamRequest.Cancel, ...args).then(() => undefined);
  }

  /** Stop reading: remove the reader's listeners from the client and leave the room. What was saved stays saved. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [event, handler] of this.#handlers) this.#client.off(event, handler);
    this.#client.off('recovery', this.#onRecovery);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#client.leave(this.room).catch(() => {});
    for (const set of Object.values(this.#listeners)) set.clear();
  }

  async #start(): Promise<void> {
    // Listeners added right after the constructor get the restored messages.
    await Promise.resolve();
    if (this.#restored) this.#emit('reset', this.#assembly.list());
    const since = this.#assembly.position;
    // Without a position everything live waits for the history read.
    if (!since) this.#held = [];
    let reply: { position?: StreamPosition; recovered?: boolean };
    try {
      reply = await this.#client.join(this.room, since ? { since } : {});
      if (!reply.position) throw Object.assign(new Error(`TokenStreamReader: room "${this.room}" is not durable`), { code: 'not_durable' });
    } catch (err) {
      this.#held = undefined;
      this.#emit('error', err as Error);
      throw err;
    }
    // With `since` the gap was replayed through the handlers before the reply.
    if (!since || reply.recovered !== true) await this.#rebuild();
  }

  readonly #onRecovery = (info: { room: string; recovered: boolean }): void => {
    if (info.room === this.room && !info.recovered && !this.#closed) void this.#rebuild();
  };

  #onPublication(publication: Publication): void {
    if (this.#closed) return;
    if (this.#held) {
      this.#held.push(publication);
      return;
    }
    if (this.#assembly.isOtherEpoch(publication.position)) {
      // The room's history was lost and restarted: what this reader holds cannot be continued from it.
      this.#held = [publication];
      void this.#rebuild();
      return;
    }
    const { outcome, changed } = this.#assembly.apply(publication);
    if (outcome === 'gap') {
      this.#held = [publication];
      void this.#rebuild();
      return;
    }
    if (changed) {
      this.#emit('message', changed);
      this.#queueSave();
    }
  }

  /** Read the end of the history and apply it, then what arrived meanwhile. One at a time; a request during one runs another after it. */
  #rebuild(): Promise<void> {
    this.#held ??= [];
    if (this.#rebuilding) {
      this.#rebuildAgain = true;
      return this.#rebuilding;
    }
    this.#rebuilding = this.#rebuildLoop().finally(() => {
      this.#rebuilding = undefined;
    });
    return this.#rebuilding;
  }

  async #rebuildLoop(): Promise<void> {
    do {
      this.#rebuildAgain = false;
      let tail: Awaited<ReturnType<typeof readHistoryTail>>;
      try {
        tail = await readHistoryTail(this.#client, this.room, this.#backlog, (publications) => this.#wantsEarlier(publications));
      } catch (err) {
        if (this.#closed) return;
        this.#emit('error', err as Error);
        if (FINAL_CODES.has((err as { code?: unknown })?.code)) {
          // Reading again would get the same answer; live publications go on from here.
          this.#flushHeld();
          return;
        }
        await new Promise<void>((resolve) => {
          this.#retryTimer = setTimeout(resolve, RETRY_DELAY_MS);
        });
        if (this.#closed) return;
        this.#rebuildAgain = true;
        continue;
      }
      if (this.#closed) return;
      // The history is applied whatever the position says: a live publication applied just
      // before the rebuild began (several frames handled in one turn) may have moved it past
      // what is missing. Chunk indexes keep each chunk to once.
      this.#assembly.forgetPosition();
      for (const publication of tail.publications) this.#assembly.apply(publication, true);
      this.#flushHeld();
      if (this.#rebuildAgain) this.#held = [];
    } while (this.#rebuildAgain && !this.#closed);
  }

  /** Apply what arrived while reading history: in stream order, each once (the history may hold some of it). Then live again. */
  #flushHeld(): void {
    const held = (this.#held ?? []).sort((a, b) => a.position.offset - b.position.offset);
    this.#held = undefined;
    for (const publication of held) {
      if (!this.#assembly.isOtherEpoch(publication.position)) this.#assembly.apply(publication, true);
    }
    this.#emit('reset', this.#assembly.list());
    this.#queueSave();
  }

  /** Read earlier history while the pages read start in the middle of a message whose earlier chunks this reader does not have. */
  #wantsEarlier(publications: readonly Publication[]): boolean {
    return this.#assembly.startsMidMessage(publications);
  }

  #queueSave(): void {
    if (!this.#storage || this.#saveQueued) return;
    this.#saveQueued = true;
    // Once per turn: a burst of chunks is one write.
    queueMicrotask(() => {
      this.#saveQueued = false;
      if (this.#closed) return;
      try {
        this.#storage?.setItem(this.#storageKey, JSON.stringify(this.#assembly.snapshot()));
      } catch (err) {
        this.#emit('error', err as Error);
      }
    });
  }

  #load(): MessageAssembly | undefined {
    if (!this.#storage) return undefined;
    try {
      const saved = this.#storage.getItem(this.#storageKey);
      return saved === null ? undefined : MessageAssembly.restore(JSON.parse(saved), this.#keep);
    } catch {
      // Damaged or unreadable: start from history.
      return undefined;
    }
  }

  #emit<E extends keyof TokenStreamReaderEvents>(event: E, ...args: Parameters<TokenStreamReaderEvents[E]>): void {
    for (const listener of [...this.#listeners[event]]) {
      try {
        (listener as (...a: Parameters<TokenStreamReaderEvents[E]>) => void)(...args);
      } catch (err) {
        // Like a DOM event listener: the reader's own work goes on.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
