import { mergeStoredUpdates } from './compaction.js';
import type { AppendResult, DocumentStore, StoredUpdates } from './document-store.js';

interface StoredEntry {
  seq: number;
  update: Uint8Array;
}

interface MemoryLog {
  entries: StoredEntry[];
  lastSeq: number;
  /** Entries since the last compaction (the merged one not counted). */
  uncompacted: number;
}

/** Keeps documents in this process's memory: the default, lost on restart. */
export class MemoryDocumentStore implements DocumentStore {
  readonly #logs = new Map<string, MemoryLog>();

  /** {@inheritDoc DocumentStore.load} */
  async load(document: string, after = 0): Promise<StoredUpdates> {
    const log = this.#logs.get(document);
    if (!log) return { updates: [], cursor: after };
    const entries = log.entries.filter((entry) => entry.seq > after);
    return { updates: entries.map((entry) => entry.update), cursor: Math.max(after, entries.at(-1)?.seq ?? after) };
  }

  /** {@inheritDoc DocumentStore.append} */
  async append(document: string, update: Uint8Array): Promise<AppendResult> {
    let log = this.#logs.get(document);
    if (!log) this.#logs.set(document, (log = { entries: [], lastSeq: 0, uncompacted: 0 }));
    const seq = ++log.lastSeq;
    // A copy: the caller's buffer may be reused.
    log.entries.push({ seq, update: update.slice() });
    return { seq, uncompacted: ++log.uncompacted };
  }

  /** {@inheritDoc DocumentStore.compact} */
  async compact(document: string): Promise<void> {
    const log = this.#logs.get(document);
    if (!log || log.entries.length < 2) return;
    const last = log.entries.at(-1) as StoredEntry;
    log.entries = [{ seq: last.seq, update: mergeStoredUpdates(log.entries.map((entry) => entry.update)) }];
    log.uncompacted = 0;
  }

  /** {@inheritDoc DocumentStore.close} */
  async close(): Promise<void> {}
}
