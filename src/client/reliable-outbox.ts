import { utf8ByteLength } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';

/** Caps on the reliable publishes a client holds until the server acknowledges them. */
export interface OutboxLimit {
  /**
   * Most unacknowledged publishes (default 100). Must stay below the server's dedupe window
   * (1000 by default): a re-sent publish older than the window would run its handler again.
   */
  count: number;
  /** Most UTF-8 bytes, summed over their frames (default 1 MiB). */
  bytes: number;
}

export const DEFAULT_OUTBOX_LIMIT: Readonly<OutboxLimit> = { count: 100, bytes: 1_048_576 };

/**
 * The largest `count` accepted: the server's default dedupe window is 1000 sequence numbers,
 * and every publish in the outbox must still be inside it when it is re-sent.
 */
export const MAX_OUTBOX_COUNT = 999;

/** One reliable publish, from the call until its reply. */
export interface OutboxEntry {
  readonly ref: number;
  readonly namespace: string;
  /** The encoded event frame without its `seq`, taken at the call (later changes to the data do not leak in). */
  readonly frame: string;
  readonly bytes: number;
  /** Its sequence number once it went out in the current session; undefined while never sent. */
  seq: number | undefined;
}

/**
 * The client's half of reliable publishes: every publish stays here until the server
 * answers it. Sequence numbers are per server session (the server dedupes per session),
 * handed out when a publish first goes out, so publishes that wait through a lost session
 * simply take the next numbers of the new one.
 *
 * Bounded by count and bytes for the same reason as the emit buffer; a full outbox refuses
 * the publish (`buffer_full`) instead of dropping anything.
 */
export class ReliableOutbox {
  /** By ref, in call order. */
  private readonly entries = new Map<number, OutboxEntry>();
  private totalBytes = 0;
  private nextSeq = 1;

  constructor(private readonly limit: OutboxLimit) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Bytes the next sequence number adds to a frame. */
  seqBytes(): number {
    return seqSuffix(this.nextSeq).length - 1;
  }

  /** Size of `frame` once stamped with the next sequence number. */
  sizeWithSeq(frame: string): number {
    return utf8ByteLength(frame) - 1 + seqSuffix(this.nextSeq).length;
  }

  /** Take in a publish. Throws `SwitchboardError('buffer_full')` when it would exceed a limit. */
  add(ref: number, namespace: string, frame: string): OutboxEntry {
    const bytes = utf8ByteLength(frame);
    if (this.entries.size + 1 > this.limit.count) {
      throw new SwitchboardError(
        ErrorCode.BufferFull,
        `reliable outbox is full: ${this.entries.size} publishes wait for the server's acknowledgement (limit ${this.limit.count})`,
      );
    }
    if (this.totalBytes + bytes > this.limit.bytes) {
      throw new SwitchboardError(
        ErrorCode.BufferFull,
        `reliable outbox is full: ${this.totalBytes} + ${bytes} bytes exceeds the limit of ${this.limit.bytes} bytes of unacknowledged publishes`,
      );
    }
    const entry: OutboxEntry = { ref, namespace, frame, bytes, seq: undefined };
    this.entries.set(ref, entry);
    this.totalBytes += bytes;
    return entry;
  }

  /** The publish was answered, timed out, or failed: it leaves the outbox. */
  remove(ref: number): void {
    const entry = this.entries.get(ref);
    if (!entry) return;
    this.entries.delete(ref);
    this.totalBytes -= entry.bytes;
  }

  get(ref: number): OutboxEntry | undefined {
    return this.entries.get(ref);
  }

  /** Publishes of a namespace never sent in the current session, in call order. */
  unsent(namespace: string): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => e.seq === undefined && e.namespace === namespace);
  }

  /** Give an entry the session's next sequence number; returns the frame to send. */
  stamp(entry: OutboxEntry): string {
    const seq = this.nextSeq++;
    entry.seq = seq;
    return entry.frame.slice(0, -1) + seqSuffix(seq);
  }

  /** A new server session: its sequence numbers start again at 1. */
  newSession(): void {
    this.nextSeq = 1;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }
}

/** `frame` is a JSON object's text, so `seq` goes in before its closing brace. */
function seqSuffix(seq: number): string {
  return `,"seq":${seq}}`;
}
