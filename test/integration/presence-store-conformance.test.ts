import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { MemoryPresence } from '../../src/cluster/memory-presence.js';
import type { PresenceChange, PresenceStore } from '../../src/cluster/presence-store.js';
import { RedisPresence } from '../../src/cluster/redis/redis-presence.js';
import { connectRedis, dropKeys, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('presence');
const clients: Redis[] = [];
let redis: Redis;

before(async () => {
  redis = await connectRedis();
  clients.push(redis);
});

after(async () => {
  await dropKeys(redis, prefix);
  await Promise.all(clients.map((c) => c.quit()));
});

let nodes = 0;
/** A node of its own: own connection, own id, the shared prefix. */
async function node(options: { nodeId?: string; nodeTtl?: number; renewInterval?: number } = {}): Promise<RedisPresence> {
  const connection = await connectRedis();
  clients.push(connection);
  return new RedisPresence(connection, { prefix, nodeId: `node-${++nodes}`, ...options });
}

function byUserThenKind(a: PresenceChange, b: PresenceChange): number {
  return a.user < b.user ? -1 : a.user > b.user ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** Poll until `ready()`; a generous deadline, so a failure means "never", not "slow". */
async function until(ready: () => boolean | Promise<boolean>, what: string, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await ready())) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every PresenceStore behaves the same for one node's connections. */
function conformance(name: string, open: () => Promise<PresenceStore>): void {
  describe(`PresenceStore conformance: ${name}`, () => {
    test('a user joins on their first connection and leaves with their last; three tabs are one entry', async () => {
      const store = await open();
      assert.deepEqual(await store.add('lobby', 'ann', 'c1', { name: 'Ann' }), { room: 'lobby', user: 'ann', kind: 'join', info: { name: 'Ann' } });
      assert.equal(await store.add('lobby', 'ann', 'c2', { name: 'Ann' }), undefined);
      assert.equal(await store.add('lobby', 'ann', 'c3', { name: 'Ann' }), undefined);
      assert.equal(await store.count('lobby'), 1);
      assert.deepEqual(await store.list('lobby'), [{ user: 'ann', info: { name: 'Ann' } }]);

      assert.equal(await store.remove('lobby', 'c2'), undefined);
      assert.equal(await store.remove('lobby', 'c1'), undefined);
      assert.equal(await store.count('lobby'), 1, 'one tab is still open');
      assert.deepEqual(await store.remove('lobby', 'c3'), { room: 'lobby', user: 'ann', kind: 'leave', info: { name: 'Ann' } });
      assert.equal(await store.count('lobby'), 0);
      assert.deepEqual(await store.list('lobby'), []);
      assert.deepEqual(await store.close(), []);
    });

    test('the info of the first connection is kept, and comes back as its JSON', async () => {
      const store = await open();
      const info = { name: 'Zoë "z" | 1\n2', tags: [], nested: { n: 12345678901234, f: 0.1, none: null } };
      await store.add('r', 'zoe', 'c1', info);
      await store.add('r', 'zoe', 'c2', { name: 'second tab' });
      assert.deepEqual(await store.list('r'), [{ user: 'zoe', info }]);
      await store.remove('r', 'c1');
      assert.deepEqual((await store.remove('r', 'c2'))?.info, info);
      assert.deepEqual(await store.add('r', 'u', 'c3', undefined), { room: 'r', user: 'u', kind: 'join', info: null });
      await store.close();
    });

    test('list is sorted by user', async () => {
      const store = await open();
      for (const [i, user] of ['zoe', 'ann', 'Bob', 'mia', 'ann'].entries()) await store.add('r', user, `c${i}`, { i });
      assert.deepEqual(
        (await store.list('r')).map((e) => e.user),
        ['Bob', 'ann', 'mia', 'zoe'],
      );
      assert.equal(await store.count('r'), 4);
      await store.close();
    });

    test('add is idempotent per (room, conn); removing an unknown connection changes nothing', async () => {
      const store = await open();
      assert.equal((await store.add('r', 'ann', 'c1', {}))?.kind, 'join');
      assert.equal(await store.add('r', 'ann', 'c1', {}), undefined);
      assert.equal(await store.remove('r', 'nobody'), undefined);
      assert.equal(await store.remove('elsewhere', 'c1'), undefined);
      assert.equal(await store.count('r'), 1);
      assert.equal((await store.remove('r', 'c1'))?.kind, 'leave', 'a repeated add must not count twice');
      assert.equal(await store.remove('r', 'c1'), undefined);
      await store.close();
    });

    test('rooms are independent, even for the same connection', async () => {
      const store = await open();
      assert.equal((await store.add('a', 'ann', 'c1', { in: 'a' }))?.kind, 'join');
      assert.equal((await store.add('b', 'ann', 'c1', { in: 'b' }))?.kind, 'join');
      await store.add('b', 'bob', 'c2', {});
      assert.deepEqual(await store.remove('a', 'c1'), { room: 'a', user: 'ann', kind: 'leave', info: { in: 'a' } });
      assert.deepEqual(await store.list('a'), []);
      assert.deepEqual(await store.list('b'), [
        { user: 'ann', info: { in: 'b' } },
        { user: 'bob', info: {} },
      ]);
      await store.close();
    });

    test('close takes every connection out and returns the leaves', async () => {
      const store = await open();
      await store.add('a', 'ann', 'c1', 1);
      await store.add('a', 'ann', 'c2', 1);
      await store.add('b', 'bob', 'c3', 2);
      const leaves = await store.close();
      assert.deepEqual(leaves.sort(byUserThenKind), [
        { room: 'a', user: 'ann', kind: 'leave', info: 1 },
        { room: 'b', user: 'bob', kind: 'leave', info: 2 },
      ]);
      assert.deepEqual(await store.list('a'), []);
      assert.equal(await store.count('b'), 0);
    });

    test('close also takes out a connection whose add was still under way', async () => {
      const store = await open();
      const adding = store.add('r', 'ann', 'c1', {});
      assert.deepEqual(await store.close(), [{ room: 'r', user: 'ann', kind: 'leave', info: {} }]);
      assert.equal((await adding)?.kind, 'join');
      assert.deepEqual(await store.list('r'), []);
    });
  });
}

conformance('MemoryPresence', async () => new MemoryPresence());
conformance('RedisPresence', async () => new RedisPresence(redis, { prefix, nodeId: `single-${++nodes}` }));

describe('RedisPresence across nodes', () => {
  test('a user on two nodes leaves only when both connections left (connection ids are per node)', async () => {
    const [a, b] = [await node(), await node()];
    assert.equal((await a.add('r', 'ann', 'c1', { from: 'a' }))?.kind, 'join');
    assert.equal(await b.add('r', 'ann', 'c1', { from: 'b' }), undefined);
    assert.equal(await a.remove('r', 'c1'), undefined);
    assert.deepEqual(await b.list('r'), [{ user: 'ann', info: { from: 'a' } }]);
    assert.deepEqual(await b.remove('r', 'c1'), { room: 'r', user: 'ann', kind: 'leave', info: { from: 'a' } });
    await Promise.all([a.close(), b.close()]);
  });

  test('concurrent nodes never double a join or miss a leave', async () => {
    const [a, b] = [await node(), await node()];
    const users = Array.from({ length: 100 }, (_, i) => `u${i}`);
    const joins = await Promise.all(users.flatMap((u) => [a.add('busy', u, u, {}), b.add('busy', u, u, {})]));
    assert.equal(joins.filter((c) => c?.kind === 'join').length, users.length);
    assert.equal(await a.count('busy'), users.length);
    const leaves = await Promise.all(users.flatMap((u) => [a.remove('busy', u), b.remove('busy', u)]));
    assert.deepEqual(leaves.filter((c) => c?.kind === 'leave').map((c) => c?.user).sort(), [...users].sort());
    assert.equal(await a.count('busy'), 0);
    assert.deepEqual(await redis.keys(`${prefix}:presence:busy*`), [], 'an emptied room leaves no keys');
    await Promise.all([a.close(), b.close()]);
  });

  test("a crashed node's users leave once, cluster-wide; users it shared stay; it may come back", async () => {
    const fast = { nodeTtl: 300, renewInterval: 100 };
    const [a, b, c] = [await node({ ...fast, nodeId: 'crashing' }), await node(fast), await node(fast)];
    const seen: PresenceChange[] = [];
    b.onExpired((changes) => seen.push(...changes));
    c.onExpired((changes) => seen.push(...changes));
    await a.add('room', 'ann', 'a1', { n: 'ann' });
    await a.add('room', 'bob', 'a2', { n: 'bob' });
    await a.add('room', 'bob', 'a3', { n: 'bob' });
    await a.add('room', 'carl', 'a4', { n: 'carl' });
    await a.add('other', 'ann', 'a1', { n: 'ann2' });
    await b.add('room', 'carl', 'b1', { n: 'carl-b' });

    a.stopRenewing(); // a crash: no cleanup, no more renewals
    await until(() => seen.length >= 3, 'the leaves of the crashed node');
    // Several more sweeps by both live nodes: nothing may be reported twice.
    await new Promise((r) => setTimeout(r, fast.nodeTtl + 3 * fast.renewInterval));
    const expected: PresenceChange[] = [
      { room: 'room', user: 'ann', kind: 'leave', info: { n: 'ann' } },
      { room: 'other', user: 'ann', kind: 'leave', info: { n: 'ann2' } },
      { room: 'room', user: 'bob', kind: 'leave', info: { n: 'bob' } },
    ];
    assert.deepEqual(seen.sort(byUserThenKind), expected.sort(byUserThenKind));
    assert.deepEqual(await b.list('room'), [{ user: 'carl', info: { n: 'carl' } }]);
    assert.deepEqual(await b.list('other'), []);
    assert.equal(await redis.exists(`${prefix}:presence-node:crashing`), 0, "the dead node's index is gone");

    // A node only presumed dead (stalled, cut off) restores its connections and reports the joins.
    const back: PresenceChange[] = [];
    a.onExpired((changes) => back.push(...changes));
    a.start();
    await until(() => back.length >= 3, 'the joins of the returning node');
    assert.deepEqual(back.map((ch) => `${ch.kind} ${ch.room} ${ch.user}`).sort(), ['join other ann', 'join room ann', 'join room bob']);
    assert.deepEqual((await c.list('room')).map((e) => e.user), ['ann', 'bob', 'carl']);

    const leaves = await a.close();
    assert.deepEqual(leaves.map((ch) => `${ch.kind} ${ch.room} ${ch.user}`).sort(), ['leave other ann', 'leave room ann', 'leave room bob']);
    assert.deepEqual(await c.list('room'), [{ user: 'carl', info: { n: 'carl' } }], "carl's tab on b keeps him present");
    assert.equal(await b.remove('room', 'b1').then((ch) => ch?.kind), 'leave');
    await Promise.all([b.close(), c.close()]);
    assert.equal(seen.length, 3, 'a clean close is not reported as an expiry');
  });

  test('a cleaner never removes the entries of a node that is alive again', async () => {
    // The state after a cleaner died halfway through a node that then came back: the node is
    // listed (alive) and still under an expired cleaning lease that the next sweep takes over.
    const alive = await node({ nodeId: 'came-back' });
    await alive.add('r', 'ann', 'c1', {});
    await redis.zadd(`${prefix}:presence-reaping`, 0, 'came-back');
    const sweeper = await node({ nodeTtl: 300, renewInterval: 100 });
    const seen: PresenceChange[] = [];
    sweeper.onExpired((changes) => seen.push(...changes));
    await until(async () => (await redis.zcard(`${prefix}:presence-reaping`)) === 0, 'the lease taken over and dropped');
    assert.deepEqual(seen, []);
    assert.deepEqual((await sweeper.list('r')).map((e) => e.user), ['ann']);
    await Promise.all([alive.close(), sweeper.close()]);
  });

  test('a node restarted with the same id drops what its previous life left behind', async () => {
    const first = await node({ nodeId: 'restarted' });
    await first.add('r', 'ann', 'c1', {});
    await first.add('r', 'bob', 'c2', {});
    first.stopRenewing(); // the process dies; a new one starts with the same id before anyone cleans up
    const second = await node({ nodeId: 'restarted' });
    const dropped: PresenceChange[] = [];
    second.onExpired((changes) => dropped.push(...changes));
    // Connection ids restart with the process: c1 is someone else now.
    const join = await second.add('r', 'bob', 'c1', {});
    assert.deepEqual(dropped.map((ch) => `${ch.kind} ${ch.user}`).sort(), ['leave ann', 'leave bob'], 'reported before any add of the new life');
    assert.equal(join?.kind, 'join');
    assert.deepEqual((await second.list('r')).map((e) => e.user), ['bob']);
    assert.deepEqual((await second.close()).map((ch) => `${ch.kind} ${ch.user}`), ['leave bob']);
  });
});
