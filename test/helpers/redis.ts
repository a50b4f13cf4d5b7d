import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';

/** The Redis the cluster tests use: REDIS_URL, or the one CI runs on 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A connected client, or a loud failure: cluster tests need a real Redis and must not
 * pass (or skip) without one. `npm test` starts it (scripts/test-prerequisites.mjs).
 */
export async function connectRedis(url = REDIS_URL): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`these tests need Redis at ${url} (set REDIS_URL, or start redis-server): ${(err as Error).message}`);
  }
  return redis;
}

/** A key prefix of its own for one test run, so runs never see each other's keys. */
export function testPrefix(name: string): string {
  return `sbtest:${name}:${randomBytes(4).toString('hex')}`;
}

/** Delete every key under `prefix` (end of a test). */
export async function dropKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/**
 * For the test file or `describe` block it is called in: a Redis connection while the block
 * runs, and `prefix(name)`, a key prefix of its own (testPrefix) whose keys are dropped
 * after the block.
 */
export function useRedisKeys(): { prefix(name: string): string } {
  let redis: Redis | undefined;
  const prefixes: string[] = [];
  before(async () => {
    redis = await connectRedis();
  });
  after(async () => {
    if (!redis) return;
    for (const p of prefixes) await dropKeys(redis, p);
    redis.disconnect();
  });
  return {
    prefix(name: string): string {
      const p = testPrefix(name);
      prefixes.push(p);
      return p;
    },
  };
}
