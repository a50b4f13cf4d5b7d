import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mergeStoredUpdates } from './compaction.js';
import type { AppendResult, DocumentStore, StoredUpdates } from './document-store.js';
import { KeyedQueue } from './keyed-queue.js';
import { documentFileName, encodeRecord, readRecords, type LogRecord } from './update-log-file.js';

interface FileState {
  lastSeq: number;
  uncompacted: number;
}

/**
 * Keeps each document in a file of its own under `directory` (created if missing): an
 * append-only log of updates, fsynced before an append resolves, and compacted by writing a
 * new file beside it and renaming it over the old one, so a crash leaves one or the other,
 * whole. One process owns a directory: two servers must not share one (use SQLite or Redis).
 */
export class FileDocumentStore implements DocumentStore {
  readonly #directory: string;
  readonly #states = new Map<string, FileState>();
  /** Per document: reads, appends and compactions of this process one at a time. */
  readonly #queue = new KeyedQueue();
  #ready: Promise<unknown> | undefined;

  constructor(directory: string) {
    this.#directory = directory;
  }

  /** {@inheritDoc DocumentStore.load} */
  load(document: string, after = 0): Promise<StoredUpdates> {
    return this.#serial(document, async () => {
      const known = this.#states.get(document);
      // This process wrote everything since it read the file: nothing new to read.
      if (known && after >= known.lastSeq) return { updates: [], cursor: after };
      const records = await this.#read(document);
      const fresh = records.filter((record) => record.seq > after);
      return { updates: fresh.map((record) => record.update), cursor: Math.max(after, fresh.at(-1)?.seq ?? after) };
    });
  }

  /** {@inheritDoc DocumentStore.append} */
  append(document: string, update: Uint8Array): Promise<AppendResult> {
    return this.#serial(document, async () => {
      const state = this.#states.get(document) ?? (await this.#read(document), this.#states.get(document) as FileState);
      const seq = state.lastSeq + 1;
      const file = await open(this.#path(document), 'a');
      try {
        await file.write(encodeRecord(seq, update));
        await file.datasync();
      } finally {
        await file.close();
      }
      state.lastSeq = seq;
      return { seq, uncompacted: ++state.uncompacted };
    });
  }

  /** {@inheritDoc DocumentStore.compact} */
  compact(document: string): Promise<void> {
    return this.#serial(document, async () => {
      const records = await this.#read(document);
      if (records.length < 2) return;
      const last = records.at(-1) as LogRecord;
      const merged = encodeRecord(last.seq, mergeStoredUpdates(records.map((record) => record.update)));
      const path = this.#path(document);
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        const file = await open(temporary, 'wx');
        try {
          await file.write(merged);
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temporary, path);
      } catch (err) {
        await unlink(temporary).catch(() => {});
        throw err;
      }
      await this.#syncDirectory();
      (this.#states.get(document) as FileState).uncompacted = 0;
    });
  }

  /** {@inheritDoc DocumentStore.close} */
  async close(): Promise<void> {
    await this.#queue.idle();
  }

  /** Every whole record of the document's file; a torn last record (a crash mid-append) is cut off. */
  async #read(document: string): Promise<LogRecord[]> {
    await (this.#ready ??= mkdir(this.#directory, { recursive: true }));
    const path = this.#path(document);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      bytes = Buffer.alloc(0);
    }
    const { records, validBytes } = readRecords(bytes);
    if (validBytes < bytes.byteLength) await truncate(path, validBytes);
    const known = this.#states.get(document);
    this.#states.set(document, { lastSeq: records.at(-1)?.seq ?? 0, uncompacted: known?.uncompacted ?? records.length });
    return records;
  }

  /** The rename of a compaction is durable once the directory entry is. */
  async #syncDirectory(): Promise<void> {
    try {
      const dir = await open(this.#directory, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // Some platforms cannot fsync a directory; the rename is still atomic.
    }
  }

  #path(document: string): string {
    return join(this.#directory, documentFileName(document));
  }

  #serial<T>(document: string, task: () => Promise<T>): Promise<T> {
    return this.#queue.run(document, task);
  }
}
