import type { TokenStreamPublisher } from './publisher.js';

/** What the registry knows of a stream: where it publishes, and how to cancel it while it streams. */
export interface RegisteredStream {
  readonly id: string;
  readonly room: string;
  readonly publisher: TokenStreamPublisher;
  cancel(message?: string): Promise<void>;
}

/** What a look-up found: the stream, still streaming; or that such a stream ended recently; or nothing. */
export type StreamLookup = { found: 'streaming'; stream: RegisteredStream } | { found: 'ended' } | { found: 'none' };

/** How many ended streams are remembered, so that a late cancel is told `stream_closed` rather than `unknown_stream`. */
export const REMEMBERED_ENDED = 1000;

const key = (room: string, id: string): string => `${room}\u0000${id}`;

/**
 * The token streams this process started (every `TokenStream` registers itself), so that a
 * cancel request received by a Switchboard here can reach the stream's producer. Keeps the
 * streams still streaming, and a bounded memory of the latest ones that ended (room, id
 * and publisher only: not their text).
 */
class StreamRegistry {
  readonly #streaming = new Map<string, Set<RegisteredStream>>();
  readonly #ended = new Map<RegisteredStream, { room: string; id: string; publisher: TokenStreamPublisher }>();

  started(stream: RegisteredStream): void {
    const k = key(stream.room, stream.id);
    let set = this.#streaming.get(k);
    if (!set) this.#streaming.set(k, (set = new Set()));
    set.add(stream);
  }

  /** The stream stopped taking text (finished, failed, cancelled). Idempotent. */
  ended(stream: RegisteredStream): void {
    const k = key(stream.room, stream.id);
    const set = this.#streaming.get(k);
    if (!set?.delete(stream)) return;
    if (set.size === 0) this.#streaming.delete(k);
    this.#ended.set(stream, { room: stream.room, id: stream.id, publisher: stream.publisher });
    while (this.#ended.size > REMEMBERED_ENDED) this.#ended.delete(this.#ended.keys().next().value as RegisteredStream);
  }

  /** The stream of `room` and `id` whose publisher `owns` says is the one asked for. */
  find(room: string, id: string, owns: (publisher: TokenStreamPublisher) => boolean): StreamLookup {
    for (const stream of this.#streaming.get(key(room, id)) ?? []) {
      if (owns(stream.publisher)) return { found: 'streaming', stream };
    }
    for (const record of this.#ended.values()) {
      if (record.room === room && record.id === id && owns(record.publisher)) return { found: 'ended' };
    }
    return { found: 'none' };
  }
}

/** The registry of this process (of this copy of the library). */
export const streamRegistry = new StreamRegistry();
