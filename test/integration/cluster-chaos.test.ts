import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { Emitter, RedisStreamStore } from '../../src/cluster/redis/index.js';
import { streamKey } from '../../src/delivery/durable-rooms.js';
import { BareClient } from '../helpers/bare-client.js';
import { Balancer, ReplyCutter } from '../helpers/balancer.js';
import { type ClusterProcess, PrivateRedis, startNodes } from '../helpers/cluster-processes.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/server.js';

interface Pos {
  epoch: string;
  offset: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const HISTORY = { maxMessages: 10_000, maxAge: 600_000 };
/** Presence liveness of the nodes in the crash test: a killed node's users are gone within TTL + RENEW. */
const PRESENCE = { nodeTtl: 1000, renewInterval: 200 };
const RECONNECT = { delay: 100, maxDelay: 500 };

/** What one SDK client's handler saw of the numbered stream, and the recoveries it was told about. */
interface Receiver {
  client: SwitchboardClient;
  numbers: number[];
  offsets: number[];
  recoveries: boolean[];
}

function receive(client: SwitchboardClient): Receiver {
  const r: Receiver = { client, numbers: [], offsets: [], recoveries: [] };
  client.on('n', (data, meta) => {
    r.numbers.push((data as { n: number }).n);
    r.offsets.push((meta.position as Pos).offset);
  });
  client.on('recovery', (info) => r.recoveries.push(info.recovered));
  return r;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('cluster chaos: node crash', () => {
  let redis: Redis;
  const prefix = testPrefix('cluster-chaos');
  let nodes: ClusterProcess[] = [];
  let balancer: Balancer;

  before(async () => {
    redis = await connectRedis();
    nodes = await startNodes(['a', 'b', 'c'], { redisUrl: REDIS_URL, prefix, presence: PRESENCE });
    balancer = await Balancer.start(nodes.map((n) => n.port));
  });

  after(async () => {
    await balancer.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await dropKeys(redis, prefix);
    redis.disconnect();
  });

  test('SIGKILL mid-stream: every client moves to a surviving node and sees every number once, in order; the dead node’s users leave once', async (t) => {
    const [a, , c] = nodes as [ClusterProcess, ClusterProcess, ClusterProcess];
    const room = 'room:chaos';
    // Nine users behind the balancer, three per node, in the durable feed and a presence room.
    const receivers = await Promise.all(
      range(1, 9).map(async (i) => {
        const client = connect(balancer.url(), { auth: { user: `u${i}` }, reconnect: RECONNECT });
        const r = receive(client);
        await client.join('feed');
        await client.join(room);
        return r;
      }),
    );
    const homes = await Promise.all(receivers.map((r) => r.client.emitWithAck('whoami') as Promise<string>));
    const resumed: boolean[] = [];
    for (const r of receivers) r.client.on('connect', (info) => resumed.push(info.resumed));
    assert.deepEqual([...homes].sort(), ['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c'], 'the balancer spread the clients');

    // Watched presence: a watcher on a, and two users who only ever were on c (bare clients do not reconnect).
    const watcher = await BareClient.open(a.url());
    await watcher.hello({ auth: { user: 'watcher' } });
    watcher.send({ type: 'join', ref: 1, room });
    await watcher.next({ type: 'reply', ref: 1 });
    const ghosts = await Promise.all(
      ['ghost1', 'ghost2'].map(async (user) => {
        const g = await BareClient.open(c.url());
        await g.hello({ auth: { user } });
        g.send({ type: 'join', ref: 1, room });
        await g.next({ type: 'reply', ref: 1 });
        return g;
      }),
    );
    for (const user of ['ghost1', 'ghost2']) await watcher.next({ type: 'presence', user, kind: 'join' }, 5000);

    // The stream: odd numbers from an Emitter in this process, even ones published by node a at a client's request.
    const emitter = new Emitter(REDIS_URL, { prefix }).durable(/^feed/, HISTORY);
    const publisher = connect(a.url(), { reconnect: false });
    const total = 600;
    const killAt = 200;
    let killed: Promise<void> | undefined;
    let killedAt = 0;
    try {
      for (let n = 1; n <= total; n++) {
        if (n % 2 === 1) await emitter.to('feed').publish('n', { n });
        else await publisher.emitWithAck('publish', { room: 'feed', event: 'n', data: { n } });
        if (n === killAt) {
          killedAt = Date.now();
          killed = c.kill();
        }
        await sleep(8);
      }
    } finally {
      await emitter.close();
      publisher.close();
    }
    await killed;
    assert.equal((await c.exited).signal, 'SIGKILL');

    for (const [i, r] of receivers.entries()) {
      await eventually(() => r.numbers.length >= total, `client u${i + 1} (was on ${homes[i]}) to see ${total} numbers; it has ${r.numbers.length}`, 15_000);
    }
    await sleep(200);
    for (const [i, r] of receivers.entries()) {
      const who = `u${i + 1} (was on ${homes[i]})`;
      assert.deepEqual(r.numbers, range(1, total), `${who}: every number once, in order`);
      assert.deepEqual(r.offsets, range(1, total), `${who}: positions 1..${total}`);
      assert.ok(r.recoveries.every((ok) => ok), `${who}: told recovered:false although history holds the gap`);
      if (homes[i] === 'c') assert.ok(r.client.connected, `${who} is connected again`);
    }
    const now = await Promise.all(receivers.map((r) => r.client.emitWithAck('whoami') as Promise<string>));
    for (const [i, home] of now.entries()) assert.notEqual(home, 'c', `u${i + 1} answered by the dead node`);
    t.diagnostic(`moved: ${homes.map((h, i) => `${h}->${now[i]}`).join(' ')}; recoveries: ${receivers.map((r) => r.recoveries.length).join(',')}; resumed: ${resumed.join(',')}`);

    // Presence: the ghosts leave once, announced by a survivor; the reconnected users stay members.
    for (const user of ['ghost1', 'ghost2']) {
      const bound = PRESENCE.nodeTtl + PRESENCE.renewInterval;
      // Real time generous beyond the documented bound: a failure here means they never left.
      const left = await watcher.next({ type: 'presence', user, kind: 'leave' }, Math.max(0, killedAt + bound - Date.now()) + 3000);
      assert.deepEqual(left, { type: 'presence', room, kind: 'leave', user, info: { name: user } });
    }
    await sleep(PRESENCE.nodeTtl + PRESENCE.renewInterval);
    assert.deepEqual(
      watcher.frames.filter((f) => f.type === 'presence' && String(f.user).startsWith('ghost')),
      [],
      'a ghost was announced again',
    );
    // A user who moved nodes may flicker (leave, then join again) but must end present, with joins and leaves paired.
    for (const i of range(1, 9)) {
      const kinds = watcher.frames.filter((f) => f.type === 'presence' && f.user === `u${i}`).map((f) => f.kind);
      for (let k = 0; k < kinds.length; k++) assert.equal(kinds[k], k % 2 === 0 ? 'leave' : 'join', `u${i}: ${kinds.join(',')}`);
    }
    watcher.send({ type: 'presence', ref: 2, room });
    const members = ((await watcher.next({ type: 'reply', ref: 2 })).data as { members: { user: string }[] }).members.map((m) => m.user);
    assert.deepEqual(members, [...range(1, 9).map((i) => `u${i}`), 'watcher'].sort());

    for (const r of receivers) r.client.close();
    for (const g of ghosts) g.close();
    watcher.close();
  });
});

describe('cluster chaos: Redis restart', () => {
  let privateRedis: PrivateRedis;
  let nodes: ClusterProcess[] = [];
  const prefix = testPrefix('cluster-chaos-redis');

  before(async () => {
    privateRedis = await PrivateRedis.start();
    nodes = await startNodes(['a', 'b'], { redisUrl: privateRedis.url, prefix });
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await privateRedis.destroy();
  });

  test('Redis restarts mid-stream: publishes fail cluster_unavailable meanwhile, local delivery goes on, every acknowledged publish reaches everyone once in order', async (t) => {
    const [a, b] = nodes as [ClusterProcess, ClusterProcess];
    const receivers = await Promise.all(
      [a, a, a, b, b, b].map(async (node) => {
        const client = connect(node.url(), { reconnect: RECONNECT });
        const r = receive(client);
        await client.join('feed:r');
        await client.join('lobby');
        return r;
      }),
    );
    const onB = receivers.slice(3);
    const local = onB.map(() => [] as unknown[]);
    onB.forEach((r, i) => r.client.on('outage', (data) => void local[i]!.push(data)));

    // Publishers — node a at a client's request (even numbers) and an Emitter here (odd ones, on
    // a connection that comes back on its own schedule, so some publications are made while a
    // node's subscriber is still away) — record what the cluster acknowledged and how the rest failed.
    const publisher = connect(a.url(), { reconnect: RECONNECT });
    const emitter = new Emitter(privateRedis.url, { prefix }).durable(/^feed/, HISTORY);
    const acked: number[] = [];
    const failures = new Map<number, string>();
    const messages = new Map<number, string>();
    let publishing = true;
    let afterRestart = 0;
    let restarted = false;
    const loop = (async () => {
      for (let n = 1; publishing; n++) {
        try {
          if (n % 2 === 1) await emitter.to('feed:r').publish('n', { n });
          else await publisher.emitWithAck('publish', { room: 'feed:r', event: 'n', data: { n } }, { timeout: 5000 });
          acked.push(n);
          if (restarted) afterRestart++;
        } catch (err) {
          failures.set(n, (err as { code?: string }).code ?? String(err));
          messages.set(n, (err as Error).message);
        }
        await sleep(10);
      }
    })();

    await eventually(() => acked.length >= 50, 'publishes before the restart', 10_000);
    await privateRedis.stop();
    const ackedBefore = acked.length;
    // During the outage: publishes fail fast, and a node still delivers to its own members.
    await eventually(() => failures.size >= 5, 'publishes to fail while Redis is down', 10_000);
    const shouter = onB[0]!.client;
    await shouter.emitWithAck('shout', { room: 'lobby', event: 'outage', data: 'still here' });
    for (const [i] of onB.entries()) await eventually(() => local[i]!.length === 1, `local delivery on b to client ${i}`, 5000);
    await sleep(500);
    await privateRedis.startAgain();
    restarted = true;
    await eventually(() => afterRestart >= 100, 'publishes acknowledged after the restart', 20_000);
    publishing = false;
    await loop;
    publisher.close();
    await emitter.close();

    assert.ok(acked.length > ackedBefore, 'nothing was acknowledged after the restart');
    const codes = new Set(failures.values());
    assert.deepEqual([...codes], ['cluster_unavailable'], `failures: ${JSON.stringify([...failures])}`);
    const last = Math.max(...acked);
    for (const [i, r] of receivers.entries()) {
      await eventually(() => r.numbers.includes(last), `client ${i} to see the last acknowledged number ${last}; it has ${r.numbers.length}`, 15_000);
    }
    await sleep(200);
    for (const [i, r] of receivers.entries()) {
      const who = `client ${i} on ${i < 3 ? 'a' : 'b'}`;
      // The stream holds exactly what was stored: positions without holes or repeats.
      assert.deepEqual(r.offsets, range(1, r.offsets.length), `${who}: positions`);
      for (let k = 1; k < r.numbers.length; k++) assert.ok(r.numbers[k]! > r.numbers[k - 1]!, `${who}: ${r.numbers[k - 1]} then ${r.numbers[k]}`);
      const missing = acked.filter((n) => !r.numbers.includes(n));
      assert.deepEqual(missing, [], `${who}: acknowledged publishes lost`);
      // Anything more must be a publish that failed with an unknown outcome ("not confirmed
      // stored": Redis ran the append, the reply was lost with the connection).
      const extra = r.numbers.filter((n) => !acked.includes(n));
      for (const n of extra) assert.ok(failures.has(n), `${who}: ${n} was neither published nor failed`);
      assert.ok(r.recoveries.every((ok) => ok), `${who}: recovered:false with the whole gap in history`);
    }
    assert.equal(new Set(receivers.map((r) => JSON.stringify(r.numbers))).size, 1, 'every client saw the same stream');
    const stored = receivers[0]!.numbers.filter((n) => failures.has(n));
    t.diagnostic(`acknowledged ${acked.length} (${ackedBefore} before the restart), failed ${failures.size}, delivered ${receivers[0]!.numbers.length}; recoveries ${receivers.map((r) => r.recoveries.length).join(',')}`);
    for (const n of stored) t.diagnostic(`stored although the publisher was told it failed (outcome unknown): ${n} by ${n % 2 === 1 ? 'the Emitter' : 'node a'}: ${messages.get(n)}`);

    // History survived the restart (append-only file), on both nodes.
    for (const r of [receivers[0]!, receivers[3]!]) {
      const history = await r.client.history('feed:r', { limit: 1000 });
      const numbers = history.publications.map((p) => (p.data as { n: number }).n);
      assert.deepEqual(acked.filter((n) => !numbers.includes(n)), [], 'acknowledged publishes missing from history');
    }
    for (const r of receivers) r.client.close();
  });
});

describe('cluster chaos: a Redis link lost between a durable publish and its reply', () => {
  test('the publish is stored once: the command is not run again when the link comes back', async (t) => {
    const redis = await connectRedis();
    const prefix = testPrefix('cluster-chaos-blip');
    const relay = await ReplyCutter.start(Number(new URL(REDIS_URL).port || 6379));
    // The Emitter uses the adapter's connection settings (no offline queue, maxRetriesPerRequest 1).
    const emitter = new Emitter(`redis://127.0.0.1:${relay.port}`, { prefix }).durable(/^feed/, HISTORY);
    try {
      await emitter.to('feed:blip').publish('n', { n: 1 });
      relay.arm('evalsha');
      const outcome = await emitter.to('feed:blip').publish('n', { n: 2 }).then(
        (position) => `stored at ${position.offset}`,
        (err: { code?: string }) => `rejected ${err.code}`,
      );
      assert.equal(relay.cuts, 1, 'the reply of the append was cut');
      // The link is back once a publish goes through again.
      let third: Pos | undefined;
      for (let i = 0; !third; i++) {
        third = await emitter.to('feed:blip').publish('n', { n: 3 }).catch(() => undefined);
        if (!third) {
          assert.ok(i < 100, 'the Emitter never reconnected');
          await sleep(50);
        }
      }
      const read = await new RedisStreamStore(redis, { prefix }).read(streamKey('/', 'feed:blip'), {}, HISTORY);
      assert.equal(read.ok, true);
      const numbers = read.ok ? read.entries.map((e) => (JSON.parse(e.payload) as { data: { n: number } }).data.n) : [];
      t.diagnostic(`publish 2: ${outcome}; stream: ${JSON.stringify(numbers)}`);
      assert.deepEqual(numbers, [1, 2, 3], `publish 2 (${outcome}) must be in the stream exactly once`);
    } finally {
      await emitter.close();
      await relay.close();
      await dropKeys(redis, prefix);
      redis.disconnect();
    }
  });
});
