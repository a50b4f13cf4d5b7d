import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket, Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

describe('rooms', () => {
  let sb: Switchboard;
  let url: string;
  const sockets = new Map<string, Socket>();

  before(async () => {
    ({ sb, url } = await startServer());
    sb.on('connection', (socket) => {
      sockets.set(socket.id, socket);
      socket.on('shout', (text: string) => {
        socket.to('lobby').emit('shout', text);
      });
    });
  });
  after(() => sb.close());

  async function member(room?: string): Promise<{ c: BareClient; id: string }> {
    const c = await BareClient.open(url);
    const welcome = await c.hello();
    if (room) {
      c.send({ type: 'join', ref: 1, room });
      await c.next({ type: 'reply', ref: 1 });
    }
    return { c, id: String(welcome.sid) };
  }

  /** Collect event frames for a short while. */
  async function eventsOf(c: BareClient, ms = 150): Promise<unknown[]> {
    await new Promise((r) => setTimeout(r, ms));
    const events = c.frames.filter((f) => f.type === 'event').map((f) => f.data);
    c.frames.length = 0;
    return events;
  }

  test('to(room) reaches members only; except() and socket.to() leave out who they name', async () => {
    const a = await member('lobby');
    const b = await member('lobby');
    const outsider = await member();

    sb.to('lobby').emit('m', 1);
    sb.to('lobby').except(b.id).emit('m', 2);
    a.c.send({ type: 'event', event: 'shout', data: 'from a' });

    assert.deepEqual(await eventsOf(a.c), [1, 2]);
    assert.deepEqual(await eventsOf(b.c), [1, 'from a']);
    assert.deepEqual(await eventsOf(outsider.c), []);

    sb.emit('all', 'everyone');
    assert.deepEqual(await eventsOf(outsider.c), ['everyone']);
    for (const m of [a, b, outsider]) m.c.close();
  });

  test('a member of several targeted rooms receives the event once', async () => {
    const a = await member('r1');
    a.c.send({ type: 'join', ref: 2, room: 'r2' });
    await a.c.next({ type: 'reply', ref: 2 });
    assert.equal(sb.to(['r1', 'r2']).emit('m', 'once'), 1);
    assert.deepEqual(await eventsOf(a.c), ['once']);
    a.c.close();
  });

  test('leave stops delivery; the last member leaving deletes the room', async () => {
    const a = await member('temp');
    assert.equal(sb.sockets.rooms.size('temp'), 1);
    a.c.send({ type: 'leave', ref: 3, room: 'temp' });
    assert.deepEqual((await a.c.next({ ref: 3 })).data, { room: 'temp' });
    assert.equal(sb.sockets.rooms.members('temp'), undefined);
    sb.to('temp').emit('m', 'gone');
    assert.deepEqual(await eventsOf(a.c), []);
    a.c.close();
  });

  test("a disconnected socket's rooms are cleaned up and empty rooms deleted", async () => {
    const a = await member('cleanup');
    const socket = sockets.get(a.id);
    assert.ok(socket);
    assert.deepEqual([...socket.rooms].sort(), [a.id, 'cleanup'].sort());
    a.c.close();
    await eventually(() => !socket.connected, 'the socket to disconnect');
    assert.equal(sb.sockets.rooms.members('cleanup'), undefined);
    assert.equal(sb.sockets.rooms.members(a.id), undefined);
    assert.equal(sb.sockets.sockets.has(a.id), false);
  });

  test('server-side socket.join / leave and to(socket.id)', async () => {
    const a = await member();
    const socket = sockets.get(a.id);
    assert.ok(socket);
    socket.join(['x', 'y']);
    assert.equal(sb.sockets.rooms.size('x'), 1);
    sb.to(a.id).emit('private', 'hi');
    sb.to('y').emit('y', 'why');
    socket.leave('y');
    sb.to('y').emit('y', 'not any more');
    assert.deepEqual(await eventsOf(a.c), ['hi', 'why']);
    a.c.close();
  });

  test("a client cannot join another socket's private room, nor leave its own", async () => {
    const victim = await member();
    const attacker = await member();
    attacker.c.send({ type: 'join', ref: 5, room: victim.id });
    assert.equal(((await attacker.c.next({ ref: 5 })).error as { code: string }).code, 'forbidden');
    attacker.c.send({ type: 'leave', ref: 6, room: attacker.id });
    assert.equal(((await attacker.c.next({ ref: 6 })).error as { code: string }).code, 'bad_request');
    victim.c.close();
    attacker.c.close();
  });

  test("a socket's private room is protected in namespaces its owner has not connected yet", async () => {
    sb.of('/later');
    const victim = await member();
    const attacker = await BareClient.open(url);
    await attacker.hello({ ns: '/later' });
    attacker.send({ type: 'join', ref: 1, ns: '/later', room: victim.id });
    assert.equal(((await attacker.next({ ref: 1 })).error as { code: string }).code, 'forbidden');
    victim.c.close();
    attacker.close();
  });

  test('authorizeJoin that never decides answers timeout, and the connection keeps working', async () => {
    const { sb: stuck, url: stuckUrl } = await startServer({ handshakeTimeout: 100 });
    stuck.sockets.authorizeJoin(() => new Promise(() => {}));
    stuck.on('connection', (socket) => socket.on('echo', (d: unknown) => d));
    const c = await BareClient.open(stuckUrl);
    await c.hello();
    c.send({ type: 'join', ref: 1, room: 'limbo' });
    c.send({ type: 'event', event: 'echo', data: 'after', ref: 2 });
    assert.equal(((await c.next({ ref: 1 })).error as { code: string }).code, 'timeout');
    assert.equal((await c.next({ ref: 2 })).data, 'after');
    c.close();
    await stuck.close();
  });

  test('authorizeJoin refuses with forbidden, or with the ReplyError it throws', async () => {
    const { sb: guarded, url: guardedUrl } = await startServer();
    guarded.sockets.authorizeJoin((socket, room) => {
      if (room === 'vip') return (socket.handshake.auth as { vip?: boolean } | undefined)?.vip === true;
      return true;
    });
    const c = await BareClient.open(guardedUrl);
    await c.hello({ auth: { vip: false } });
    c.send({ type: 'join', ref: 1, room: 'vip' });
    assert.equal(((await c.next({ ref: 1 })).error as { code: string }).code, 'forbidden');
    c.send({ type: 'join', ref: 2, room: 'public' });
    assert.deepEqual((await c.next({ ref: 2 })).data, { room: 'public' });
    c.close();
    await guarded.close();
  });
});
