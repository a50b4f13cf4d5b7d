/**
 * `switchboard/yjs/sqlite`: documents in a SQLite file, through better-sqlite3 12 (an
 * optional peer dependency; `switchboard/yjs` itself never loads it).
 */
import Database from 'better-sqlite3';
import { mergeStoredUpdates } from './compaction.js';
import type { AppendResult, DocumentStore, StoredUpdates } from './document-store.js';

export type { AppendResult, DocumentStore, StoredUpdates } from './document-store.js';

/** Options of a SqliteDocumentStore. */
export interface SqliteDocumentStoreOptions {
  /** The table that holds the updates (created if missing). Default 'yjs_updates'. */
  table?: string;
}

interface Row {
  seq: number;
  data: Uint8Array;
}

/**
 * Keeps documents in one SQLite database: a row per update, compaction in one transaction.
 * Several processes may share the file (SQLite locks it); WAL mode is switched on for a path.
 */
export class SqliteDocumentStore implements DocumentStore {
  readonly #db: Database.Database;
  readonly #ownsDatabase: boolean;
  readonly #select: Database.Statement<[string, number], Row>;
  readonly #append: (document: string, update: Uint8Array) => AppendResult;
  readonly #compact: (document: string) => void;

  /** `database`: a file path (`':memory:'` for a throwaway one), or an open better-sqlite3 Database (not closed by close()). */
  constructor(database: string | Database.Database, options: SqliteDocumentStoreOptions = {}) {
    const table = options.table ?? 'yjs_updates';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new TypeError(`SqliteDocumentStore: table must be a plain SQL name, got ${JSON.stringify(table)}`);
    this.#ownsDatabase = typeof database === 'string';
    const db = (this.#db = typeof database === 'string' ? new Database(database) : database);
    if (this.#ownsDatabase) db.pragma('journal_mode = WAL');
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (document TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, merged INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (document, seq)) WITHOUT ROWID`,
    );
    this.#select = db.prepare<[string, number], Row>(`SELECT seq, data FROM ${table} WHERE document = ? AND seq > ? ORDER BY seq`);
    const lastSeq = db.prepare<[string], { seq: number | null }>(`SELECT max(seq) AS seq FROM ${table} WHERE document = ?`);
    const uncompacted = db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM ${table} WHERE document = ? AND merged = 0`);
    const insert = db.prepare<[string, number, Uint8Array, number]>(`INSERT INTO ${table} (document, seq, data, merged) VALUES (?, ?, ?, ?)`);
    const removeThrough = db.prepare<[string, number]>(`DELETE FROM ${table} WHERE document = ? AND seq <= ?`);
    this.#append = db.transaction((document: string, update: Uint8Array): AppendResult => {
      const seq = (lastSeq.get(document)?.seq ?? 0) + 1;
      insert.run(document, seq, update, 0);
      return { seq, uncompacted: uncompacted.get(document)?.n ?? 1 };
    }).immediate;
    this.#compact = db.transaction((document: string): void => {
      const rows = this.#select.all(document, 0);
      if (rows.length < 2) return;
      const last = (rows.at(-1) as Row).seq;
      const merged = mergeStoredUpdates(rows.map((row) => row.data));
      removeThrough.run(document, last);
      insert.run(document, last, merged, 1);
    }).immediate;
  }

  /** {@inheritDoc DocumentStore.load} */
  async load(document: string, after = 0): Promise<StoredUpdates> {
    const rows = this.#select.all(document, after);
    return { updates: rows.map((row) => new Uint8Array(row.data)), cursor: Math.max(after, rows.at(-1)?.seq ?? after) };
  }

  /** {@inheritDoc DocumentStore.append} */
  async append(document: string, update: Uint8Array): Promise<AppendResult> {
    return this.#append(document, update);
  }

  /** {@inheritDoc DocumentStore.compact} */
  async compact(document: string): Promise<void> {
    this.#compact(document);
  }

  /** {@inheritDoc DocumentStore.close} */
  async close(): Promise<void> {
    if (this.#ownsDatabase && this.#db.open) this.#db.close();
  }
}
