import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RedisSessionStore } from '../../src/cluster/redis/redis-session-store.js';
import { connectRedis, useRedisKeys } from '../helpers/redis.js';

/**
 * Taking a session over spends its token — unless the client keeps one token for the
 * session's life (a Socket.IO client's pid), which must go on naming the session for the
 * next node even before the taker's first save.
 */
describe('RedisSessionStore.take', () => {
  const keys = useRedisKeys();
  const snapshot = { sid: 'AAAAAAAAAAAAAAAAAAAAAA', namespaces: [], dedupe: [] };

  test('spends the token by default: a second take with it finds nothing', async () => {
    const redis = await connectRedis();
    const prefix = keys.prefix('take-spent');
    try {
      await new RedisSessionStore(redis, 'node-a', prefix).save(snapshot, ['t1'], 60_000);
      assert.equal((await new RedisSessionStore(redis, 'node-b', prefix).take('t1'))?.owner, 'node-a');
      assert.equal(await new RedisSessionStore(redis, 'node-c', prefix).take('t1'), undefined);
    } finally {
      redis.disconnect();
    }
  });

  test('with keep, the token names the session for the next taker, whose previous owner is the last taker', async () => {
    const redis = await connectRedis();
    const prefix = keys.prefix('take-kept');
    try {
      await new RedisSessionStore(redis, 'node-a', prefix).save(snapshot, ['pid'], 60_000);
      const first = await new RedisSessionStore(redis, 'node-b', prefix).take('pid', { keep: true });
      assert.equal(first?.owner, 'node-a');
      assert.deepEqual(first?.snapshot, snapshot);
      const second = await new RedisSessionStore(redis, 'node-c', prefix).take('pid', { keep: true });
      assert.equal(second?.owner, 'node-b');
      assert.equal(await new RedisSessionStore(redis, 'node-a', prefix).take('other', { keep: true }), undefined);
    } finally {
      redis.disconnect();
    }
  });
});
