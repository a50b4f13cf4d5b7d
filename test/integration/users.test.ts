/** Users as addresses on one node: socket.user, the user room, toUser, durable user channels, who may join a user room. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type SwitchboardClient, userRoom as clientUserRoom } from '../../src/client/node.js';
import type { StreamPosition } from '../../src/protocol/frames.js';
import { type Switchboard, userRoom } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;

/** A server whose middleware takes the user from the hello's `auth.user` (none without it). */
async function usersServer(): Promise<{ sb: Switchboard; url: string }> {
  const { sb, url } = await startServer();
  sb.use((socket, next) => {
    const user = (socket.handshake.auth as { user?: string } | undefined)?.user;
    if (user !== undefined) socket.user = user;
    next();
  });
  return { sb, url };
}

async function as(url: string, user?: string): Promise<BareClient & { welcome: Frame }> {
  const c = await BareClient.open(url);
  const welcome = await c.hello(user === undefined ? {} : { auth: { user } });
  return Object.assign(c, { welcome });
}

const fastReconnect = { reconnect: { delay: 20, maxDelay: 60 } };

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

describe('users as addresses', () => {
  test('userRoom names the room; a user id is 1 to 200 UTF-16 code units', () => {
    assert.equal(userRoom('alice'), '#user:alice');
    assert.equal(userRoom('x'.repeat(200)).length, 206);
    assert.throws(() => userRoom(''), TypeError);
    assert.throws(() => userRoom('x'.repeat(201)), TypeError);
    assert.throws(() => userRoom(42 as unknown as string), TypeError);
  });

  test('toUser reaches every tab of the user and nobody else; the socket is in its user room from the start', async () => {
    const { sb, url } = await usersServer();
    const tabs = [await as(url, 'alice'), await as(url, 'alice')];
    const bob = await as(url, 'bob');
    const anonymous = await as(url);
    const alices = [...sb.sockets.sockets.values()].filter((s) => s.user === 'alice');
    assert.equal(alices.length, 2);
    for (const s of alices) assert.ok(s.rooms.has('#user:alice'), 'in its user room');
    assert.equal([...sb.sockets.sockets.values()].find((s) => s.id === anonymous.welcome.sid)?.user, undefined);

    assert.equal(sb.toUser('alice').emit('note', 1), 2);
    for (const tab of tabs) assert.deepEqual(await tab.next({ event: 'note' }), { type: 'event', event: 'note', data: 1, room: '#user:alice' });
    // Several users at once, chained with except: each socket once.
    sb.toUser(['alice', 'bob']).except(tabs[0]?.welcome.sid as string).emit('both', 2);
    await tabs[1]?.next({ event: 'both' });
    await bob.next({ event: 'both' });
    sb.to('#user:bob').emit('marker', 3);
    await bob.next({ event: 'marker' });
    assert.equal(bob.frames.some((f) => f.event === 'note'), false, 'bob got alice\'s event');
    assert.equal(tabs[0]?.frames.some((f) => f.event === 'both'), false, 'except was ignored');
    assert.equal(anonymous.frames.some((f) => f.type === 'event'), false);
    assert.throws(() => sb.toUser([]), TypeError, 'an empty list of users is not everyone');
    assert.equal((await sb.toUser('alice').fetchSockets()).length, 2);
    assert.deepEqual((await sb.toUser('bob').fetchSockets()).map((s) => s.user), ['bob']);
    for (const c of [...tabs, bob, anonymous]) c.close();
    await sb.close();
  });

  test('a user offline during three publications to their durable channel gets all three, once, on return', async () => {
    const { sb, url } = await usersServer();
    sb.durableUsers();
    const first = await as(url, 'seller');
    const joined = (await request(first, { type: 'join', room: userRoom('seller') })).data as Frame;
    assert.equal(joined.durable, true);
    const p1 = await sb.toUser('seller').publish('order', 1);
    const live = await first.next({ event: 'order' });
    assert.deepEqual(live.position, p1);
    first.close();
    await first.closed;

    for (const n of [2, 3, 4]) await sb.toUser('seller').publish('order', n);
    const back = await as(url, 'seller');
    const reply = (await request(back, { type: 'join', room: userRoom('seller'), since: p1 })).data as Frame;
    assert.equal(reply.recovered, true);
    const orders = back.frames.filter((f) => f.event === 'order');
    assert.deepEqual(
      orders.map((f) => f.data),
      [2, 3, 4],
    );
    const history = await sb.history(userRoom('seller'));
    assert.deepEqual(
      history.publications.map((p) => p.data),
      [1, 2, 3, 4],
    );
    back.close();
    await sb.close();
  });

  test('a client may join, read and look into its own user room; another user\'s, or any without a user, is forbidden before authorizeJoin', async () => {
    const { sb, url } = await usersServer();
    sb.durableUsers();
    const asked: string[] = [];
    sb.sockets.authorizeJoin((_socket, room) => {
      asked.push(room);
      return false;
    });
    const alice = await as(url, 'alice');
    const anonymous = await as(url);
    assert.deepEqual((await request(alice, { type: 'join', room: '#user:alice' })).data, {
      room: '#user:alice',
      durable: true,
      position: ((await request(alice, { type: 'history', room: '#user:alice' })).data as Frame).position,
    });
    for (const [c, room] of [
      [alice, '#user:bob'],
      [anonymous, '#user:alice'],
      [anonymous, '#user:'],
    ] as const) {
      for (const type of ['join', 'history', 'presence']) {
        const r = await request(c, { type, room });
        assert.equal((r.error as Frame | undefined)?.code, 'forbidden', `${type} ${room}`);
      }
    }
    assert.deepEqual(asked, [], 'authorizeJoin never ran for a user room');
    const left = await request(alice, { type: 'leave', room: '#user:alice' });
    assert.equal((left.error as Frame | undefined)?.code, 'bad_request', 'a client cannot leave its user room');
    assert.equal((await sb.toUser('alice').fetchSockets()).length, 1);
    alice.close();
    anonymous.close();
    await sb.close();
  });

  test('middleware is given a valid user id or a TypeError; once connected the user is fixed', async () => {
    const { sb, url } = await startServer();
    const problems: string[] = [];
    sb.use((socket, next) => {
      for (const bad of ['', 'x'.repeat(201), 7]) {
        try {
          socket.user = bad as string;
        } catch (err) {
          problems.push((err as Error).name);
        }
      }
      socket.user = 'carol';
      socket.user = 'dave'; // not connected yet: the last one counts
      next();
    });
    const c = await as(url);
    assert.deepEqual(problems, ['TypeError', 'TypeError', 'TypeError']);
    const socket = sb.sockets.sockets.get(c.welcome.sid as string);
    assert.equal(socket?.user, 'dave');
    socket.user = 'dave'; // the same: nothing changes
    assert.throws(() => {
      socket.user = 'erin';
    }, /cannot change/);
    assert.throws(() => {
      socket.user = undefined;
    }, /cannot change/);
    assert.deepEqual(
      [...(socket?.rooms ?? [])].sort(),
      [c.welcome.sid as string, '#user:dave'].sort(),
    );
    c.close();
    await sb.close();
  });

  test('the client learns its user: welcome.user, the connect reply of another namespace, client.user', async () => {
    const { sb, url } = await usersServer();
    const admin = sb.of('/admin');
    admin.use((socket, next) => {
      socket.user = `admin-${(socket.handshake.auth as { user: string }).user}`;
      next();
    });
    sb.of('/open');
    const bare = await as(url, 'alice');
    assert.equal(bare.welcome.user, 'alice');
    assert.deepEqual((await request(bare, { type: 'connect', ns: '/admin', auth: { user: 'al' } })).data, { ns: '/admin', user: 'admin-al' });
    assert.deepEqual((await request(bare, { type: 'connect', ns: '/open' })).data, { ns: '/open' });
    // Asked again, the namespace it is in answers the same.
    assert.deepEqual((await request(bare, { type: 'connect', ns: '/admin' })).data, { ns: '/admin', user: 'admin-al' });
    const anonymous = await as(url);
    assert.equal('user' in anonymous.welcome, false);

    const client = connect(url, { auth: { user: 'bob' } });
    const adminClient = client.of('/admin');
    const open = client.of('/open');
    assert.equal(client.user, undefined, 'not before the welcome');
    await Promise.all([connected(client), connected(adminClient), connected(open)]);
    assert.equal(client.user, 'bob');
    assert.equal(adminClient.user, 'admin-bob');
    assert.equal(open.user, undefined);
    assert.equal(clientUserRoom(client.user), '#user:bob');
    for (const c of [bare, anonymous]) c.close();
    client.close();
    await sb.close();
  });

  test('the SDK recovers its durable user channel: three publications while offline arrive once with join(userRoom(client.user), { since })', async () => {
    const { sb, url } = await usersServer();
    sb.durableUsers();
    const got: [unknown, StreamPosition | undefined][] = [];
    const first = connect(url, { auth: { user: 'seller' } });
    first.on('order', (data: unknown, meta) => void got.push([data, meta?.position]));
    await connected(first);
    await first.join(clientUserRoom(first.user as string));
    await sb.toUser('seller').publish('order', 1);
    await eventually(() => got.length === 1, 'the first order');
    const last = got[0]?.[1];
    assert.ok(last, 'a durable user channel publishes with positions');
    first.close();
    await eventually(() => sb.sessionCount === 0, 'the seller went away');

    for (const n of [2, 3, 4]) await sb.toUser('seller').publish('order', n);
    const back = connect(url, { auth: { user: 'seller' } });
    const orders: unknown[] = [];
    back.on('order', (data: unknown) => void orders.push(data));
    await connected(back);
    const reply = await back.join(clientUserRoom(back.user as string), { since: last });
    assert.equal(reply.recovered, true);
    assert.deepEqual(orders, [2, 3, 4]);
    await sb.toUser('seller').publish('order', 5);
    await eventually(() => orders.length === 4, 'the live order');
    assert.deepEqual(orders, [2, 3, 4, 5], 'each once, in order');
    back.close();
    await sb.close();
  });

  test('disconnectUser closes every connection of the user with 4010 and the SDK does not reconnect; other users are untouched', async () => {
    const { sb, url } = await usersServer();
    const admin = sb.of('/admin');
    admin.use((socket, next) => {
      socket.user = (socket.handshake.auth as { user: string }).user;
      next();
    });
    const reasons: [string | undefined, string][] = [];
    for (const nsp of [sb.sockets, admin]) nsp.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push([socket.user, reason])));
    const tabs = [connect(url, { auth: { user: 'mallory' }, ...fastReconnect }), connect(url, { auth: { user: 'mallory' }, ...fastReconnect })];
    const adminTab = tabs[1]?.of('/admin') as SwitchboardClient;
    const bob = connect(url, { auth: { user: 'bob' }, ...fastReconnect });
    const bare = await as(url, 'mallory');
    await Promise.all([...tabs, adminTab, bob].map(connected));
    const states: string[] = [];
    for (const tab of tabs) tab.on('state', (change) => states.push(`${change.state}:${change.reason}:${change.closeCode}:${change.error?.code}`));
    const disconnects: string[] = [];
    adminTab.on('disconnect', (reason) => disconnects.push(reason));
    assert.equal((await sb.userSessions('mallory')).length, 4, 'two root sockets, the bare one, and one in /admin');

    await sb.disconnectUser('mallory');
    assert.deepEqual(await bare.next({ type: 'error' }), { type: 'error', code: 'user_disconnected', message: 'the server disconnected every connection of this user' });
    assert.deepEqual(await bare.closed, { code: 4010, reason: 'user_disconnected' });
    await eventually(() => tabs.every((t) => t.state === 'disconnected'), 'both tabs disconnected');
    assert.deepEqual(states, ['disconnected:user_disconnected:4010:user_disconnected', 'disconnected:user_disconnected:4010:user_disconnected']);
    assert.deepEqual(disconnects, ['user_disconnected']);
    await eventually(() => sb.sessionCount === 1, 'only bob\'s session is left: the others ended at once, without waiting for a resume');
    assert.deepEqual(
      reasons.sort(),
      [
        ['mallory', 'user_disconnected'],
        ['mallory', 'user_disconnected'],
        ['mallory', 'user_disconnected'],
        ['mallory', 'user_disconnected'],
      ],
    );
    assert.deepEqual(await sb.userSessions('mallory'), []);
    // `disconnected` (not `connecting`): the SDK schedules no attempt; only the app's reconnectNow() would start one.
    assert.ok(tabs.every((t) => t.state === 'disconnected'));
    assert.equal(bob.state, 'connected');
    assert.equal(sb.toUser('bob').emit('still-here', 1), 1);
    bob.close();
    for (const t of tabs) t.close();
    await sb.close();
  });

  test('Namespace.disconnectUser and userSessions act in their namespace only', async () => {
    const { sb, url } = await usersServer();
    const admin = sb.of('/admin');
    admin.use((socket, next) => {
      socket.user = 'root';
      next();
    });
    const plain = await as(url, 'root');
    const other = await as(url);
    assert.deepEqual((await request(other, { type: 'connect', ns: '/admin' })).data, { ns: '/admin', user: 'root' });
    const inAdmin = await admin.userSessions('root');
    assert.deepEqual(
      inAdmin.map((s) => [s.id, s.ns, s.user]),
      [[other.welcome.sid, '/admin', 'root']],
    );
    assert.deepEqual(
      (await sb.sockets.userSessions('root')).map((s) => s.id),
      [plain.welcome.sid],
    );
    await admin.disconnectUser('root');
    const error = await other.next({ type: 'error' });
    assert.deepEqual([error.code, error.ns], ['user_disconnected', '/admin']);
    assert.equal((await other.closed).code, 4010, 'the whole connection closes, its root namespace too');
    assert.equal(plain.frames.some((f) => f.type === 'error'), false, 'the root namespace\'s user "root" is not touched');
    await assert.rejects(sb.disconnectUser(''), TypeError);
    plain.close();
    await sb.close();
  });

  test('fresh credentials naming another user are refused (close 4006); the same user keeps the session', async () => {
    const { sb, url } = await startServer({ reauthTimeout: 2000 });
    sb.use((socket, next) => {
      const { user } = socket.handshake.auth as { user: string };
      socket.user = user;
      if (!socket.reauthenticating || user === 'ann') socket.expireAuthAt(Date.now() + 30);
      next();
    });
    const disconnects: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => disconnects.push(reason)));
    const users = ['ann', 'ann', 'ben'];
    let calls = 0;
    const client = connect(url, { auth: () => ({ user: users[Math.min(calls++, users.length - 1)] }), ...fastReconnect });
    const lost: { reason: string; code?: number; error?: string }[] = [];
    client.on('disconnect', (reason, details) => lost.push({ reason, code: details.closeCode, error: details.error?.code }));
    try {
      await connected(client);
      const firstId = client.id;
      assert.equal(client.user, 'ann');
      const reconnected = new Promise<{ resumed: boolean }>((resolve) => client.once('connect', resolve));
      assert.equal((await reconnected).resumed, false);
      assert.ok(calls >= 3, 'asked for fresh credentials twice: ann again, then ben');
      assert.notEqual(client.id, firstId);
      assert.deepEqual(lost, [{ reason: 'auth_expired', code: 4006, error: 'auth_expired' }]);
      assert.deepEqual(disconnects, ['auth_expired']);
      assert.equal(client.user, 'ben', 'a new session, as the other user');
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('presence counts a user once however many tabs they have: socket.user is the default presence user', async () => {
    const { sb, url } = await usersServer();
    sb.trackPresence('lobby');
    const tabs = [await as(url, 'alice'), await as(url, 'alice')];
    const anonymous = await as(url);
    for (const c of [...tabs, anonymous]) assert.equal((await request(c, { type: 'join', room: 'lobby' })).error, undefined);
    assert.deepEqual(await sb.presence('lobby'), [
      { user: 'alice', info: null },
      { user: anonymous.welcome.sid as string, info: null },
    ].sort((x, y) => (x.user < y.user ? -1 : 1)));
    for (const c of [...tabs, anonymous]) c.close();
    await sb.close();
  });

  for (const transport of ['sse', 'polling'] as const) {
    test(`over ${transport}: the user's events arrive, and disconnectUser stops the SDK with user_disconnected`, async () => {
      const { sb, url } = await usersServer();
      sb.durableUsers();
      const client = connect(url, { auth: { user: 'reader' }, transports: [transport], upgrade: false, ...fastReconnect });
      const notes: unknown[] = [];
      client.on('note', (data: unknown) => void notes.push(data));
      await connected(client);
      assert.equal(client.transport, transport);
      assert.equal(client.user, 'reader');
      await client.join(clientUserRoom('reader'));
      await sb.toUser('reader').publish('note', 1);
      await eventually(() => notes.length === 1, 'the note');
      assert.deepEqual(client.position(clientUserRoom('reader'))?.offset, 1);
      const lost = new Promise<[string, number | undefined, string | undefined]>((resolve) =>
        client.once('disconnect', (reason, details) => resolve([reason, details.closeCode, details.error?.code])),
      );
      await sb.disconnectUser('reader');
      assert.deepEqual(await lost, ['user_disconnected', 4010, 'user_disconnected']);
      assert.equal(client.state, 'disconnected');
      await eventually(() => sb.sessionCount === 0, 'the session ended at once');
      client.close();
      await sb.close();
    });
  }

  test('disconnectUser also ends a session of the user that waits to be resumed: its token no longer resumes it', async () => {
    const { sb, url } = await usersServer();
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push(reason)));
    const away = await as(url, 'zoe');
    away.ws.terminate();
    await eventually(() => sb.connectionCount === 0 && sb.sessionCount === 1, 'the session waits to be resumed');
    assert.equal((await sb.userSessions('zoe')).length, 1, 'a waiting session is still one of the user\'s');
    await sb.disconnectUser('zoe');
    assert.equal(sb.sessionCount, 0, 'ended at once');
    assert.deepEqual(reasons, ['user_disconnected']);
    const back = await BareClient.open(url);
    const welcome = await back.hello({ resume: away.welcome.resume, received: away.received, auth: { user: 'zoe' } });
    assert.equal(welcome.resumed, false);
    assert.notEqual(welcome.sid, away.welcome.sid);
    back.close();
    await sb.close();
  });
});
