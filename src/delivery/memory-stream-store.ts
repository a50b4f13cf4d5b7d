import { randomBytes } from 'node:crypto';
import type { StreamPosition } from '../protocol/frames.js';
import type { AppendOptions, HistoryLimits, StreamEntry, StreamRead, StreamStore } from './stream-store.js';

interface StoredEntry {
  offset: number;
  time: number;
  payload: string;
  except?: readonly string[];
}

interface MemoryStream {
  epoch: string;
  /** Offset of the last publication. */
  offset: number;
  /** Oldest first; offsets contiguous. Those before `head` were trimmed and wait to be cut off. */
  entries: StoredEntry[];
  /** Index of the oldest entry still in the history. */
  head: number;
}

/**
 * Trimmed entries are cut off the array in one go once they are this many and at least half
 * of it: a stream at its bound drops one entry per append, and cutting one at a time would
 * move the whole history on every publication (100 000 entries by default).
 */
const CUT_AFTER = 1024;

/**
 * Streams in this process's memory. A new process starts new epochs, so clients holding
 * positions from before a restart are told their gap cannot be recovered.
 */
export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<string, MemoryStream>();

  constructor(private readonly now: () => number = Date.now) {}

  async append(stream: string, payload: string, limits: HistoryLimits, options?: AppendOptions): Promise<StreamPosition> {
    const s = this.stream(stream);
    s.offset++;
    const stored: StoredEntry = { offset: s.offset, time: this.now(), payload };
    if (options?.except?.length) stored.except = [...options.except];
    s.entries.push(stored);
    this.trim(s, limits);
    return { epoch: s.epoch, offset: s.offset };
  }

  async read(stream: string, options: { since?: StreamPosition; limit?: number }, limits: HistoryLimits): Promise<StreamRead> {
    const s = this.stream(stream);
    this.trim(s, limits);
    const position = { epoch: s.epoch, offset: s.offset };
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const { since } = options;
    const kept = s.entries.length - s.head;
    if (!since) return { ok: true, entries: s.entries.slice(s.head + Math.max(0, kept - limit)).map((e) => entry(s.epoch, e)), position };
    const oldest = s.entries[s.head]?.offset ?? s.offset + 1;
    // Recoverable only if every publication after `since` is still here.
    if (since.epoch !== s.epoch || since.offset > s.offset || since.offset < oldest - 1) return { ok: false, position };
    const start = s.head + since.offset - oldest + 1;
    return { ok: true, entries: s.entries.slice(start, start + limit).map((e) => entry(s.epoch, e)), position };
  }

  async position(stream: string): Promise<StreamPosition> {
    const s = this.stream(stream);
    return { epoch: s.epoch, offset: s.offset };
  }

  private stream(name: string): MemoryStream {
    let s = this.streams.get(name);
    if (!s) {
      s = { epoch: randomBytes(6).toString('base64url'), offset: 0, entries: [], head: 0 };
      this.streams.set(name, s);
    }
    return s;
  }

  private trim(s: MemoryStream, limits: HistoryLimits): void {
    const tooOld = this.now() - limits.maxAge;
    let head = Math.max(s.head, s.entries.length - limits.maxMessages);
    while (head < s.entries.length && (s.entries[head] as StoredEntry).time < tooOld) head++;
    // Trimmed entries are let go of (their payloads are the memory) and cut off in batches.
    for (let i = s.head; i < head; i++) s.entries[i] = CUT as StoredEntry;
    s.head = head;
    if (head >= CUT_AFTER && head * 2 >= s.entries.length) {
      s.entries.splice(0, head);
      s.head = 0;
    }
  }
}

/** What a trimmed slot holds until it is cut off: not the publication, whose payload may be large. */
const CUT: Readonly<StoredEntry> = { offset: 0, time: 0, payload: '' };

function entry(epoch: string, e: StoredEntry): StreamEntry {
  const out: StreamEntry = { position: { epoch, offset: e.offset }, payload: e.payload };
  if (e.except) out.except = e.except;
  return out;
}
