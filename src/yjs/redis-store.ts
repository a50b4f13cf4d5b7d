/**
 * `switchboard/yjs/redis`: documents in Redis, shared by every node of a cluster (ioredis,
 * an optional peer dependency). Per document, a stream of updates at ids `seq-0` and a hash
 * with the counter, the merged snapshot of compacted updates and the seq it runs through.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { mergeStoredUpdates } from './compaction.js';
import type { AppendResult, DocumentStore, StoredUpdates } from './document-store.js';

export type { AppendResult, DocumentStore, StoredUpdates } from './document-store.js';

/** Options of a RedisDocumentStore. */
export interface RedisDocumentStoreOptions {
  /** First part of every key. Default 'sb' (the Redis adapter's default: one prefix per cluster). */
  prefix?: string;
}

// KEYS: meta, log. ARGV: update. The counter and the stream move together.
const APPEND = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], seq .. '-0', 'u', ARGV[1])
local n = redis.call('HINCRBY', KEYS[1], 'uncompacted', 1)
return {seq, n}`;

// KEYS: meta, log. ARGV: after. One atomic read: a compaction cannot slip between the snapshot and the stream.
const LOAD = `
local through = tonumber(redis.call('HGET', KEYS[1], 'through') or '0')
local after = tonumber(ARGV[1])
local snapshot = false
if through > after then snapshot = redis.call('HGET', KEYS[1], 'snapshot') or false end
local from = after
if through > from then from = through end
return {through, snapshot, redis.call('XRANGE', KEYS[2], '(' .. from .. '-0', '+')}`;

// KEYS: meta, log. ARGV: merged, through (the last seq merged), expected (the snapshot's seq when the merge was read).
// Another node compacted meanwhile: give up (its snapshot holds ours). Updates appended after
// "through" have larger ids and stay in the stream.
const COMPACT = `
if tonumber(redis.call('HGET', KEYS[1], 'through') or '0') ~= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[1], 'through', ARGV[2])
redis.call('XTRIM', KEYS[2], 'MINID', (tonumber(ARGV[2]) + 1) .. '-0')
redis.call('HSET', KEYS[1], 'uncompacted', redis.call('XLEN', KEYS[2]))
return 1`;

type StreamEntry = [Buffer, Buffer[]];

/**
 * Keeps documents in Redis: appends and reads by cursor are single scripts, and compaction
 * merges outside Redis, then swaps the merged snapshot in only if no other node compacted
 * meanwhile — updates appended concurrently by any node are never lost.
 */
export class RedisDocumentStore implements DocumentStore {
  readonly #redis: Redis;
  readonly #ownsClient: boolean;
  readonly #prefix: string;

  /** `connection`: a Redis URL, or an ioredis client to use as it is (the app closes it; it may be the one the app gives the Redis adapter). */
  constructor(connection: string | Redis, options: RedisDocumentStoreOptions = {}) {
    this.#ownsClient = typeof connection === 'string';
    this.#redis = typeof connection === 'string' ? new Redis(connection, { maxRetriesPerRequest: 1 }) : connection;
    this.#prefix = options.prefix ?? 'sb';
  }

  /** {@inheritDoc DocumentStore.load} */
  async load(document: string, after = 0): Promise<StoredUpdates> {
    const [through, snapshot, entries] = (await this.#script(LOAD, document, String(after))) as [number, Buffer | null, StreamEntry[]];
    const updates: Uint8Array[] = [];
    let cursor = after;
    if (snapshot) {
      updates.push(new Uint8Array(snapshot));
      cursor = Math.max(cursor, through);
    }
    for (const [id, fields] of entries) {
      updates.push(new Uint8Array(fields[1] as Buffer));
      cursor = Math.max(cursor, Number.parseInt(id.toString('latin1'), 10));
    }
    return { updates, cursor };
  }

  /** {@inheritDoc DocumentStore.append} */
  async append(document: string, update: Uint8Array): Promise<AppendResult> {
    const [seq, uncompacted] = (await this.#script(APPEND, document, Buffer.from(update.buffer, update.byteOffset, update.byteLength))) as [number, number];
    return { seq, uncompacted };
  }

  /** {@inheritDoc DocumentStore.compact} */
  async compact(document: string): Promise<void> {
    const [through, snapshot, entries] = (await this.#script(LOAD, document, '0')) as [number, Buffer | null, StreamEntry[]];
    if (entries.length === 0 || (entries.length === 1 && !snapshot)) return;
    const parts = [...(snapshot ? [snapshot] : []), ...entries.map(([, fields]) => fields[1] as Buffer)];
    const last = (entries.at(-1) as StreamEntry)[0].toString('latin1').split('-')[0] as string;
    const merged = mergeStoredUpdates(parts.map((part) => new Uint8Array(part)));
    await this.#script(COMPACT, document, Buffer.from(merged.buffer, merged.byteOffset, merged.byteLength), last, String(through));
  }

  /** {@inheritDoc DocumentStore.close} */
  async close(): Promise<void> {
    if (this.#ownsClient) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  /** Run a script by its digest, sending its text only when Redis does not know it yet. */
  async #script(script: string, document: string, ...args: (string | Buffer)[]): Promise<unknown> {
    const keys = [`${this.#prefix}:ydoc:${document}:meta`, `${this.#prefix}:ydoc:${document}:log`];
    const sha = digest(script);
    try {
      return await this.#redis.callBuffer('EVALSHA', sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return this.#redis.callBuffer('EVAL', script, keys.length, ...keys, ...args);
    }
  }
}

const digests = new Map<string, string>();
function digest(script: string): string {
  let sha = digests.get(script);
  if (!sha) digests.set(script, (sha = createHash('sha1').update(script).digest('hex')));
  return sha;
}
