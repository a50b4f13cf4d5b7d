/** Users as addresses on one node: socket.user, the user room, toUser, durable user channels, who may join a user room. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Switchboard, userRoom } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { startServer } from '../helpers/server.js';

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
});
