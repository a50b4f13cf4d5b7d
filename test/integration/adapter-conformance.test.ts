/**
 * One suite of server behaviour that depends on the cluster adapter, run against the
 * in-memory adapter (the default) and the RedisAdapter on the real Redis: a server on
 * either must behave the same for its own clients.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClusterAdapter } from '../../src/cluster/adapter.js';
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;
interface Pos {
  epoch: string;
  offset: number;
}

async function joinedClient(url: string, auth: unknown, rooms: string[]): Promise<BareClient & { sid: string }> {
  const c = await BareClient.open(url);
  const welcome = await c.hello({ auth });
  let ref = 0;
  for (const room of rooms) {
    c.send({ type: 'join', ref: ++ref, room });
    const reply = await c.next({ type: 'reply', ref });
    assert.equal(reply.error, undefined, `join ${room}`);
  }
  return Object.assign(c, { sid: welcome.sid as string });
}

function conformance(name: string, makeAdapter: () => ClusterAdapter): void {
  describe(`a server on the ${name} adapter`, () => {
    const start = async (): Promise<{ sb: Switchboard; url: string }> => {
      const { sb, url } = await startServer({ adapter: makeAdapter() });
      sb.durable(/^feed/);
      sb.trackPresence(/^room/, { user: (s) => (s.handshake.auth as { user: string }).user, info: (s) => ({ name: (s.handshake.auth as { user: string }).user }) });
      return { sb, url };
    };

    test('broadcasts: rooms, except, local; one delivery per member', async () => {
      const { sb, url } = await start();
      const a = await joinedClient(url, { user: 'a' }, ['lobby']);
      const b = await joinedClient(url, { user: 'b' }, ['lobby', 'side']);
      sb.to('lobby').except(b.sid).emit('one', 1);
      sb.to(['lobby', 'side']).emit('two', 2);
      sb.local.to('side').emit('three', 3);
      await a.next({ event: 'two' });
      await b.next({ event: 'three' });
      assert.equal((await a.next({ event: 'one' })).data, 1);
      assert.equal(b.frames.some((f) => f.event === 'one'), false, 'the excepted member got it');
      assert.equal((await b.next({ event: 'two' })).data, 2);
      assert.equal(b.frames.some((f) => f.event === 'two'), false, 'a member of both rooms got it twice');
      a.close();
      b.close();
      await sb.close();
    });

    test('durable rooms: positions from 1, a rejoin with since replays exactly the gap, history', async () => {
      const { sb, url } = await start();
      const c = await joinedClient(url, { user: 'c' }, ['feed']);
      for (let n = 1; n <= 5; n++) await sb.to('feed').publish('n', n);
      await eventually(() => c.frames.filter((f) => f.event === 'n').length === 5, 'five publications');
      const positions = c.frames.filter((f) => f.event === 'n').map((f) => f.position as Pos);
      assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3, 4, 5]);
      const late = await BareClient.open(url);
      await late.hello();
      late.send({ type: 'join', ref: 1, room: 'feed', since: positions[1] });
      const reply = (await late.next({ type: 'reply', ref: 1 })).data as Frame;
      assert.equal(reply.recovered, true);
      assert.deepEqual(late.frames.filter((f) => f.event === 'n').map((f) => f.data), [3, 4, 5]);
      late.send({ type: 'join', ref: 2, room: 'feed', since: { epoch: 'another', offset: 1 } });
      assert.equal(((await late.next({ type: 'reply', ref: 2 })).data as Frame).recovered, false);
      const history = await sb.history('feed', { since: positions[2] });
      assert.deepEqual(history.publications.map((p) => p.data), [4, 5]);
      c.close();
      late.close();
      await sb.close();
    });

    test('presence: users, not connections; join on the first, leave after the last; list', async () => {
      const { sb, url } = await start();
      const bob = await joinedClient(url, { user: 'bob' }, ['room:1']);
      const ann1 = await joinedClient(url, { user: 'ann' }, ['room:1']);
      const ann2 = await joinedClient(url, { user: 'ann' }, ['room:1']);
      assert.deepEqual(await bob.next({ type: 'presence', user: 'ann' }), { type: 'presence', room: 'room:1', kind: 'join', user: 'ann', info: { name: 'ann' } });
      assert.deepEqual((await sb.presence('room:1')).map((m) => m.user), ['ann', 'bob']);
      ann1.close();
      await eventually(() => sb.connectionCount === 2, 'the first tab gone');
      ann2.close();
      assert.equal((await bob.next({ type: 'presence', user: 'ann' })).kind, 'leave');
      assert.deepEqual((await sb.presence('room:1')).map((m) => m.user), ['bob']);
      await assert.rejects(sb.presence('lobby'), { code: 'presence_not_tracked' });
      bob.close();
      await sb.close();
    });

    test('fetchSockets, socketsJoin, socketsLeave, disconnectSockets', async () => {
      const { sb, url } = await start();
      const a = await joinedClient(url, { user: 'a' }, ['team']);
      const b = await joinedClient(url, { user: 'b' }, []);
      for (const s of sb.sockets.sockets.values()) s.data = { user: (s.handshake.auth as { user: string }).user };
      const team = await sb.in('team').fetchSockets();
      assert.deepEqual(team.map((s) => ({ id: s.id, data: s.data, node: s.node })), [{ id: a.sid, data: { user: 'a' }, node: sb.cluster.nodeId }]);
      await sb.except('team').socketsJoin('others');
      assert.deepEqual((await sb.in('others').fetchSockets()).map((s) => s.id), [b.sid]);
      await sb.in('others').socketsLeave('others');
      assert.deepEqual(await sb.in('others').fetchSockets(), []);
      await sb.in('team').disconnectSockets(true);
      assert.equal((await a.closed).code, 1000);
      assert.equal((await sb.fetchSockets()).length, 1);
      b.close();
      await sb.close();
    });

    test('serverSideEmit with no other node: nobody answers, this node\'s handlers do not run', async () => {
      const { sb } = await start();
      let ran = 0;
      sb.onServerEvent('x', () => ++ran);
      assert.deepEqual(await sb.serverSideEmitWithAck('x', 1), []);
      assert.equal(ran, 0);
      await sb.close();
    });

    test('a session resumes on the same node with every frame it missed', async () => {
      const { sb, url } = await start();
      const c = await BareClient.open(url);
      const welcome = await c.hello();
      c.send({ type: 'join', ref: 1, room: 'lobby' });
      await c.next({ type: 'reply', ref: 1 });
      c.ws.terminate();
      await eventually(() => sb.connectionCount === 0, 'the loss noticed');
      sb.to('lobby').emit('missed', 1);
      const back = await BareClient.open(url);
      const again = await back.hello({ resume: welcome.resume, received: c.received });
      assert.equal(again.resumed, true);
      assert.equal(again.sid, welcome.sid);
      assert.equal((await back.next({ event: 'missed' })).data, 1);
      back.close();
      await sb.close();
    });
  });
}

const redisKeys = useRedisKeys();

conformance('in-memory', () => new MemoryAdapter());
conformance('Redis', () => {
  const prefix = redisKeys.prefix('adapter-conformance');
  return new RedisAdapter(REDIS_URL, { prefix });
});
