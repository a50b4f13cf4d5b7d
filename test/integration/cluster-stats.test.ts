/**
 * The Redis adapter's numbers (`stats().cluster`) on the real Redis: the nodes it knows
 * alive, messages from the other node on the bus with their lag, and errors of a connection
 * that cannot reach Redis — reported to the server's logger when it has one.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { connectRedis, REDIS_URL, testPrefix, useRedisKeys } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

const redisKeys = useRedisKeys();
const servers: Switchboard[] = [];
const clients: BareClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((sb) => sb.close()));
});

describe('RedisAdapter.stats()', () => {
  test('two nodes: nodes 2; a broadcast from the other node is a bus message with its lag; the member there gets it', async () => {
    const prefix = redisKeys.prefix('stats');
    const [a, b] = await Promise.all([0, 1].map(() => startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) })));
    for (const s of [a, b]) if (s) servers.push(s.sb);
    const { sb: one, url } = a as { sb: Switchboard; url: string };
    const two = (b as { sb: Switchboard }).sb;
    const c = await BareClient.open(url);
    clients.push(c);
    await c.hello();
    c.send({ type: 'join', ref: 1, room: 'r' });
    await c.next({ ref: 1 });
    await eventually(() => one.stats().cluster.nodes === 2, 'node one to count two nodes');
    const before = one.stats();
    assert.equal(before.cluster.errors, 0);
    two.to('r').emit('tick', 1);
    await c.next({ type: 'event', event: 'tick' });
    const now = one.stats();
    assert.ok(now.cluster.busMessages > before.cluster.busMessages, 'the broadcast arrived on the bus');
    assert.ok(now.cluster.busLagSecondsSum >= 0 && now.cluster.busLagSecondsLast >= 0);
    assert.equal(now.broadcasts - before.broadcasts, 1, 'a cluster broadcast is delivered here as one broadcast');
    assert.equal(now.deliveries - before.deliveries, 1);
  });

  test('a connection that cannot reach Redis counts errors and logs them to the server logger (error), once per outage', async () => {
    const logged: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const adapter = new RedisAdapter('redis://127.0.0.1:1', { prefix: redisKeys.prefix('bogus') });
    const started = adapter.start({
      broadcast() {},
      publication() {},
      answer: () => null,
      log: (level, fields, message) => void logged.push({ level, fields, message }),
    });
    await assert.rejects(started, { code: 'cluster_unavailable' });
    await eventually(() => (adapter.stats().errors ?? 0) >= 2, 'errors of both connections to be counted');
    assert.equal(adapter.stats().nodes, undefined, 'it cannot tell');
    await adapter.close();
    const errors = logged.filter((l) => l.level === 'error');
    assert.ok(errors.length >= 1 && errors.length <= 2, 'once per connection and outage');
    assert.ok(errors.every((l) => l.message === 'redis connection failed; retrying' && typeof l.fields.connection === 'string'));
  });

  test('a Redis that refuses PUBSUB CHANNELS (an ACL): nodes unknown, no error counted, no outage logged; said once at debug', async () => {
    // A real Redis user that may do everything but count channels.
    const admin = await connectRedis();
    const user = testPrefix('no-pubsub-channels').replace(/:/g, '-');
    await admin.call('ACL', 'SETUSER', user, 'on', 'nopass', '~*', '&*', '+@all', '-pubsub|channels');
    const url = new URL(REDIS_URL);
    url.username = user;
    url.password = 'any';
    const logged: { level: string; message: string }[] = [];
    const troubles: unknown[] = [];
    const adapter = new RedisAdapter(url.toString(), { prefix: redisKeys.prefix('acl'), onError: (err, context) => void troubles.push({ err, context }) });
    try {
      await adapter.start({ broadcast() {}, publication() {}, answer: () => null, log: (level, _fields, message) => void logged.push({ level, message }) });
      // Scrape until Redis has refused three counts (its ACL LOG counts them): at least two refusals reached the adapter.
      const deadline = Date.now() + 10_000;
      while ((await refusedCounts(admin, user)) < 3) {
        assert.ok(Date.now() < deadline, 'Redis to refuse three counts');
        adapter.stats();
      }
      const stats = adapter.stats();
      assert.equal(stats.nodes, undefined, 'it cannot tell');
      assert.equal(stats.errors, 0, 'a refused count is not a connection error');
      assert.deepEqual(troubles, [], 'no outage reported');
      assert.deepEqual(logged, [{ level: 'debug', message: 'redis cannot count the nodes (PUBSUB CHANNELS failed); stats report nodes as unknown' }], 'once, at debug');
    } finally {
      await adapter.close();
      await admin.call('ACL', 'DELUSER', user);
      admin.disconnect();
    }
  });
});

/** How many commands Redis refused to `user` (its ACL LOG adds up identical refusals in `count`). */
async function refusedCounts(admin: Awaited<ReturnType<typeof connectRedis>>, user: string): Promise<number> {
  const entries = (await admin.call('ACL', 'LOG')) as unknown[][];
  let total = 0;
  for (const entry of entries) {
    const fields = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(entry[i], entry[i + 1]);
    if (fields.get('username') === user) total += Number(fields.get('count'));
  }
  return total;
}
