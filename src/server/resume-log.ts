import type { SharedFrame } from '../transport/shared-frame.js';

/**
 * One broadcast as the node sent it: the frame, encoded once, and the selection it went
 * to. A session waiting to be resumed works out from the selection which entries were its
 * own, so nothing is kept per session and frame.
 */
export interface LoggedBroadcast {
  /** Node-wide number, from 1, in the order the broadcasts were handed to their recipients. */
  readonly seq: number;
  /** Namespace. */
  readonly ns: string;
  /** Target rooms; empty: every socket of the namespace. */
  readonly rooms: readonly string[];
  /** Members of these rooms were left out (a socket id is a room too). */
  readonly except: readonly string[];
  readonly frame: SharedFrame;
  /**
   * What members left out by `except` were sent instead (a durable room's `position`
   * frame, which moves their stream position past the publication); undefined: nothing.
   */
  readonly exceptFrame: SharedFrame | undefined;
}

/** What the log needs of a session waiting to be resumed. */
export interface LogReader {
  /** Entries after this seq may be this reader's. */
  readonly mark: number;
  /** The frame `entry` gave this reader, if any (see Session.frameOf). */
  frameOf(entry: LoggedBroadcast): SharedFrame | undefined;
  /** Entries it needs were dropped past the log's byte bound: it cannot be resumed exactly. */
  lost(): void;
  /** None of the dropped entries were its own: it need not look before `seq`. */
  skipTo(seq: number): void;
}

/** Past the byte bound the log drops down to this share of it, so that readers are checked once per many appends. */
const DROP_TO = 0.75;
/** Appends between two looks for entries no reader needs any more. */
const PRUNE_EVERY = 256;

/**
 * The broadcasts of this node (room events, durable publications, presence) while any
 * session waits to be resumed: kept once for all of them, however many rooms and sessions,
 * like Socket.IO's connection state recovery. A waiting session holds only its position
 * (`mark`) and the frames sent to it alone; on resume it takes back from here what the
 * selection of each entry gave it. Nothing is appended while no session waits, so the
 * fan-out of a server whose clients are all connected never touches it.
 *
 * Bounded by `maxBytes` (frame payload bytes): past it the oldest entries go, and each
 * waiting session one of them was for cannot be resumed any more (it ends; the client
 * gets `resumed: false`). Entries older than every waiting session's mark are dropped as
 * they stop being needed, so the log never holds more than the resume TTL's worth.
 */
export class ResumeLog {
  private entries: LoggedBroadcast[] = [];
  /** Index of the oldest entry in `entries` (dropped ones are cut off in batches). */
  private start = 0;
  private head = 0;
  private bytes = 0;
  private appendsSincePrune = 0;
  private readonly readers = new Set<LogReader>();

  constructor(private readonly maxBytes: number) {}

  /** The seq of the newest entry (0 before the first): a session starting to wait marks it. */
  get position(): number {
    return this.head;
  }

  /** Whether broadcasts must be appended: some session waits to be resumed. */
  get active(): boolean {
    return this.readers.size > 0;
  }

  /** Payload bytes held (for tests and metrics). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Entries held (for tests and metrics). */
  get length(): number {
    return this.entries.length - this.start;
  }

  /** A session starts waiting: entries after its mark are kept for it. */
  open(reader: LogReader): void {
    this.readers.add(reader);
  }

  /** A session stopped waiting (resumed or ended). */
  close(reader: LogReader): void {
    if (!this.readers.delete(reader)) return;
    if (this.readers.size === 0) this.clear();
  }

  /** Keep one broadcast; call it before the recipients are handed the frame. */
  append(ns: string, rooms: readonly string[], except: readonly string[], frame: SharedFrame, exceptFrame?: SharedFrame): void {
    this.head++;
    this.entries.push({ seq: this.head, ns, rooms, except, frame, exceptFrame });
    this.bytes += frame.length + (exceptFrame?.length ?? 0);
    if (++this.appendsSincePrune >= PRUNE_EVERY) this.prune();
    if (this.bytes > this.maxBytes) this.dropOldest();
  }

  /**
   * The frames entries after `mark` gave `reader`, each with its seq, oldest first, and how
   * many there are. Undefined when entries after `mark` are gone (cannot happen while the
   * reader is open: dropping ends it first).
   */
  framesOf(reader: LogReader, mark: number): { seq: number; frame: SharedFrame }[] | undefined {
    const first = this.entries[this.start];
    if (first !== undefined && first.seq > mark + 1) return undefined;
    const frames: { seq: number; frame: SharedFrame }[] = [];
    for (let i = this.indexAfter(mark); i < this.entries.length; i++) {
      const entry = this.entries[i] as LoggedBroadcast;
      const frame = reader.frameOf(entry);
      if (frame !== undefined) frames.push({ seq: entry.seq, frame });
    }
    return frames;
  }

  /** Drop the entries every reader is past. */
  prune(): void {
    this.appendsSincePrune = 0;
    let oldest = this.head;
    for (const reader of this.readers) if (reader.mark < oldest) oldest = reader.mark;
    let i = this.start;
    while (i < this.entries.length && (this.entries[i] as LoggedBroadcast).seq <= oldest) {
      this.bytes -= entryBytes(this.entries[i] as LoggedBroadcast);
      i++;
    }
    this.cut(i);
  }

  /** Past the byte bound: drop the oldest entries down to DROP_TO of it, ending the readers they were for. */
  private dropOldest(): void {
    let end = this.start;
    while (end < this.entries.length && this.bytes > this.maxBytes * DROP_TO) this.bytes -= entryBytes(this.entries[end++] as LoggedBroadcast);
    const dropped = this.entries.slice(this.start, end);
    this.cut(end);
    const last = (dropped[dropped.length - 1] as LoggedBroadcast).seq;
    for (const reader of [...this.readers]) {
      if (reader.mark >= last) continue;
      if (dropped.some((entry) => entry.seq > reader.mark && reader.frameOf(entry) !== undefined)) {
        this.readers.delete(reader);
        reader.lost();
      } else reader.skipTo(last);
    }
    if (this.readers.size === 0) this.clear();
  }

  private indexAfter(mark: number): number {
    const first = this.entries[this.start];
    if (first === undefined) return this.entries.length;
    // Seqs are consecutive, so the entry after `mark` is found by arithmetic.
    return this.start + Math.max(0, mark + 1 - first.seq);
  }

  /** Forget entries before index `i`; compact the array now and then rather than shift it every time. */
  private cut(i: number): void {
    this.start = i;
    if (this.start === this.entries.length) {
      this.entries = [];
      this.start = 0;
    } else if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  private clear(): void {
    this.entries = [];
    this.start = 0;
    this.bytes = 0;
  }
}

function entryBytes(entry: LoggedBroadcast): number {
  return entry.frame.length + (entry.exceptFrame?.length ?? 0);
}
