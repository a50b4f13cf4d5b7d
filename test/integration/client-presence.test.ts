/** Presence through the SDK against the real server: one node (memory adapter) and two nodes on Redis. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { connect, type PresenceEvent, type SwitchboardClient, SwitchboardError } from '../../src/client/node.js';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Namespace, Socket, Switchboard } from '../../src/server/index.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

const fastReconnect = { reconnect: { delay: 20, maxDelay: 100 } };

const userOf = (s: Socket): string => (s.handshake.auth as { user: string }).user;

/** Presence in rooms named room*, by the user of the hello's auth, with their name as info. */
function track(target: Switchboard | Namespace): void {
  target.trackPresence(/^room/, { user: userOf, info: (s) => ({ name: userOf(s) }) });
}

/** A tab of `user`, connected. */
async function tab(url: string, user: string): Promise<SwitchboardClient> {
  const client = connect(url, { ...fastReconnect, auth: { user } });
  await eventually(() => client.connected, `${user} to connect`);
  return client;
}

/** Every presence event the client hears, in order. */
function record(client: SwitchboardClient): PresenceEvent[] {
  const seen: PresenceEvent[] = [];
  client.on('presence', (event) => seen.push(event));
  return seen;
}

const about = (seen: PresenceEvent[], user: string): string[] => seen.filter((e) => e.user === user).map((e) => `${e.kind} ${e.room}`);

const join = (room: string, user: string): PresenceEvent => ({ room, kind: 'join', user, info: { name: user } });
const leave = (room: string, user: string): PresenceEvent => ({ room, kind: 'leave', user, info: { name: user } });

describe('presence through the SDK (one node)', () => {
  test('lists users, not tabs; announces a join for the first tab and a leave after the last', async () => {
    const { sb, url } = await startServer();
    track(sb);
    const bob = await tab(url, 'bob');
    const clients = [bob];
    try {
      const heard = record(bob);
      await bob.join('room:1');
      assert.deepEqual(await bob.presence('room:1'), [{ user: 'bob', info: { name: 'bob' } }]);

      const ann1 = await tab(url, 'ann');
      const ann2 = await tab(url, 'ann');
      clients.push(ann1, ann2);
      await ann1.join('room:1');
      await eventually(() => about(heard, 'ann').length === 1, "bob to hear ann's join");
      assert.deepEqual(heard.find((e) => e.user === 'ann'), join('room:1', 'ann'));
      await ann2.join('room:1');

      // The second tab is no new member: the list says so, and bob hears nothing of it.
      const members = [
        { user: 'ann', info: { name: 'ann' } },
        { user: 'bob', info: { name: 'bob' } },
      ];
      assert.deepEqual(await ann2.presence('room:1'), members);
      assert.deepEqual(await bob.presence('room:1'), members);

      ann1.close();
      await eventually(() => sb.sockets.sockets.size === 2, "the server to drop ann's first tab");
      assert.deepEqual(await bob.presence('room:1'), members, 'ann is still there with her second tab');

      ann2.close();
      await eventually(() => about(heard, 'ann').length === 2, "bob to hear ann's leave");
      assert.deepEqual(heard.filter((e) => e.user === 'ann'), [join('room:1', 'ann'), leave('room:1', 'ann')]);
      assert.deepEqual(await bob.presence('room:1'), [{ user: 'bob', info: { name: 'bob' } }]);
    } finally {
      for (const c of clients) c.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('presence of a room without tracking rejects presence_not_tracked; an app event named presence is refused at the server and never reaches presence listeners', async () => {
    const { sb, url } = await startServer();
    track(sb);
    const refusals: string[] = [];
    sb.on('connection', (socket) => {
      socket.on('poke', () => {
        try {
          socket.emit('presence', { room: 'room:1', kind: 'join', user: 'mallory', info: null });
        } catch (err) {
          refusals.push((err as SwitchboardError).code);
        }
        return true;
      });
    });
    const bob = await tab(url, 'bob');
    try {
      const heard = record(bob);
      await bob.join('lobby');
      const error = await bob.presence('lobby').then(
        () => assert.fail('presence of an untracked room resolved'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SwitchboardError);
      assert.equal(error.code, 'presence_not_tracked');

      // `presence` is a reserved name: the server refuses to send it as an app event, and the SDK would drop one.
      await bob.join('room:1');
      const ann = await tab(url, 'ann');
      await ann.join('room:1');
      await eventually(() => about(heard, 'ann').length === 1, "bob to hear ann's join");
      bob.emit('poke');
      await bob.emitWithAck('poke'); // the server emits 'presence' before replying: it has arrived by now
      assert.deepEqual(about(heard, 'mallory'), []);
      assert.deepEqual(refusals, ['bad_request', 'bad_request'], 'socket.emit("presence") throws bad_request');
      ann.close();
    } finally {
      bob.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('a namespace handle gets the presence of its namespace, the root handle that of the root', async () => {
    const { sb, url } = await startServer();
    track(sb.of('/chat'));
    const bob = await tab(url, 'bob');
    const ann = await tab(url, 'ann');
    try {
      const bobChat = bob.of('/chat');
      const annChat = ann.of('/chat');
      const rootHeard = record(bob);
      const chatHeard = record(bobChat);
      await bobChat.join('room:9');
      await bob.join('room:9'); // the root's room:9 has no presence tracking
      await annChat.join('room:9');
      await eventually(() => about(chatHeard, 'ann').length === 1, "bob to hear ann's join on /chat");
      assert.deepEqual(chatHeard.find((e) => e.user === 'ann'), join('room:9', 'ann'));
      assert.deepEqual(await bobChat.presence('room:9'), [
        { user: 'ann', info: { name: 'ann' } },
        { user: 'bob', info: { name: 'bob' } },
      ]);
      await assert.rejects(bob.presence('room:9'), { code: 'presence_not_tracked' });
      assert.deepEqual(rootHeard, []);
    } finally {
      ann.close();
      bob.close();
      await sb.close({ deadline: 50 });
    }
  });
});

describe('presence through the SDK (two nodes on Redis)', () => {
  let redis: Redis;
  const prefix = testPrefix('client-presence');
  before(async () => {
    redis = await connectRedis();
  });
  after(async () => {
    await dropKeys(redis, prefix);
    redis.disconnect();
  });

  test("ann's tabs on both nodes are one member; bob hears one join and, after her last tab, one leave", async () => {
    const nodes = await Promise.all([0, 1].map(() => startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) })));
    for (const { sb } of nodes) track(sb);
    const [a, b] = nodes.map((n) => n.url) as [string, string];
    const bob = await tab(a, 'bob');
    const clients = [bob];
    try {
      const heard = record(bob);
      await bob.join('room:x');
      const annA = await tab(a, 'ann');
      const annB = await tab(b, 'ann');
      clients.push(annA, annB);
      await annB.join('room:x');
      await eventually(() => about(heard, 'ann').length === 1, "bob to hear ann's join from the other node");
      await annA.join('room:x');
      const members = [
        { user: 'ann', info: { name: 'ann' } },
        { user: 'bob', info: { name: 'bob' } },
      ];
      assert.deepEqual(await annB.presence('room:x'), members, 'asked on node B');
      assert.deepEqual(await bob.presence('room:x'), members, 'asked on node A');

      annB.close();
      await eventually(() => nodes[1]?.sb.sockets.sockets.size === 0, "node B to drop ann's tab");
      assert.deepEqual(await bob.presence('room:x'), members, 'ann is still there on node A');

      annA.close();
      await eventually(() => about(heard, 'ann').length === 2, "bob to hear ann's leave");
      assert.deepEqual(heard.filter((e) => e.user === 'ann'), [join('room:x', 'ann'), leave('room:x', 'ann')]);
      assert.deepEqual(await bob.presence('room:x'), [{ user: 'bob', info: { name: 'bob' } }]);
    } finally {
      for (const c of clients) c.close();
      await Promise.all(nodes.map(({ sb }) => sb.close({ deadline: 50 })));
    }
  });
});
