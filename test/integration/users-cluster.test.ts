/** Users as addresses across a cluster on the real Redis: two nodes and an Emitter. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import { type Switchboard, userRoom } from '../../src/server/index.js';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { BareClient } from '../helpers/bare-client.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;

/** Nodes whose middleware takes the user from the hello's `auth.user`. */
async function startNodes(prefix: string, count = 2, setup: (sb: Switchboard) => void = () => {}): Promise<{ servers: Switchboard[]; urls: string[] }> {
  const servers: Switchboard[] = [];
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const { sb, url } = await startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
    sb.use((socket, next) => {
      const user = (socket.handshake.auth as { user?: string } | undefined)?.user;
      if (user !== undefined) socket.user = user;
      next();
    });
    setup(sb);
    servers.push(sb);
    urls.push(url);
  }
  return { servers, urls };
}

async function as(url: string, user?: string): Promise<BareClient & { welcome: Frame }> {
  const c = await BareClient.open(url);
  const welcome = await c.hello(user === undefined ? {} : { auth: { user } });
  return Object.assign(c, { welcome });
}

function connected(client: SwitchboardClient): Promise<void> {
  if (client.state === 'connected') return Promise.resolve();
  return new Promise((resolve) => client.once('connect', () => resolve()));
}

let ref = 0;
async function request(c: BareClient, frame: Frame): Promise<Frame> {
  const r = ++ref;
  c.send({ ...frame, ref: r });
  return c.next({ type: 'reply', ref: r });
}

describe('users across a cluster (two nodes on Redis, and the Emitter)', () => {
  const redisKeys = useRedisKeys();

  test('toUser from either node and from the Emitter reaches every tab of the user on both nodes, and nobody else', async () => {
    const prefix = redisKeys.prefix('users-to');
    const { servers, urls } = await startNodes(prefix);
    const [a, b] = urls as [string, string];
    const tabs = [await as(a, 'alice'), await as(b, 'alice'), await as(b, 'alice')];
    const others = [await as(a, 'bob'), await as(b, 'bob'), await as(a)];
    const emitter = new Emitter(REDIS_URL, { prefix });

    servers[0]?.toUser('alice').emit('from-node', 0);
    servers[1]?.toUser('alice').emit('from-node', 1);
    await emitter.toUser('alice').emit('from-emitter', 2);
    for (const tab of tabs) {
      const got = [await tab.next({ event: 'from-node' }), await tab.next({ event: 'from-node' }), await tab.next({ event: 'from-emitter' })];
      assert.deepEqual(got.map((f) => f.data).sort(), [0, 1, 2]);
    }
    // A marker to everyone: when it arrives, anything misdirected before it would have too.
    await emitter.emit('marker', null);
    for (const c of [...tabs, ...others]) await c.next({ event: 'marker' });
    for (const c of others) assert.equal(c.frames.some((f) => f.type === 'event'), false, 'another user got alice\'s events');
    for (const tab of tabs) assert.equal(tab.frames.some((f) => f.type === 'event'), false, 'a tab got an event twice');

    const sessions = await servers[0]?.toUser('alice').fetchSockets();
    assert.deepEqual(sessions?.map((s) => s.node).sort(), [servers[0]?.cluster.nodeId, servers[1]?.cluster.nodeId, servers[1]?.cluster.nodeId].sort());
    assert.ok(sessions?.every((s) => s.user === 'alice' && s.rooms.includes(userRoom('alice'))));

    for (const c of [...tabs, ...others]) c.close();
    await emitter.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });

  test('an offline user gets the three publications the Emitter made to their durable channel, once, from any node', async () => {
    const prefix = redisKeys.prefix('users-durable');
    const { servers, urls } = await startNodes(prefix, 2, (sb) => sb.durableUsers());
    const emitter = new Emitter(REDIS_URL, { prefix }).durableUsers();
    const first = await as(urls[0] as string, 'seller');
    const reply = (await request(first, { type: 'join', room: userRoom('seller') })).data as Frame;
    const since = reply.position;
    first.close();
    await first.closed;

    const positions: unknown[] = [];
    for (const n of [1, 2, 3]) positions.push(await emitter.toUser('seller').publish('order', { n }));
    const back = await as(urls[1] as string, 'seller');
    const again = (await request(back, { type: 'join', room: userRoom('seller'), since })).data as Frame;
    assert.equal(again.recovered, true);
    const orders = back.frames.filter((f) => f.event === 'order');
    assert.deepEqual(
      orders.map((f) => [f.data, f.position]),
      [1, 2, 3].map((n, i) => [{ n }, positions[i]]),
    );
    // And live, from the other node, exactly once.
    await servers[0]?.toUser('seller').publish('order', { n: 4 });
    assert.deepEqual((await back.next((f) => f.event === 'order' && (f.data as { n: number }).n === 4)).data, { n: 4 });
    await emitter.emit('marker', null);
    await back.next({ event: 'marker' });
    assert.equal(back.frames.filter((f) => f.event === 'order').length, 3, 'no publication came twice');
    back.close();
    await emitter.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });

  test('disconnectUser on one node closes every session of the user on both nodes with 4010; userSessions lists them; others stay', async () => {
    const prefix = redisKeys.prefix('users-disconnect');
    const { servers, urls } = await startNodes(prefix);
    const [a, b] = urls as [string, string];
    const reasons: string[] = [];
    for (const sb of servers) sb.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push(`${socket.user}:${reason}`)));
    const onA = connect(a, { auth: { user: 'eve' }, reconnect: { delay: 20, maxDelay: 60 } });
    const onB = await as(b, 'eve');
    const bystanders = [await as(a, 'bob'), await as(b, 'bob')];
    await connected(onA);

    const sessions = await servers[1]?.userSessions('eve');
    assert.deepEqual(sessions?.map((s) => [s.id, s.node, s.user, s.ns]).sort(), [
      [onA.id, servers[0]?.cluster.nodeId, 'eve', '/'],
      [onB.welcome.sid, servers[1]?.cluster.nodeId, 'eve', '/'],
    ].sort());

    const lost = new Promise<[string, number | undefined]>((resolve) => onA.once('disconnect', (reason, details) => resolve([reason, details.closeCode])));
    await servers[1]?.disconnectUser('eve');
    assert.deepEqual(await lost, ['user_disconnected', 4010]);
    assert.equal((await onB.next({ type: 'error' })).code, 'user_disconnected');
    assert.deepEqual(await onB.closed, { code: 4010, reason: 'user_disconnected' });
    assert.equal(onA.state, 'disconnected', 'the SDK does not reconnect');
    await eventually(() => servers.every((sb) => sb.sessionCount === 1), 'one session left per node: the bystanders\'');
    assert.deepEqual(reasons, ['eve:user_disconnected', 'eve:user_disconnected']);
    assert.deepEqual(await servers[0]?.userSessions('eve'), []);
    assert.equal((await servers[0]?.userSessions('bob'))?.length, 2);
    servers[0]?.toUser('bob').emit('still-here', 1);
    for (const c of bystanders) await c.next({ event: 'still-here' });

    onA.close();
    for (const c of bystanders) c.close();
    await Promise.all(servers.map((sb) => sb.close()));
  });

  test('a session restored on another node keeps its user and its user room', async () => {
    const prefix = redisKeys.prefix('users-restore');
    const { servers, urls } = await startNodes(prefix);
    const recovered: { user: string | undefined; rooms: string[]; recovered: boolean }[] = [];
    servers[1]?.on('connection', (socket) => recovered.push({ user: socket.user, rooms: [...socket.rooms].sort(), recovered: socket.recovered }));
    const c = await as(urls[0] as string, 'ann');
    assert.deepEqual((await request(c, { type: 'join', room: 'lobby' })).data, { room: 'lobby' });
    // Node 0 shuts down: it saves its sessions first, so node 1 can take them over.
    await servers[0]?.close();
    assert.equal((await c.closed).code, 1001);

    const back = await BareClient.open(urls[1] as string);
    const welcome = await back.hello({ resume: c.welcome.resume, received: c.received });
    assert.equal(welcome.restored, true);
    assert.equal(welcome.sid, c.welcome.sid);
    assert.equal(welcome.user, 'ann', 'the welcome names the restored socket\'s user');
    assert.deepEqual(recovered, [{ user: 'ann', rooms: [c.welcome.sid as string, '#user:ann', 'lobby'].sort(), recovered: true }]);
    servers[1]?.toUser('ann').emit('found', 1);
    assert.equal((await back.next({ event: 'found' })).data, 1);
    // The user room is still its own: joinable (and so recoverable) by it alone.
    assert.deepEqual((await request(back, { type: 'join', room: '#user:ann' })).data, { room: '#user:ann' });
    back.close();
    await servers[1]?.close();
  });
});
