import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { connect } from '../../src/client/node.js';
import { BareClient } from '../helpers/bare-client.js';
import { Balancer } from '../helpers/balancer.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;
interface Pos {
  epoch: string;
  offset: number;
}

/** Three servers in this process, one cluster on the real Redis: what the adapter does, without process boundaries. */
async function startCluster(prefix: string, nodes = 3): Promise<{ servers: Switchboard[]; urls: string[] }> {
  const servers: Switchboard[] = [];
  const urls: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const { sb, url } = await startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
    servers.push(sb);
    urls.push(url);
  }
  return { servers, urls };
}

/** A bare client that joined `rooms`; its session id is `sid` on it. */
async function client(url: string, rooms: string[] = []): Promise<BareClient & { sid: string; token: string }> {
  const c = await BareClient.open(url);
  const welcome = await c.hello();
  let ref = 100;
  for (const room of rooms) {
    ref++;
    c.send({ type: 'join', ref, room });
    const reply = await c.next({ type: 'reply', ref });
    assert.equal(reply.error, undefined, `join ${room}: ${JSON.stringify(reply.error)}`);
  }
  return Object.assign(c, { sid: welcome.sid as string, token: welcome.resume as string });
}

describe('cluster on Redis (three nodes in one process)', () => {
  const redisKeys = useRedisKeys();
  const prefix = (name: string): string => redisKeys.prefix(`cluster-${name}`);

  test('a broadcast from any node reaches the room members on every node once, with except and local honoured', async () => {
    const { servers, urls } = await startCluster(prefix('broadcast'));
    const members = await Promise.all(urls.map((url) => client(url, ['lobby'])));
    const outsider = await client(urls[1] as string, ['elsewhere']);
    servers[0]?.to('lobby').emit('hello', { from: 0 });
    for (const c of members) assert.deepEqual((await c.next({ event: 'hello' })).data, { from: 0 });

    // except a socket id that lives on another node
    servers[1]?.to('lobby').except(members[2]?.sid as string).emit('second', 2);
    await members[0]?.next({ event: 'second' });
    await members[1]?.next({ event: 'second' });
    servers[0]?.to('lobby').emit('marker', 3);
    await members[2]?.next({ event: 'marker' });
    assert.equal(members[2]?.frames.some((f) => f.event === 'second'), false, 'the excepted socket on node 2 got the event');
    assert.equal(members.some((c) => c.frames.some((f) => f.event === 'hello')), false, 'a member got the broadcast twice');
    assert.equal(outsider.frames.some((f) => f.type === 'event'), false);

    // local: only the node's own sockets
    servers[2]?.local.to('lobby').emit('local-only', 4);
    await members[2]?.next({ event: 'local-only' });
    servers[2]?.to('lobby').emit('after-local', 5);
    await members[0]?.next({ event: 'after-local' });
    assert.equal(members[0]?.frames.some((f) => f.event === 'local-only'), false, 'local broadcast left its node');

    for (const c of [...members, outsider]) c.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });

  test('fetchSockets, socketsJoin, socketsLeave and disconnectSockets span the cluster', async () => {
    const { servers, urls } = await startCluster(prefix('queries'));
    const clients = await Promise.all(urls.map((url, i) => client(url, i === 1 ? ['team'] : ['team', 'red'])));
    await eventually(() => servers.every((sb) => sb.connectionCount === 1), 'one connection per node');
    for (const sb of servers) for (const s of sb.sockets.sockets.values()) s.data = { node: servers.indexOf(sb) };

    const all = await servers[1]?.in('team').fetchSockets();
    assert.equal(all?.length, 3);
    assert.deepEqual(all?.map((s) => (s.data as { node: number }).node).sort(), [0, 1, 2]);
    assert.equal(new Set(all?.map((s) => s.node)).size, 3, 'each socket reports its own node');
    const red = await servers[1]?.in('red').fetchSockets();
    assert.deepEqual(red?.map((s) => (s.data as { node: number }).node).sort(), [0, 2]);
    assert.equal((await servers[0]?.local.in('team').fetchSockets())?.length, 1);

    await servers[2]?.in('red').socketsJoin('blue');
    servers[1]?.to('blue').emit('blue', true);
    await clients[0]?.next({ event: 'blue' });
    await clients[2]?.next({ event: 'blue' });
    await servers[0]?.in('team').socketsLeave('team');
    assert.deepEqual(await servers[0]?.in('team').fetchSockets(), []);

    await servers[1]?.in('red').disconnectSockets(true);
    const closed = await clients[0]?.closed;
    assert.equal(closed?.code, 1000);
    await clients[2]?.closed;
    assert.equal(servers[1]?.connectionCount, 1, 'node 1 socket was not selected and stays');
    clients[1]?.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });

  test('durable rooms: positions are cluster-wide and every node delivers publications from every node in one order', async () => {
    const { servers, urls } = await startCluster(prefix('durable'));
    for (const sb of servers) sb.durable(/^feed/);
    const members = await Promise.all(urls.map((url) => client(url, ['feed'])));
    const per = 30;
    await Promise.all(servers.map(async (sb, i) => {
      for (let n = 0; n < per; n++) await sb.to('feed').publish('n', { node: i, n });
    }));
    const total = per * servers.length;
    for (const c of members) await eventually(() => c.frames.filter((f) => f.event === 'n').length >= total, 'every publication', 5000);
    const orders = members.map((c) => c.frames.filter((f) => f.event === 'n').map((f) => (f.position as Pos).offset));
    for (const order of orders) assert.deepEqual(order, Array.from({ length: total }, (_, i) => i + 1), 'offsets 1..n, once each, in order');
    const datas = members.map((c) => JSON.stringify(c.frames.filter((f) => f.event === 'n').map((f) => f.data)));
    assert.equal(new Set(datas).size, 1, 'every node delivered the same publications in the same order');

    // A client that rejoins on another node with its position gets exactly the gap.
    const last = members[0]?.frames.filter((f) => f.event === 'n')[9]?.position as Pos;
    const late = await BareClient.open(urls[2] as string);
    await late.hello();
    late.send({ type: 'join', ref: 1, room: 'feed', since: last });
    const reply = (await late.next({ type: 'reply', ref: 1 })).data as Frame;
    assert.equal(reply.recovered, true);
    assert.deepEqual(late.frames.filter((f) => f.event === 'n').map((f) => (f.position as Pos).offset), Array.from({ length: total - 10 }, (_, i) => i + 11));
    for (const c of [...members, late]) c.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });

  test('joins during a stream of publications from other nodes: no publication lost or repeated', async () => {
    const { servers, urls } = await startCluster(prefix('join-race'));
    for (const sb of servers) sb.durable('ticker');
    const publishing = (async () => {
      for (let n = 1; n <= 200; n++) await servers[n % 2]?.to('ticker').publish('tick', n);
    })();
    const joiners: { c: BareClient; position: Pos }[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await BareClient.open(urls[2] as string);
      await c.hello();
      c.send({ type: 'join', ref: 1, room: 'ticker' });
      joiners.push({ c, position: ((await c.next({ type: 'reply', ref: 1 })).data as Frame).position as Pos });
      await new Promise((r) => setTimeout(r, 15));
    }
    try {
      await publishing;
      for (const { c, position } of joiners) {
        await eventually(() => c.frames.some((f) => f.event === 'tick' && (f.position as Pos).offset === 200) || position.offset === 200, 'the last tick', 5000);
        const offsets = c.frames.filter((f) => f.event === 'tick').map((f) => (f.position as Pos).offset);
        assert.deepEqual(offsets, Array.from({ length: 200 - position.offset }, (_, i) => position.offset + i + 1), `joined at ${position.offset}`);
      }
    } finally {
      // A failure must end the file, not leave it waiting on open servers.
      for (const { c } of joiners) c.close();
      await Promise.all(servers.map((sb) => sb.close()));
    }
  });

  test('an Emitter in a process without connections reaches sockets on every node, durable rooms included', async () => {
    const p = prefix('emitter');
    const { servers, urls } = await startCluster(p, 2);
    for (const sb of servers) sb.durable(/^orders:/);
    const seller = await client(urls[0] as string, ['seller:9', 'orders:9']);
    const other = await client(urls[1] as string, ['orders:9']);
    const emitter = new Emitter(REDIS_URL, { prefix: p }).durable(/^orders:/);
    await emitter.to('seller:9').emit('order-created', { id: 1 });
    assert.deepEqual((await seller.next({ event: 'order-created' })).data, { id: 1 });
    const position = await emitter.to('orders:9').publish('status', 'paid');
    for (const c of [seller, other]) assert.deepEqual((await c.next({ event: 'status' })).position, position);
    const history = await servers[1]?.history('orders:9');
    assert.deepEqual(history?.publications.map((x) => x.data), ['paid']);
    await assert.rejects(emitter.to('nobody').emit('connect', 1), { code: 'bad_request' });
    await emitter.close();
    for (const c of [seller, other]) c.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });
  test('presence: a user with connections on two nodes is one member; join on the first, leave after the last', async () => {
    const { servers, urls } = await startCluster(prefix('presence'), 2);
    for (const sb of servers) sb.trackPresence(/^room/, { user: (s) => (s.handshake.auth as { user: string }).user, info: (s) => ({ name: (s.handshake.auth as { user: string }).user }) });
    const open = async (url: string, user: string): Promise<BareClient> => {
      const c = await BareClient.open(url);
      await c.hello({ auth: { user } });
      c.send({ type: 'join', ref: 1, room: 'room:1' });
      await c.next({ type: 'reply', ref: 1 });
      return c;
    };
    const bob = await open(urls[0] as string, 'bob');
    const ann1 = await open(urls[0] as string, 'ann');
    assert.deepEqual(await bob.next({ type: 'presence', user: 'ann' }), { type: 'presence', room: 'room:1', kind: 'join', user: 'ann', info: { name: 'ann' } });
    const ann2 = await open(urls[1] as string, 'ann');
    ann2.send({ type: 'presence', ref: 2, room: 'room:1' });
    assert.deepEqual((await ann2.next({ type: 'reply', ref: 2 })).data, {
      room: 'room:1',
      members: [
        { user: 'ann', info: { name: 'ann' } },
        { user: 'bob', info: { name: 'bob' } },
      ],
    });
    assert.deepEqual((await servers[1]?.presence('room:1'))?.map((m) => m.user), ['ann', 'bob']);
    ann1.close();
    await ann1.closed;
    await eventually(() => servers[0]?.connectionCount === 1, 'ann1 gone from node 0');
    ann2.close();
    const left = await bob.next({ type: 'presence', kind: 'leave' });
    assert.equal(left.user, 'ann');
    assert.equal(bob.frames.some((f) => f.type === 'presence' && f.user === 'ann'), false, 'one join and one leave for ann, whatever her tabs');
    bob.send({ type: 'presence', ref: 3, room: 'other' });
    assert.equal(((await bob.next({ type: 'reply', ref: 3 })).error as Frame).code, 'presence_not_tracked');
    bob.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });
  test('a session resumes on another node: same id, namespaces, rooms and data; the old node lets it go', async () => {
    const { servers, urls } = await startCluster(prefix('resume'), 3);
    const recovered: { id: string; data: unknown; rooms: string[] }[] = [];
    let handled = 0;
    for (const sb of servers) {
      sb.durable(/^feed/);
      sb.on('connection', (socket) => {
        if (socket.recovered) recovered.push({ id: socket.id, data: socket.data, rooms: [...socket.rooms] });
        else socket.data = { user: (socket.handshake.auth as { user?: string } | undefined)?.user };
        socket.on('whoami', () => ({ user: (socket.data as { user: string }).user, node: servers.indexOf(sb) }));
        socket.on('order', () => ++handled);
      });
    }
    const c = await BareClient.open(urls[0] as string);
    const welcome = await c.hello({ auth: { user: 'ann' } });
    for (const [ref, room] of [[1, 'lobby'], [2, 'feed']] as const) {
      c.send({ type: 'join', ref, room });
      await c.next({ type: 'reply', ref });
    }
    for (const s of servers[0]?.sockets.sockets.values() ?? []) s.join('server-side');
    // A reliable publish handled on node 0 must not run again on node 1.
    c.send({ type: 'event', event: 'order', data: 1, ref: 4, seq: 1 });
    assert.equal((await c.next({ type: 'reply', ref: 4 })).data, 1);
    c.ws.terminate();
    await eventually(() => servers[0]?.connectionCount === 0, 'node 0 noticed the loss');
    await new Promise((r) => setTimeout(r, 60)); // the loss is saved within a few milliseconds

    const back = await BareClient.open(urls[1] as string);
    const again = await back.hello({ resume: welcome.resume, received: c.received });
    assert.equal(again.sid, welcome.sid, 'same session id');
    assert.equal(again.resumed, false, 'frames node 0 kept are not here');
    assert.equal(again.restored, true);
    assert.equal(recovered.length, 1, 'the connection handlers ran once, on node 1, for the recovered socket');
    assert.deepEqual({ ...recovered[0], rooms: new Set(recovered[0]?.rooms) }, { id: welcome.sid, data: { user: 'ann' }, rooms: new Set([welcome.sid as string, 'lobby', 'feed', 'server-side']) });
    await eventually(() => servers[0]?.sessionCount === 0, 'node 0 let the session go');

    back.send({ type: 'event', event: 'whoami', ref: 5 });
    assert.deepEqual((await back.next({ type: 'reply', ref: 5 })).data, { user: 'ann', node: 1 });
    servers[2]?.to('server-side').emit('ping-room', 1);
    await back.next({ event: 'ping-room' });
    servers[2]?.to(welcome.sid as string).emit('direct', 2);
    await back.next({ event: 'direct' });
    // The re-sent reliable publish is answered from the restored window; its handler does not run again.
    const before = handled;
    back.send({ type: 'event', event: 'order', data: 1, ref: 6, seq: 1 });
    assert.equal((await back.next({ type: 'reply', ref: 6 })).data, 1);
    assert.equal(handled, before);
    // Once the client acknowledged node 1's welcome, its token is the one that resumes; the old one is spent.
    back.send({ type: 'ack', received: back.received });
    await new Promise((r) => setTimeout(r, 60)); // the retired token is saved within a few milliseconds
    const third = await BareClient.open(urls[2] as string);
    const stale = await third.hello({ resume: welcome.resume, received: 0 });
    assert.notEqual(stale.sid, welcome.sid, 'a rotated-out token does not take the session');
    back.close();
    third.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });
  test('a restoring welcome lost with the link: the token the client still holds restores the session again, on that node or another', async () => {
    const { servers, urls } = await startCluster(prefix('lost-restore'), 3);
    const connections: number[] = [];
    for (const [i, sb] of servers.entries()) sb.on('connection', () => connections.push(i));
    const c = await client(urls[0] as string, ['lobby']);
    c.ws.terminate();
    await eventually(() => servers[0]?.connectionCount === 0, 'node 0 noticed the loss');
    await new Promise((r) => setTimeout(r, 60));
    const token = c.token;
    // Node 1 takes the session over, but the link dies before the client reads the welcome.
    const lost = await BareClient.open(urls[1] as string);
    lost.send({ type: 'hello', v: 1, resume: token, received: c.received });
    await eventually(() => servers[1]?.sockets.sockets.has(c.sid) === true, 'node 1 took the session');
    servers[2]?.to('lobby').emit('while-lost', 1);
    await lost.next({ event: 'while-lost' }); // written to the link the client never reads
    lost.ws.terminate();
    await eventually(() => servers[1]?.connectionCount === 0, 'node 1 noticed the loss');
    await new Promise((r) => setTimeout(r, 60));
    // The client presents the only token it has, with the count of node 0's frames.
    const again = await BareClient.open(urls[1] as string);
    const second = await again.hello({ resume: token, received: c.received });
    assert.equal(second.sid, c.sid, 'the same session, not a new one');
    assert.equal(second.restored, true, 'restored again: the client counts from 0');
    assert.equal((await again.next({ event: 'while-lost' })).data, 1, 'what node 1 sent since its lost welcome is sent again');
    // And if that welcome is lost too, another node takes the session with the same token.
    again.ws.terminate();
    await eventually(() => servers[1]?.connectionCount === 0, 'node 1 noticed the second loss');
    await new Promise((r) => setTimeout(r, 60));
    const elsewhere = await BareClient.open(urls[2] as string);
    const third = await elsewhere.hello({ resume: token, received: c.received });
    assert.equal(third.sid, c.sid);
    assert.equal(third.restored, true);
    elsewhere.send({ type: 'ack', received: 0 });
    await new Promise((r) => setTimeout(r, 60));
    const stale = await BareClient.open(urls[0] as string);
    assert.notEqual((await stale.hello({ resume: token, received: 0 })).sid, c.sid, 'acknowledged: the old token is spent');
    stale.close();
    elsewhere.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });

  test('the SDK on a session another node restored: a reliable publish in flight is re-sent and handled once, durable rooms rejoin without a hole', async () => {
    const { servers } = await startCluster(prefix('sdk-restore'), 2);
    const handledOn: number[] = [];
    for (const sb of servers) {
      sb.durable('feed');
      sb.on('connection', (socket) => socket.on('order', (n: unknown) => {
        handledOn.push(servers.indexOf(sb));
        return n;
      }));
    }
    const balancer = await Balancer.start([servers[0]?.port as number]);
    const client = connect(balancer.url(), { reconnect: { delay: 20, maxDelay: 50 }, transports: ['websocket'] });
    const feed: number[] = [];
    client.on('tick', (n: unknown) => void feed.push(n as number));
    await client.join('feed');
    await servers[0]?.to('feed').publish('tick', 1);
    await eventually(() => feed.length === 1, 'the first tick');
    await new Promise((r) => setTimeout(r, 60)); // node 0 saved the session

    balancer.freeze();
    const order = client.reliable.emit('order', 7);
    await servers[1]?.to('feed').publish('tick', 2); // published while the client is cut off
    balancer.remove(servers[0]?.port as number);
    balancer.add(servers[1]?.port as number);
    balancer.cut();
    assert.equal(await order, 7, 'the reliable publish is answered, not failed unconfirmed');
    await servers[0]?.to('feed').publish('tick', 3);
    await eventually(() => feed.length === 3, 'ticks 2 and 3');
    assert.deepEqual(feed, [1, 2, 3], 'every tick once, in order');
    assert.deepEqual(handledOn, [1], 'the publish node 0 never got ran once, on node 1');
    assert.equal(servers[1]?.sessionCount, 1);
    await eventually(() => servers[0]?.sessionCount === 0, 'node 0 let the session go');
    client.close();
    await balancer.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });
  test('long-polling needs no sticky routing: polls and posts that reach another node are answered by the node holding the connection', async () => {
    const { servers } = await startCluster(prefix('http-relay'), 2);
    for (const sb of servers) sb.on('connection', (socket) => socket.on('echo', (data: unknown) => ({ echoed: data })));
    const base = servers.map((sb) => `http://127.0.0.1:${sb.port}/ws`);
    const opened = (await (await fetch(`${base[0]}/poll`)).json()) as { cid: string };
    const cid = encodeURIComponent(opened.cid);
    const post = (node: number, frames: unknown): Promise<Response> => fetch(`${base[node]}/send?cid=${cid}`, { method: 'POST', body: JSON.stringify(frames) });
    const poll = async (node: number): Promise<Frame[]> => ((await (await fetch(`${base[node]}/poll?cid=${cid}`)).json()) as { frames: Frame[] }).frames;

    assert.equal((await post(1, { type: 'hello', v: 1 })).status, 204, 'a POST through node 1');
    const first = await poll(1);
    assert.equal(first[0]?.type, 'welcome', 'the welcome, polled through node 1');
    assert.equal(servers[0]?.connectionCount, 1, 'the connection lives on node 0');
    assert.equal(servers[1]?.connectionCount, 0);
    const waiting = poll(1); // a poll that waits on node 0 for frames, through node 1
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await post(0, { type: 'event', event: 'echo', data: 'hi', ref: 1 })).status, 204);
    assert.deepEqual((await waiting).find((f) => f.type === 'reply'), { type: 'reply', ref: 1, data: { echoed: 'hi' } });
    const tooBig = await fetch(`${base[1]}/send?cid=${cid}`, { method: 'POST', body: 'x'.repeat(4 * 65536 + 1) });
    assert.equal(tooBig.status, 413, 'the size limit holds through the relay');
    assert.equal(((await tooBig.json()) as Frame).code, 'message_too_big');
    const closed = await poll(1);
    assert.deepEqual(closed, [], 'no frames after the 1009 close');
    const unknown = await fetch(`${base[1]}/poll?cid=${encodeURIComponent(`${opened.cid.split('.')[0]}.nope`)}`);
    assert.equal(unknown.status, 404);
    await Promise.all(servers.map((sb) => sb.close()));
  });
  test('serverSideEmit reaches the other nodes (not this one); with an ack, each answers with its handler\'s result', async () => {
    const { servers } = await startCluster(prefix('server-side'), 3);
    const heard: string[] = [];
    servers.forEach((sb, i) => {
      sb.onServerEvent('cache:clear', (data) => void heard.push(`${i}:${JSON.stringify(data)}`));
      if (i === 1) sb.onServerEvent('load', () => 0.5);
      if (i === 2) sb.onServerEvent('load', async () => 0.25);
    });
    servers[0]?.serverSideEmit('cache:clear', { key: 'k' });
    await eventually(() => heard.length === 2, 'both other nodes');
    assert.deepEqual(heard.sort(), ['1:{"key":"k"}', '2:{"key":"k"}'], 'not the sending node itself');
    const loads = (await servers[0]?.serverSideEmitWithAck('load')) as number[];
    assert.deepEqual(loads.sort(), [0.25, 0.5]);
    assert.deepEqual(((await servers[1]?.serverSideEmitWithAck('load')) as (number | null)[]).sort(), [0.25, null], 'a node without a handler answers null');
    assert.throws(() => servers[0]?.serverSideEmit('disconnect'), { code: 'bad_request' });
    await Promise.all(servers.map((sb) => sb.close()));
  });
});
