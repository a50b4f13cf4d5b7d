import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { Emitter } from '../../src/cluster/redis/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { Balancer } from '../helpers/balancer.js';
import { type ClusterProcess, startNodes } from '../helpers/cluster-processes.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/server.js';

interface Pos {
  epoch: string;
  offset: number;
}
interface RemoteSocket {
  id: string;
  node: string;
  name: string;
  user?: string;
  rooms: string[];
}

/** Real time for what must NOT happen to have had its chance (a second copy, an early leave). */
const settle = (ms = 300): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cluster of three processes on the real Redis', () => {
  let redis: Redis;
  const prefix = testPrefix('cluster-processes');
  let nodes: ClusterProcess[] = [];
  const clients: SwitchboardClient[] = [];
  const bare: BareClient[] = [];

  /** An SDK client on `url` that joined `rooms`, closed after the suite. */
  async function client(url: string, rooms: string[] = [], user?: string): Promise<SwitchboardClient> {
    const c = connect(url, { auth: user ? { user } : undefined, reconnect: false });
    clients.push(c);
    for (const room of rooms) await c.join(room);
    if (rooms.length === 0) await c.emitWithAck('whoami');
    return c;
  }

  /** A bare client (for presence frames) of `user` that joined `room`. */
  async function bareMember(url: string, user: string, room: string): Promise<BareClient> {
    const c = await BareClient.open(url);
    bare.push(c);
    await c.hello({ auth: { user } });
    c.send({ type: 'join', ref: 1, room });
    const reply = await c.next({ type: 'reply', ref: 1 });
    assert.equal(reply.error, undefined, `join ${room}: ${JSON.stringify(reply.error)}`);
    return c;
  }

  before(async () => {
    redis = await connectRedis();
    nodes = await startNodes(['a', 'b', 'c'], { redisUrl: REDIS_URL, prefix });
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const c of bare) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await dropKeys(redis, prefix);
    redis.disconnect();
  });

  test('a broadcast from any node reaches the room members on every node, once each', async () => {
    const members = await Promise.all(nodes.map((n) => client(n.url(), ['lobby'])));
    const outsider = await client(nodes[1]!.url(), ['elsewhere']);
    const got = new Map<SwitchboardClient, unknown[]>();
    for (const c of [...members, outsider]) {
      got.set(c, []);
      c.on('hi', (data) => void got.get(c)!.push(data));
    }
    // Each node's own member asks its node to broadcast: the sender is a different process each time.
    for (const [i, c] of members.entries()) await c.emitWithAck('shout', { room: 'lobby', event: 'hi', data: { from: nodes[i]!.name } });
    for (const c of members) await eventually(() => got.get(c)!.length >= 3, 'three broadcasts on every node', 5000);
    await settle();
    for (const c of members) {
      assert.deepEqual(
        got.get(c)!.map((d) => (d as { from: string }).from).sort(),
        ['a', 'b', 'c'],
        'every broadcast once',
      );
    }
    assert.deepEqual(got.get(outsider), [], 'a socket outside the room got a broadcast');
  });

  test('requests are answered by the node the client is on, also behind a balancer', async () => {
    for (const n of nodes) {
      const c = await client(n.url());
      assert.equal(await c.emitWithAck('whoami'), n.name);
    }
    const balancer = await Balancer.start(nodes.map((n) => n.port));
    try {
      const behind = await Promise.all(Array.from({ length: 6 }, () => client(balancer.url(), ['behind'])));
      const answers = await Promise.all(behind.map((c) => c.emitWithAck('whoami') as Promise<string>));
      assert.deepEqual([...answers].sort(), ['a', 'a', 'b', 'b', 'c', 'c'], 'round robin over three nodes');
      // The cluster agrees: each socket is reported by the node that answered it.
      const sockets = (await behind[0]!.emitWithAck('sockets', { room: 'behind' })) as RemoteSocket[];
      for (const [i, c] of behind.entries()) assert.equal(sockets.find((s) => s.id === c.id)?.name, answers[i], `client ${i}`);
      for (const c of behind) c.close();
    } finally {
      await balancer.close();
    }
  });

  test('fetchSockets from one process sees the sockets of every process, with rooms, data and node', async () => {
    const team = await Promise.all(nodes.flatMap((n, i) => [client(n.url(), ['team'], `t${i}x`), client(n.url(), i === 1 ? ['team', 'red'] : ['team'], `t${i}y`)]));
    const asker = team[4]!; // on node c
    const all = (await asker.emitWithAck('sockets', { room: 'team' })) as RemoteSocket[];
    assert.equal(all.length, 6);
    assert.deepEqual(all.map((s) => s.id).sort(), team.map((c) => c.id).sort());
    assert.deepEqual(all.map((s) => s.name).sort(), ['a', 'a', 'b', 'b', 'c', 'c']);
    assert.equal(new Set(all.map((s) => s.node)).size, 3, 'three node ids');
    for (const s of all) assert.ok(s.rooms.includes('team') && s.rooms.includes(s.id), `rooms of ${s.id}: ${s.rooms.join(',')}`);
    const red = (await asker.emitWithAck('sockets', { room: 'red' })) as RemoteSocket[];
    assert.deepEqual(
      red.map((s) => [s.name, s.user, s.id]),
      [['b', 't1y', team[3]!.id]],
    );
  });

  test('presence: one user with tabs on two processes is one member; leave only after the last tab', async () => {
    const room = 'room:p';
    const bob = await bareMember(nodes[2]!.url(), 'bob', room);
    const ann1 = await bareMember(nodes[0]!.url(), 'ann', room);
    assert.deepEqual(await bob.next({ type: 'presence', user: 'ann' }, 5000), { type: 'presence', room, kind: 'join', user: 'ann', info: { name: 'ann' } });
    const ann2 = await bareMember(nodes[1]!.url(), 'ann', room);
    bob.send({ type: 'presence', ref: 2, room });
    assert.deepEqual((await bob.next({ type: 'reply', ref: 2 })).data, {
      room,
      members: [
        { user: 'ann', info: { name: 'ann' } },
        { user: 'bob', info: { name: 'bob' } },
      ],
    });
    const asker = await client(nodes[1]!.url());
    assert.deepEqual(await asker.emitWithAck('members', { room }), [
      { user: 'ann', info: { name: 'ann' } },
      { user: 'bob', info: { name: 'bob' } },
    ]);

    ann1.close();
    await ann1.closed;
    // Node a has let ann's first tab go once the cluster no longer lists its socket.
    for (let i = 0; ; i++) {
      const sockets = (await asker.emitWithAck('sockets', { room })) as RemoteSocket[];
      if (!sockets.some((s) => s.name === 'a')) break;
      assert.ok(i < 100, 'ann1 still listed on node a');
      await settle(50);
    }
    await settle();
    assert.equal(bob.frames.some((f) => f.type === 'presence' && f.user === 'ann'), false, 'ann left while a tab of hers was still in the room');
    assert.deepEqual(((await asker.emitWithAck('members', { room })) as { user: string }[]).map((m) => m.user), ['ann', 'bob']);

    ann2.close();
    assert.deepEqual(await bob.next({ type: 'presence', user: 'ann' }, 5000), { type: 'presence', room, kind: 'leave', user: 'ann', info: { name: 'ann' } });
    await settle();
    assert.equal(bob.frames.some((f) => f.type === 'presence' && f.user === 'ann'), false, 'one join and one leave for ann');
    assert.deepEqual(((await asker.emitWithAck('members', { room })) as { user: string }[]).map((m) => m.user), ['bob']);
  });

  test('history read on any node equals what the other nodes published', async () => {
    const room = 'feed:history';
    const publishers = await Promise.all(nodes.map((n) => client(n.url())));
    const per = 15;
    const published: Pos[][] = await Promise.all(
      publishers.map(async (c, i) => {
        const positions: Pos[] = [];
        for (let n = 0; n < per; n++) positions.push((await c.emitWithAck('publish', { room, event: 'n', data: { node: nodes[i]!.name, n } })) as Pos);
        return positions;
      }),
    );
    const total = per * nodes.length;
    const all = published.flat();
    assert.deepEqual(all.map((p) => p.offset).sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i + 1), 'cluster-wide offsets, once each');
    assert.equal(new Set(all.map((p) => p.epoch)).size, 1, 'one epoch');

    const reads = await Promise.all(publishers.map((c) => c.history(room, { limit: 1000 })));
    for (const [i, read] of reads.entries()) {
      assert.deepEqual(read.publications.map((p) => p.position.offset), Array.from({ length: total }, (_, k) => k + 1), `history on node ${nodes[i]!.name}`);
      assert.deepEqual(read.position, { epoch: all[0]!.epoch, offset: total });
      // Each publisher's events are in its own order, at the positions it was given.
      for (const [j, positions] of published.entries()) {
        const mine = read.publications.filter((p) => (p.data as { node: string }).node === nodes[j]!.name);
        assert.deepEqual(mine.map((p) => (p.data as { n: number }).n), Array.from({ length: per }, (_, k) => k));
        assert.deepEqual(mine.map((p) => p.position), positions);
      }
    }
    assert.equal(new Set(reads.map((r) => JSON.stringify(r.publications))).size, 1, 'every node reads the same history');
    // And from the middle: exactly the rest, on a node other than the one that published there.
    const since = published[0]![5]!;
    const rest = await publishers[2]!.history(room, { since, limit: 1000 });
    assert.deepEqual(rest.publications.map((p) => p.position.offset), Array.from({ length: total - since.offset }, (_, k) => since.offset + k + 1));
  });

  test('an Emitter in the test process reaches a client on every node, durable rooms included', async () => {
    const emitter = new Emitter(REDIS_URL, { prefix }).durable(/^feed/, { maxMessages: 10_000, maxAge: 600_000 });
    try {
      const members = await Promise.all(nodes.map((n) => client(n.url(), ['notes', 'feed:emitter'])));
      const notes = members.map(() => [] as unknown[]);
      const feed = members.map(() => [] as { data: unknown; position: Pos | undefined }[]);
      const everyone = members.map(() => [] as unknown[]);
      members.forEach((c, i) => {
        c.on('note', (data) => void notes[i]!.push(data));
        c.on('entry', (data, meta) => void feed[i]!.push({ data, position: meta.position }));
        c.on('everyone', (data) => void everyone[i]!.push(data));
      });
      await emitter.to('notes').emit('note', { text: 'to a room' });
      await emitter.emit('everyone', 1);
      const positions: Pos[] = [];
      for (let n = 1; n <= 5; n++) positions.push(await emitter.to('feed:emitter').publish('entry', n));
      assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3, 4, 5]);
      for (const i of members.keys()) {
        await eventually(() => notes[i]!.length >= 1 && everyone[i]!.length >= 1 && feed[i]!.length >= 5, `node ${nodes[i]!.name} got the emitter's events`, 5000);
      }
      await settle();
      for (const i of members.keys()) {
        assert.deepEqual(notes[i], [{ text: 'to a room' }], `node ${nodes[i]!.name}`);
        assert.deepEqual(everyone[i], [1]);
        assert.deepEqual(feed[i], [1, 2, 3, 4, 5].map((n, k) => ({ data: n, position: positions[k] })));
      }
    } finally {
      await emitter.close();
    }
  });
});
