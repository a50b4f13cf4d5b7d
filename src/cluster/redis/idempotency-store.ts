import { Redis } from 'ioredis';
import { ErrorCode } from '../../protocol/error-codes.js';
import { SwitchboardError } from '../../protocol/errors.js';
import type { IdempotencyRecord, IdempotencyStore } from '../../delivery/idempotency-store.js';

export type { IdempotencyRecord, IdempotencyStore, StoredAnswer } from '../../delivery/idempotency-store.js';

export interface RedisIdempotencyStoreOptions {
  /** First part of every key. Default 'sb' (the Redis adapter's default: one prefix per cluster). */
  prefix?: string;
  /** Milliseconds a command may take before it fails, for a connection this store opens from a URL. Default 5000. */
  commandTimeout?: number;
}

/*
 * Keys (P = prefix):
 *   P:idem:<key>   STRING JSON {"f": fingerprint, "t": token of the attempt holding it} while it
 *                  runs, {"f", "a": answer} once complete; expires with the lease, then the TTL.
 */

/** Claim: the record already there, or nothing (and the key is now the caller's). */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

/** Complete: store the answer unless another attempt holds the key now (ours expired and it claimed it). */
const COMPLETE = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v)['t'] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** Release: forget the claim if it is still this attempt's. */
const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v)['t'] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

type Scripts = {
  sbIdemClaim(key: string, value: string, leaseMs: number): Promise<string | null>;
  sbIdemComplete(key: string, token: string, value: string, ttlMs: number): Promise<number>;
  sbIdemRelease(key: string, token: string): Promise<number>;
};

/**
 * Idempotency keys in Redis, shared by every node: a retry that reaches another node than
 * the first attempt is still answered from the first attempt. Each operation is one
 * script, so two nodes claiming one key at once cannot both win. Redis unreachable:
 * rejects `cluster_unavailable` (and the HTTP API publishes nothing).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: Redis & Scripts;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  /** The first connection of an owned client (lazy: made by the first command). */
  #connecting: Promise<void> | undefined;

  /** `connection`: a Redis URL (this store opens and closes its connection), or an ioredis client used as it is. */
  constructor(connection: string | Redis, options: RedisIdempotencyStoreOptions = {}) {
    this.#ownsClient = typeof connection === 'string';
    const redis =
      typeof connection === 'string'
        ? // Fail at once while Redis is away instead of queueing: the HTTP caller is told and retries.
          new Redis(connection, {
            lazyConnect: true,
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            commandTimeout: options.commandTimeout ?? 5000,
            retryStrategy: (times) => Math.min(100 * times, 2000),
          })
        : connection;
    redis.defineCommand('sbIdemClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('sbIdemComplete', { numberOfKeys: 1, lua: COMPLETE });
    redis.defineCommand('sbIdemRelease', { numberOfKeys: 1, lua: RELEASE });
    this.#redis = redis as Redis & Scripts;
    this.#prefix = options.prefix ?? 'sb';
    // An owned connection reports through rejected commands; without a listener ioredis would log every retry.
    if (this.#ownsClient) redis.on('error', () => {});
  }

  async claim(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyRecord | undefined> {
    const found = await this.#run(() => this.#redis.sbIdemClaim(this.#key(key), JSON.stringify({ f: fingerprint, t: token }), Math.ceil(leaseMs)));
    if (found === null) return undefined;
    const stored = JSON.parse(found) as { f: string; a?: { status: number; body: string } };
    return stored.a ? { fingerprint: stored.f, answer: stored.a } : { fingerprint: stored.f };
  }

  async complete(key: string, token: string, record: Required<IdempotencyRecord>, ttlMs: number): Promise<void> {
    await this.#run(() => this.#redis.sbIdemComplete(this.#key(key), token, JSON.stringify({ f: record.fingerprint, a: record.answer }), Math.ceil(ttlMs)));
  }

  async release(key: string, token: string): Promise<void> {
    await this.#run(() => this.#redis.sbIdemRelease(this.#key(key), token));
  }

  /** Close the connection this store opened from a URL (one it was given is the app's to close). */
  async close(): Promise<void> {
    if (this.#ownsClient) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(key: string): string {
    return `${this.#prefix}:idem:${key}`;
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      if (this.#ownsClient && this.#redis.status === 'wait') {
        // Commands are not queued while disconnected, so the first one waits for the first connection.
        this.#connecting ??= this.#redis.connect().finally(() => (this.#connecting = undefined));
      }
      if (this.#connecting) await this.#connecting;
      return await command();
    } catch (err) {
      throw new SwitchboardError(ErrorCode.ClusterUnavailable, `idempotency store: Redis cannot be reached (${(err as Error).message})`, { cause: err });
    }
  }
}
