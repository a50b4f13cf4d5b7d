import type { IdempotencyRecord, IdempotencyStore } from './idempotency-store.js';

export interface MemoryIdempotencyStoreOptions {
  /** Most keys kept; past it the oldest are forgotten first. Default 100000. */
  maxKeys?: number;
  /** The clock, in milliseconds (tests inject one). Default `Date.now`. */
  now?: () => number;
}

interface Entry extends IdempotencyRecord {
  token: string | undefined;
  expiresAt: number;
}

/**
 * Idempotency keys in this process's memory: retries that reach this node are
 * deduplicated, retries that reach another node are not (use RedisIdempotencyStore there).
 * Bounded by `maxKeys`; entries are kept in the order they were last written, so the
 * oldest are both the first to expire and the first to be evicted.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`MemoryIdempotencyStore option maxKeys must be a positive integer, got ${maxKeys}`);
    this.#maxKeys = maxKeys;
    this.#now = options.now ?? Date.now;
  }

  /** Number of keys held (expired ones may still count until they are swept). */
  get size(): number {
    return this.#entries.size;
  }

  async claim(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyRecord | undefined> {
    const now = this.#now();
    this.#sweep(now);
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > now) return entry.answer ? { fingerprint: entry.fingerprint, answer: entry.answer } : { fingerprint: entry.fingerprint };
    this.#write(key, { fingerprint, token, expiresAt: now + leaseMs });
    return undefined;
  }

  async complete(key: string, token: string, record: Required<IdempotencyRecord>, ttlMs: number): Promise<void> {
    const now = this.#now();
    const entry = this.#entries.get(key);
    // Another attempt took the key after this one's lease ran out: its record stands.
    if (entry && entry.expiresAt > now && entry.token !== token) return;
    this.#write(key, { fingerprint: record.fingerprint, answer: record.answer, token: undefined, expiresAt: now + ttlMs });
  }

  async release(key: string, token: string): Promise<void> {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  #write(key: string, entry: Entry): void {
    // Delete first: a rewritten key moves to the end of the insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Drop expired entries from the front; the first live one ends the sweep (a later one may have expired: claim checks). */
  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) return;
      this.#entries.delete(key);
    }
  }
}
