import type { Publication, StreamPosition } from '../../protocol/frames.js';
import { readStreamEvent, TokenStreamEvent } from '../wire.js';

/** One message as a reader shows it: the text so far, and how it ended. */
export interface TokenMessage {
  /** The message id. */
  id: string;
  /** The text so far; the whole message once `done`. */
  text: string;
  /** How many chunks `text` is made of (the next chunk expected has this index). */
  chunks: number;
  /** The message finished: `text` is all of it. */
  done: boolean;
  /** The message ended in failure (`error` says why); `text` is what was published before. */
  failed: boolean;
  /** Why it failed: the `code` and `message` of its `token-stream:fail` event. */
  error?: { code: string; message: string };
  /** What the producer attached to the message (`meta` of its start, finish or fail). */
  meta?: unknown;
  /**
   * The beginning of the message is missing: its first chunks were no longer in the room's
   * history when this reader read it (a message longer than the history keeps). `text` then
   * holds the chunks from the first one still kept. A `finish` brings the whole text and
   * clears it.
   */
  partial: boolean;
}

/** What `apply()` did with a publication. */
export type ApplyOutcome =
  /** It changed a message (returned by `changed`). */
  | 'applied'
  /** Already applied (its position or its chunk index is not new): nothing changed. */
  | 'duplicate'
  /** Not a token-stream event, or malformed, or about a message that already ended. */
  | 'ignored'
  /** A chunk with an index past the next one expected: something is missing before it. Nothing changed. */
  | 'gap';

/** What a reader saves (in sessionStorage) to continue after a reload: its messages and the position they include. */
export interface AssemblySnapshot {
  v: 1;
  position?: StreamPosition;
  messages: TokenMessage[];
}

/**
 * Assembles the messages of one room from its token-stream publications, in stream order,
 * each applied once: a publication at or before the last position applied is a duplicate,
 * and so is a chunk whose index the message already has; a chunk past the next index is a
 * gap, refused unless the caller reads history that cannot hold more (`acceptGaps`), in
 * which case the message is marked `partial`. Pure: no I/O, no timers.
 */
export class MessageAssembly {
  readonly #messages = new Map<string, TokenMessage>();
  readonly #keep: number;
  #position: StreamPosition | undefined;

  /** @param keep - how many messages to keep; the oldest go first. */
  constructor(keep = Number.POSITIVE_INFINITY) {
    this.#keep = keep;
  }

  /** The position of the last publication applied (or skipped as not a message's), if any. */
  get position(): StreamPosition | undefined {
    return this.#position && { ...this.#position };
  }

  /** The messages, in the order they first appeared. Copies. */
  list(): TokenMessage[] {
    return [...this.#messages.values()].map(copy);
  }

  /** A copy of one message. */
  get(id: string): TokenMessage | undefined {
    const message = this.#messages.get(id);
    return message && copy(message);
  }

  /** Whether `position` was applied already (same epoch, not after the last one applied). */
  isBehind(position: StreamPosition): boolean {
    const last = this.#position;
    return last !== undefined && last.epoch === position.epoch && position.offset <= last.offset;
  }

  /** Whether `position` belongs to another epoch than the one applied so far (the room's history was lost). */
  isOtherEpoch(position: StreamPosition): boolean {
    return this.#position !== undefined && this.#position.epoch !== position.epoch;
  }

  /** Forget the position (not the messages): the next publication applied sets it, whatever its epoch. */
  forgetPosition(): void {
    this.#position = undefined;
  }

  /**
   * Apply one publication of the room. `changed` is set to the message it changed, when it
   * changed one. A `gap` changes nothing, not even the position.
   */
  apply(publication: Publication, acceptGaps = false): { outcome: ApplyOutcome; changed?: TokenMessage } {
    if (this.isBehind(publication.position)) return { outcome: 'duplicate' };
    const read = readStreamEvent(publication.event, publication.data);
    if (!read) {
      this.#position = { ...publication.position };
      return { outcome: 'ignored' };
    }
    const { id } = read.data;
    const existing = this.#messages.get(id);
    if (read.event === TokenStreamEvent.Chunk && (existing?.chunks ?? 0) < read.data.index && !acceptGaps && !existing?.done && !existing?.failed) {
      return { outcome: 'gap' };
    }
    this.#position = { ...publication.position };
    if (read.event === TokenStreamEvent.Start && existing) return { outcome: 'duplicate' };
    const message = existing ?? this.#create(id);
    const outcome = this.#applyTo(message, read);
    if (outcome !== 'applied' && !existing) this.#messages.delete(id);
    return outcome === 'applied' ? { outcome, changed: copy(message) } : { outcome };
  }

  #applyTo(message: TokenMessage, read: NonNullable<ReturnType<typeof readStreamEvent>>): ApplyOutcome {
    switch (read.event) {
      case TokenStreamEvent.Start:
        if (read.data.meta !== undefined) message.meta = read.data.meta;
        return 'applied';
      case TokenStreamEvent.Chunk: {
        if (message.done || message.failed) return 'ignored';
        const { index, text } = read.data;
        if (index < message.chunks) return 'duplicate';
        if (index === message.chunks) message.text += text;
        else {
          // Only with acceptGaps: what came before is out of reach.
          message.text = text;
          message.partial = true;
        }
        message.chunks = index + 1;
        return 'applied';
      }
      case TokenStreamEvent.Finish:
        if (message.done || message.failed) return 'ignored';
        message.text = read.data.text;
        message.chunks = read.data.chunks;
        message.done = true;
        message.partial = false;
        if (read.data.meta !== undefined) message.meta = read.data.meta;
        return 'applied';
      case TokenStreamEvent.Fail: {
        if (message.done || message.failed) return 'ignored';
        const { code, message: why, chunks, text, meta } = read.data;
        message.failed = true;
        message.error = { code, message: why };
        // The producer's own account of what it published is at least as complete as ours.
        if (chunks !== undefined && text !== undefined && chunks >= message.chunks) {
          message.text = text;
          message.chunks = chunks;
          message.partial = false;
        }
        if (meta !== undefined) message.meta = meta;
        return 'applied';
      }
    }
  }

  #create(id: string): TokenMessage {
    const message: TokenMessage = { id, text: '', chunks: 0, done: false, failed: false, partial: false };
    this.#messages.set(id, message);
    while (this.#messages.size > this.#keep) {
      const oldest = this.#messages.keys().next().value as string;
      this.#messages.delete(oldest);
    }
    return message;
  }

  /**
   * Whether `publications` (oldest first) start in the middle of a message this assembly
   * cannot complete: a chunk past what the message has, with no `start` before it and no
   * `finish` or `fail` with text after it. Reading earlier history may then fill it.
   */
  startsMidMessage(publications: readonly Publication[]): boolean {
    const whole = new Set<string>();
    const firstChunk = new Map<string, number>();
    for (const publication of publications) {
      const read = readStreamEvent(publication.event, publication.data);
      if (!read) continue;
      const { id } = read.data;
      if (read.event === TokenStreamEvent.Start && !firstChunk.has(id)) whole.add(id);
      else if (read.event === TokenStreamEvent.Finish || (read.event === TokenStreamEvent.Fail && read.data.text !== undefined)) whole.add(id);
      else if (read.event === TokenStreamEvent.Chunk && !firstChunk.has(id)) firstChunk.set(id, read.data.index);
    }
    for (const [id, index] of firstChunk) {
      if (whole.has(id)) continue;
      const known = this.#messages.get(id);
      if (known?.done || known?.failed) continue;
      if (index > (known?.chunks ?? 0)) return true;
    }
    return false;
  }

  /** What to save to continue from here. */
  snapshot(): AssemblySnapshot {
    return { v: 1, ...(this.#position ? { position: { ...this.#position } } : {}), messages: this.list() };
  }

  /** An assembly continuing from a snapshot; `undefined` when the snapshot is not one (another version, damaged). */
  static restore(snapshot: unknown, keep?: number): MessageAssembly | undefined {
    if (typeof snapshot !== 'object' || snapshot === null) return undefined;
    const { v, position, messages } = snapshot as Partial<AssemblySnapshot>;
    if (v !== 1 || !Array.isArray(messages)) return undefined;
    if (position !== undefined && !isPosition(position)) return undefined;
    const assembly = new MessageAssembly(keep);
    for (const message of messages) {
      if (!isMessage(message)) return undefined;
      assembly.#messages.set(message.id, copy(message));
    }
    assembly.#position = position && { ...position };
    return assembly;
  }
}

function copy(message: TokenMessage): TokenMessage {
  const out: TokenMessage = { id: message.id, text: message.text, chunks: message.chunks, done: message.done, failed: message.failed, partial: message.partial };
  if (message.error) out.error = { ...message.error };
  if ('meta' in message && message.meta !== undefined) out.meta = message.meta;
  return out;
}

function isPosition(value: unknown): value is StreamPosition {
  const p = value as StreamPosition;
  return typeof p === 'object' && p !== null && typeof p.epoch === 'string' && Number.isSafeInteger(p.offset) && p.offset >= 0;
}

function isMessage(value: unknown): value is TokenMessage {
  const m = value as TokenMessage;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.id === 'string' &&
    typeof m.text === 'string' &&
    Number.isSafeInteger(m.chunks) &&
    typeof m.done === 'boolean' &&
    typeof m.failed === 'boolean' &&
    typeof m.partial === 'boolean'
  );
}
