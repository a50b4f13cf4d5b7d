import { SwitchboardError } from '../protocol/errors.js';
import type { TokenStreamPublisher } from './publisher.js';
import { streamRegistry } from './stream-registry.js';
import { type ChunkData, type FailData, type FinishData, isMessageId, MAX_ID_LENGTH, type StartData, TokenStreamErrorCode, TokenStreamEvent } from './wire.js';

/** Options of `startTokenStream()`. */
export interface TokenStreamOptions {
  /** The message id, 1 to 128 characters, unique in the room. Default: a random UUID. */
  id?: string;
  /** Any JSON the app attaches to the message (author, role, model), carried by `start`, `finish` and `fail`. Default: none. */
  meta?: unknown;
  /**
   * Fail the stream with `idle_timeout` when nothing is appended (nor `finish`/`fail` called)
   * for this many ms, so a producer that hangs does not leave the message open for ever.
   * `0` turns it off. Default 60000.
   */
  idleTimeout?: number;
}

/** Where a stream is: open for appends, or ended one way or the other. */
export type TokenStreamState = 'streaming' | 'finished' | 'failed';

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * One message streamed in chunks to a durable room: `start`, then `append()` as tokens come,
 * then `finish()` (or `fail()`). Publications go out one at a time, in order: text appended
 * while one is on its way is joined into the next chunk, so a producer faster than the store
 * or the network never reorders, and never makes more publications than the link can carry.
 * If a publication fails, nothing after it is published (a reader never sees a hole in the
 * middle): the stream fails with `publish_failed` and tries to say so with a `fail` event.
 */
export class TokenStream {
  /** The message id (the `id` of every event). */
  readonly id: string;
  /** The durable room the message is published to. */
  readonly room: string;

  readonly #publisher: TokenStreamPublisher;
  readonly #meta: unknown;
  readonly #hasMeta: boolean;
  readonly #idleTimeout: number;
  #state: TokenStreamState = 'streaming';
  /** Everything appended. */
  #text = '';
  /** Appended, not yet handed to a publication. */
  #pending = '';
  #flushQueued = false;
  /** Chunks published so far, and their text. */
  #chunks = 0;
  #published = '';
  /** Publications run one after the other on this chain; it never rejects. */
  #chain: Promise<void> = Promise.resolve();
  /** The first publication that failed: nothing is published after it. */
  #failure: unknown;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Aborted when the stream ends without the producer ending it: a cancel, a failed publication, the idle timeout. */
  readonly #abort = new AbortController();
  /** Set by cancel(): why append/finish/fail are refused from then on. */
  #cancelled: SwitchboardError | undefined;

  constructor(publisher: TokenStreamPublisher, room: string, options: TokenStreamOptions = {}) {
    if (typeof publisher?.to !== 'function') throw new TypeError('startTokenStream: the publisher must have to(room).publish(event, data) (a Switchboard, Namespace or Emitter)');
    if (typeof room !== 'string' || room.length === 0) throw new TypeError('startTokenStream: the room must be a non-empty string');
    const id = options.id ?? globalThis.crypto.randomUUID();
    if (!isMessageId(id)) throw new TypeError(`startTokenStream: the id must be a string of 1 to ${MAX_ID_LENGTH} characters`);
    const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (!(idleTimeout >= 0)) throw new RangeError('startTokenStream: idleTimeout must be 0 (off) or a number of ms');
    this.#publisher = publisher;
    this.room = room;
    this.id = id;
    this.#hasMeta = 'meta' in options && options.meta !== undefined;
    this.#meta = options.meta;
    this.#idleTimeout = idleTimeout;
    this.#enqueue(() => this.#publish(TokenStreamEvent.Start, { id, ...this.#metaField() } satisfies StartData));
    this.#armIdleTimer();
    streamRegistry.started(this);
  }

  /** The publisher the stream publishes through (a cancel request finds the stream by it). */
  get publisher(): TokenStreamPublisher {
    return this.#publisher;
  }

  /**
   * Aborted when the stream ends without the producer ending it — `cancel()` (a reader's
   * cancel request accepted by `acceptTokenStreamCancels()`), a failed publication, or the
   * idle timeout — so that the producer stops pulling tokens: pass it to the model's client
   * (`fetch(url, { signal })`) or check `signal.aborted` in the loop. Its `reason` is a
   * `SwitchboardError` whose code says why: `cancelled`, `publish_failed` or `idle_timeout`.
   * Not aborted by `finish()` or `fail()`, unless their own publication fails.
   */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** `streaming` until `finish()` or `fail()` (or a failed publication, or the idle timeout). */
  get state(): TokenStreamState {
    return this.#state;
  }

  /** Everything appended so far. */
  get text(): string {
    return this.#text;
  }

  /**
   * Add text to the message. Returns at once; the text is published in order, possibly joined
   * with the text appended next to it. An empty string does nothing. Throws `stream_closed`
   * (a `SwitchboardError`) once the stream finished or failed, its `cause` the publication
   * error when that is why, and `TypeError` for a value that is not a string.
   */
  append(text: string): void {
    this.#assertStreaming('append');
    if (typeof text !== 'string') throw new TypeError('TokenStream.append: text must be a string');
    if (text === '') return;
    this.#text += text;
    this.#pending += text;
    this.#armIdleTimer();
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      this.#enqueue(() => this.#flush());
    }
  }

  /**
   * End the message: publishes what is pending, then `finish` with the whole text. Resolves
   * once `finish` is appended to the room's stream. Rejects with `publish_failed` (its `cause`
   * the store's or server's error) when a publication of the stream failed (before or after
   * the call), and otherwise with `stream_closed` when the stream had already ended.
   */
  finish(): Promise<void> {
    if (this.#state !== 'streaming') return Promise.reject(this.#endedError('finish'));
    this.#state = 'finished';
    this.#clearIdleTimer();
    streamRegistry.ended(this);
    const text = this.#text;
    this.#enqueue(() => this.#publish(TokenStreamEvent.Finish, { id: this.id, chunks: this.#chunks, text, ...this.#metaField() } satisfies FinishData));
    return this.#settled();
  }

  /**
   * End the message in failure (the model failed, the user cancelled): publishes what is
   * pending, then `fail` with `code` (default `failed`), `message` and the text so far. Resolves
   * once `fail` is appended; rejects like `finish()`.
   */
  fail(code: string = TokenStreamErrorCode.Failed, message = ''): Promise<void> {
    if (this.#state !== 'streaming') return Promise.reject(this.#endedError('fail'));
    if (typeof code !== 'string' || code.length === 0) throw new TypeError('TokenStream.fail: code must be a non-empty string');
    this.#state = 'failed';
    this.#clearIdleTimer();
    streamRegistry.ended(this);
    this.#enqueue(() => this.#publish(TokenStreamEvent.Fail, this.#failData(code, String(message))));
    return this.#settled();
  }

  /**
   * Stop the message because someone asked to (a reader's Stop button): aborts `signal` with
   * a `cancelled` error, publishes what is pending, then `token-stream:fail` with code
   * `cancelled`, `message` and the text so far — readers keep that text and show it as
   * stopped. From then on `append()` throws `cancelled` and `finish()`/`fail()` reject with
   * it. Resolves once the `fail` is appended; rejects like `finish()` (with `stream_closed`
   * when the stream had already ended).
   */
  cancel(message = ''): Promise<void> {
    if (this.#state !== 'streaming') return Promise.reject(this.#endedError('cancel'));
    this.#cancelled = new SwitchboardError(TokenStreamErrorCode.Cancelled, `token stream ${this.id} was cancelled${message ? `: ${message}` : ''}`);
    const settled = this.fail(TokenStreamErrorCode.Cancelled, String(message));
    this.#abort.abort(this.#cancelled);
    return settled;
  }

  #failData(code: string, message: string): FailData {
    return { id: this.id, code, message, chunks: this.#chunks, text: this.#published, ...this.#metaField() };
  }

  #metaField(): { meta?: unknown } {
    return this.#hasMeta ? { meta: this.#meta } : {};
  }

  async #flush(): Promise<void> {
    this.#flushQueued = false;
    const text = this.#pending;
    this.#pending = '';
    if (text === '') return;
    await this.#publish(TokenStreamEvent.Chunk, { id: this.id, index: this.#chunks, text } satisfies ChunkData);
    this.#chunks += 1;
    this.#published += text;
  }

  #publish(event: string, data: unknown): Promise<unknown> {
    return this.#publisher.to(this.room).publish(event, data);
  }

  /** Run `step` after every earlier one; skipped once a publication failed. */
  #enqueue(step: () => Promise<unknown>): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        await step();
      } catch (err) {
        this.#failure = err ?? new Error('publication failed');
        this.#state = 'failed';
        this.#clearIdleTimer();
        streamRegistry.ended(this);
        if (!this.#abort.signal.aborted) this.#abort.abort(this.#publishFailedError());
        // Best effort: tell the readers why the message stops here (the store may be away for this one too).
        await this.#publish(TokenStreamEvent.Fail, this.#failData(TokenStreamErrorCode.PublishFailed, 'a publication of the stream failed')).catch(() => {});
      }
    });
  }

  async #settled(): Promise<void> {
    await this.#chain;
    if (this.#failure !== undefined) throw this.#publishFailedError();
  }

  #publishFailedError(): SwitchboardError {
    return new SwitchboardError(TokenStreamErrorCode.PublishFailed, `token stream ${this.id}: a publication to "${this.room}" failed`, { cause: this.#failure });
  }

  /** Why finish() or fail() cannot run: a publication failed (say so), the stream was cancelled, or it ended. */
  #endedError(what: string): SwitchboardError {
    return this.#failure !== undefined ? this.#publishFailedError() : this.#closedError(what);
  }

  #assertStreaming(what: string): void {
    if (this.#state !== 'streaming') throw this.#closedError(what);
  }

  #closedError(what: string): SwitchboardError {
    if (this.#cancelled && this.#failure === undefined && what !== 'cancel') return this.#cancelled;
    const why = this.#failure !== undefined ? 'a publication failed' : `it ${this.#state}`;
    return new SwitchboardError(TokenStreamErrorCode.StreamClosed, `token stream ${this.id}: ${what}() after the stream ended (${why})`, { cause: this.#failure });
  }

  #armIdleTimer(): void {
    if (this.#idleTimeout === 0 || !Number.isFinite(this.#idleTimeout)) return;
    this.#clearIdleTimer();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#state !== 'streaming') return;
      const why = `nothing was appended for ${this.#idleTimeout} ms`;
      this.fail(TokenStreamErrorCode.IdleTimeout, why).catch(() => {});
      this.#abort.abort(new SwitchboardError(TokenStreamErrorCode.IdleTimeout, `token stream ${this.id}: ${why}`));
    }, this.#idleTimeout);
    // A forgotten stream must not keep the process alive.
    (this.#idleTimer as { unref?: () => void }).unref?.();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
