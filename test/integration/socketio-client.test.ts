/**
 * The Socket.IO front door against the real socket.io-client, as docs/SOCKET-IO.md
 * promises it: namespaces over one Manager, middleware and auth, events and acks both
 * ways, volatile, socket.data / fetchSockets / presence, schemas, rooms shared with native
 * clients, durable rooms, and each transport. Recovery is in socketio-recovery.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Manager, type Socket as SioSocket } from 'socket.io-client';
import { z } from 'zod';
import { connect } from '../../src/client/node.js';
import { ReplyError, type Socket, type Switchboard } from '../../src/server/index.js';
import { eventually, startServer } from '../helpers/server.js';
import { closeSocketsAfterEach, connected, nextEvent, range, Received, refusal, sio, track } from '../helpers/socketio.js';

closeSocketsAfterEach();

describe('socket.io-client: namespaces and middleware', () => {
  let sb: Switchboard;
  let url: string;
  before(async () => {
    ({ sb } = await startServer({ socketIo: true }));
    url = `http://127.0.0.1:${sb.port}`;
    sb.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      if (auth?.token === 'letmein') return next();
      next(new Error('bad token'));
    });
    sb.of('/admin').use((socket, next) => {
      const auth = socket.handshake.auth as { admin?: unknown } | undefined;
      if (auth?.admin === true) return next();
      next(new ReplyError('forbidden', 'admins only'));
    });
  });
  after(() => sb.close());

  /** The server socket of the next connection, and the connected client. */
  async function connectOne(options: Parameters<typeof sio>[1]): Promise<{ client: SioSocket; socket: Socket }> {
    const next = new Promise<Socket>((resolve) => sb.once('connection', resolve));
    const client = await connected(sio(url, options));
    return { client, socket: await next };
  }

  test('auth arrives as handshake.auth; the headers are those of the Engine.IO handshake request', async () => {
    const { client, socket } = await connectOne({ auth: { token: 'letmein' }, extraHeaders: { 'x-client': 'sio' } });
    assert.equal(socket.id, client.id);
    assert.deepEqual(socket.handshake.auth, { token: 'letmein' });
    assert.equal(socket.handshake.headers['x-client'], 'sio');
    assert.match(socket.handshake.url, /^\/socket\.io\/\?/);
  });

  test('handshake.query holds the client\'s query option, EIO and transport (docs/SOCKET-IO.md, Connecting)', async () => {
    const { socket } = await connectOne({ auth: { token: 'letmein' }, query: { app: 'tests' } });
    const { query } = socket.handshake;
    assert.equal(query.app, 'tests');
    assert.equal(query.EIO, '4');
    assert.equal(query.transport, 'polling');
    assert.equal(new URL(socket.handshake.url, 'http://x').searchParams.get('app'), 'tests');
  });

  test('a middleware refusing with a plain Error reaches connect_error with its message and code unauthorized; no retry', async () => {
    const client = sio(url, { auth: { token: 'wrong' } });
    const err = await refusal(client);
    assert.equal(err.message, 'bad token');
    assert.deepEqual(err.data, { code: 'unauthorized' });
    assert.equal(client.active, false, 'a refused namespace is not retried');
  });

  test('two namespaces over one Manager: one socket each, its own id; /admin refused with its ReplyError while / stays up', async () => {
    const manager = new Manager(url, { reconnectionDelay: 50, autoConnect: true });
    const root = track(manager.socket('/', { auth: { token: 'letmein' } }));
    const admin = track(manager.socket('/admin', { auth: { admin: false } }));
    await connected(root);
    const err = await refusal(admin);
    assert.equal(err.message, 'admins only');
    assert.deepEqual(err.data, { code: 'forbidden' });
    assert.equal(admin.active, false);
    assert.equal(root.connected, true, 'the other namespace stays connected');
    assert.equal(manager.engine.readyState, 'open', 'and so does the Engine.IO connection');

    // The same Manager, the same Engine.IO connection: the namespace connects again with other credentials.
    admin.auth = { admin: true };
    admin.connect();
    await connected(admin);
    assert.ok(root.id && admin.id);
    assert.notEqual(root.id, admin.id, 'socket.id differs per namespace');
    assert.deepEqual((await sb.of('/admin').fetchSockets()).map((s) => s.id), [admin.id]);
    assert.ok((await sb.fetchSockets()).some((s) => s.id === root.id));
  });

  test('an Engine.IO connection counts once against maxConnections, whatever the number of its namespaces; connectionCount counts its sessions', async () => {
    const limited = await startServer({ socketIo: true, maxConnections: 1 });
    try {
      limited.sb.of('/admin');
      const manager = new Manager(`http://127.0.0.1:${limited.port}`, { reconnection: false });
      const root = track(manager.socket('/'));
      const admin = track(manager.socket('/admin'));
      await Promise.all([connected(root), connected(admin)]);
      assert.equal(limited.sb.sessionCount, 2, 'a session per namespace');
      // A second Engine.IO connection is one too many.
      const other = sio(`http://127.0.0.1:${limited.port}`, { reconnection: false });
      const err = await refusal(other);
      assert.match(err.message, /xhr poll error|server_full|503/i);
      assert.equal(root.connected && admin.connected, true);
      assert.equal(limited.sb.connectionCount, 2, 'connectionCount counts sessions: one per namespace (docs/SOCKET-IO.md, Transports)');
    } finally {
      await limited.sb.close();
    }
  });

  test('a namespace the server does not have: connect_error "Invalid namespace", code unknown_namespace', async () => {
    const manager = new Manager(url, { reconnectionDelay: 50 });
    const root = track(manager.socket('/', { auth: { token: 'letmein' } }));
    const nowhere = track(manager.socket('/nowhere'));
    await connected(root);
    const err = await refusal(nowhere);
    assert.equal(err.message, 'Invalid namespace');
    assert.deepEqual(err.data, { code: 'unknown_namespace' });
    assert.equal(root.connected, true);
  });
});

describe('socket.io-client: events and acknowledgements', () => {
  let sb: Switchboard;
  let url: string;
  /** The server socket of the last connection. */
  let last: Socket;
  const got: { event: string; data: unknown; present: boolean }[] = [];
  before(async () => {
    ({ sb } = await startServer({ socketIo: true }));
    url = `http://127.0.0.1:${sb.port}`;
    sb.on('connection', (socket) => {
      last = socket;
      for (const event of ['none', 'one', 'many', 'quiet']) {
        socket.on(event, function (this: unknown, ...args: unknown[]) {
          got.push({ event, data: args[0], present: args[0] !== undefined });
        });
      }
      socket.on('double', (n) => (n as number) * 2);
      socket.on('nothing', () => undefined);
      socket.on('sum', (args) => (args as number[]).reduce((a, b) => a + b, 0));
      socket.on('refuse', () => {
        throw new ReplyError('forbidden', 'not allowed');
      });
      socket.on('crash', () => {
        throw new Error('handler bug');
      });
      socket.on('slow', async (ms) => {
        await new Promise((r) => setTimeout(r, ms as number));
        return 'done';
      });
      socket.on('ask', async (question) => socket.emitWithAck('question', question));
    });
  });
  after(() => sb.close());

  async function client(): Promise<SioSocket> {
    return connected(sio(url, { transports: ['websocket'] }));
  }

  test('client → server: no argument is undefined, one is itself, several are an array', async () => {
    got.length = 0;
    const c = await client();
    c.emit('none');
    c.emit('one', { a: 1 });
    c.emit('many', 1, 'two', { three: 3 });
    c.emit('quiet', null);
    await eventually(() => got.length === 4, 'four events');
    assert.deepEqual(got, [
      { event: 'none', data: undefined, present: false },
      { event: 'one', data: { a: 1 }, present: true },
      { event: 'many', data: [1, 'two', { three: 3 }], present: true },
      { event: 'quiet', data: null, present: true },
    ]);
  });

  test('acks: the return value answers; undefined answers with no argument; several arguments arrive as an array', async () => {
    const c = await client();
    assert.equal(await c.emitWithAck('double', 21), 42);
    assert.equal(await c.emitWithAck('sum', 1, 2, 3), 6);
    const args = await new Promise<unknown[]>((resolve) => c.emit('nothing', (...a: unknown[]) => resolve(a)));
    assert.deepEqual(args, [], 'the callback gets no argument');
  });

  test('error answers: a ReplyError, a crashing handler, no handler, a reserved name — one object { error: { code, message } }', async () => {
    const c = await client();
    assert.deepEqual(await c.emitWithAck('refuse'), { error: { code: 'forbidden', message: 'not allowed' } });
    const crash = (await c.emitWithAck('crash')) as { error: { code: string; message: string } };
    assert.equal(crash.error.code, 'internal_error');
    assert.equal(typeof crash.error.message, 'string');
    const none = (await c.emitWithAck('unhandled')) as { error: { code: string } };
    assert.equal(none.error.code, 'no_handler');
    const reserved = (await c.emitWithAck('state')) as { error: { code: string } };
    assert.equal(reserved.error.code, 'bad_request');
    // Without an ack the same refusal arrives as an `error` event.
    const error = nextEvent(c, 'error');
    c.emit('state', 1);
    const [body] = (await error) as [{ code: string; message: string }];
    assert.equal(body.code, 'bad_request');
    assert.equal(typeof body.message, 'string');
  });

  test('socket.timeout(ms).emit with a server that answers in time: (null, answer)', async () => {
    const c = await client();
    const [err, answer] = await new Promise<unknown[]>((resolve) => c.timeout(5000).emit('slow', 20, (...a: unknown[]) => resolve(a)));
    assert.equal(err, null);
    assert.equal(answer, 'done');
    assert.equal(await c.timeout(5000).emitWithAck('double', 4), 8);
    // A server slower than the timeout: the client's own timeout error.
    await assert.rejects(c.timeout(20).emitWithAck('slow', 500), /operation has timed out/);
  });

  test('server → client: emit with data, without data; emitWithAck answered with none, one and several arguments', async () => {
    const c = await client();
    const news = nextEvent(c, 'news');
    const ping = nextEvent(c, 'ping-ish');
    last.emit('news', { title: 'hi' });
    last.emit('ping-ish', undefined);
    assert.deepEqual(await news, [{ title: 'hi' }]);
    assert.deepEqual(await ping, [], 'no argument for undefined data');

    c.on('question', (q: string, callback: (...a: unknown[]) => void) => {
      if (q === 'none') callback();
      else if (q === 'many') callback(1, 2, 3);
      else callback(`answer to ${q}`);
    });
    assert.equal(await last.emitWithAck('question', 'life', { timeout: 5000 }), 'answer to life');
    assert.equal(await last.emitWithAck('question', 'none', { timeout: 5000 }), undefined);
    assert.deepEqual(await last.emitWithAck('question', 'many', { timeout: 5000 }), [1, 2, 3]);
    // A request from the client whose handler asks the client back.
    assert.equal(await c.emitWithAck('ask', 'nested'), 'answer to nested');
  });

  test('volatile: both ways while connected', async () => {
    const c = await client();
    got.length = 0;
    c.volatile.emit('one', 'volatile up');
    await eventually(() => got.length === 1, 'the volatile event');
    assert.deepEqual(got[0], { event: 'one', data: 'volatile up', present: true });
    const down = nextEvent(c, 'flash');
    assert.equal(last.volatile.emit('flash', 'volatile down'), true);
    assert.deepEqual(await down, ['volatile down']);
    const broadcast = nextEvent(c, 'flash');
    sb.volatile.emit('flash', 'to everyone');
    assert.deepEqual(await broadcast, ['to everyone']);
  });

  test('binary: Buffers both ways, in nested arguments too', async () => {
    const c = await client();
    last.on('bytes', (data) => {
      const [label, bytes] = data as [string, Uint8Array];
      return { label, length: bytes.length, reversed: Buffer.from(bytes).reverse() };
    });
    const answer = (await c.emitWithAck('bytes', 'abc', Buffer.from([1, 2, 3, 250]))) as { label: string; length: number; reversed: Buffer };
    assert.equal(answer.label, 'abc');
    assert.equal(answer.length, 4);
    assert.ok(Buffer.isBuffer(answer.reversed));
    assert.deepEqual([...answer.reversed], [250, 3, 2, 1]);
  });
});

describe('socket.io-client: the server sockets, rooms, presence, schemas, native clients, durable rooms', () => {
  let sb: Switchboard;
  let url: string;
  let wsUrl: string;
  const natives: { close(): void }[] = [];
  before(async () => {
    ({ sb, url: wsUrl } = await startServer({ socketIo: true }));
    url = `http://127.0.0.1:${sb.port}`;
    sb.trackPresence(/^room:/);
    sb.durable(/^orders:/);
    sb.schemas({ order: z.object({ item: z.string(), qty: z.number().int().positive() }) });
    sb.use((socket, next) => {
      const auth = socket.handshake.auth as { name?: unknown } | undefined;
      socket.data = { name: typeof auth?.name === 'string' ? auth.name : 'anonymous' };
      next();
    });
    sb.on('connection', (socket) => {
      socket.on('enter', (room) => {
        socket.join(String(room));
        return [...socket.rooms].sort();
      });
      socket.on('say', (data) => {
        const { room, text } = data as { room: string; text: string };
        socket.to(room).emit('said', { from: socket.data.name, text });
      });
      socket.on('order', (order) => ({ accepted: order }));
      socket.on('transport', () => socket.transport);
    });
  });
  after(async () => {
    for (const n of natives) n.close();
    await sb.close();
  });

  function native(name: string) {
    const client = connect(wsUrl, { auth: { name } });
    natives.push(client);
    return client;
  }

  test('socket.data, rooms and socket.transport of a Socket.IO socket, as fetchSockets() and in(room) see them', async () => {
    const c = await connected(sio(url, { auth: { name: 'Ada' }, transports: ['websocket'] }));
    assert.deepEqual(await c.emitWithAck('enter', 'room:1'), [c.id, 'room:1'].sort());
    assert.equal(await c.emitWithAck('transport'), 'socket.io/websocket');
    const infos = await sb.in('room:1').fetchSockets();
    assert.equal(infos.length, 1);
    const info = infos[0]!;
    assert.equal(info.id, c.id);
    assert.equal(info.ns, '/');
    assert.deepEqual(info.data, { name: 'Ada' });
    assert.deepEqual([...info.rooms].sort(), [c.id, 'room:1'].sort());
    // Server-side room operations reach it.
    await sb.in(c.id!).socketsJoin('room:2');
    assert.ok((await sb.in('room:2').fetchSockets()).some((s) => s.id === c.id));
    const gone = nextEvent(c, 'disconnect');
    await sb.in('room:2').disconnectSockets();
    assert.equal((await gone)[0], 'io server disconnect');
  });

  test('presence: a Socket.IO socket is present in a tracked room, and a native member is told it joined and left', async () => {
    const watcher = native('Watcher');
    const seen: { kind: string; user: string }[] = [];
    watcher.on('presence', (p) => seen.push({ kind: p.kind, user: p.user }));
    await watcher.emitWithAck('enter', 'room:p');
    const c = await connected(sio(url, { auth: { name: 'Grace' } }));
    await c.emitWithAck('enter', 'room:p');
    const members = await sb.presence('room:p');
    assert.deepEqual(members.map((m) => m.user).sort(), [c.id, watcher.id].sort());
    await eventually(() => seen.some((p) => p.kind === 'join' && p.user === c.id), 'the join notice');
    const id = c.id;
    c.disconnect();
    await eventually(() => seen.some((p) => p.kind === 'leave' && p.user === id), 'the leave notice');
  });

  test('schemas refuse bad data: the ack gets { error: { code: bad_request, message } }; without an ack, an `error` event', async () => {
    const c = await connected(sio(url));
    assert.deepEqual(await c.emitWithAck('order', { item: 'tea', qty: 2 }), { accepted: { item: 'tea', qty: 2 } });
    const answer = (await c.emitWithAck('order', { item: 'tea', qty: 'lots' })) as { error: { code: string; message: string } };
    assert.equal(answer.error.code, 'bad_request');
    assert.match(answer.error.message, /^invalid "order" data: qty: /);
    const error = nextEvent(c, 'error');
    c.emit('order', { item: 7, qty: 1 });
    const [body] = (await error) as [{ code: string; message: string; details?: { issues: { path: unknown[] }[] } }];
    assert.equal(body.code, 'bad_request');
    assert.match(body.message, /item/);
    assert.deepEqual(body.details?.issues.map((i) => i.path), [['item']]);
  });

  test('a native client and a Socket.IO client in one room see each other\'s broadcasts', async () => {
    const ann = native('Ann');
    const fromSio: unknown[] = [];
    ann.on('said', (data) => fromSio.push(data));
    await ann.emitWithAck('enter', 'room:mixed');
    const bob = await connected(sio(url, { auth: { name: 'Bob' } }));
    const fromNative = new Received(bob);
    await bob.emitWithAck('enter', 'room:mixed');

    bob.emit('say', { room: 'room:mixed', text: 'hello from socket.io' });
    ann.emit('say', { room: 'room:mixed', text: 'hello from switchboard' });
    sb.to('room:mixed').emit('said', { from: 'server', text: 'to both' });
    await eventually(() => fromSio.length === 2, 'two broadcasts at the native client');
    await fromNative.count('said', 2);
    // Two senders: each client gets both, in either order.
    const texts = (list: unknown[]) => list.map((d) => (d as { text: string }).text).sort();
    assert.deepEqual(texts(fromSio), ['hello from socket.io', 'to both']);
    assert.deepEqual(texts(fromNative.of('said')), ['hello from switchboard', 'to both']);
    assert.ok(fromSio.some((d) => (d as { from: string }).from === 'Bob'));
  });

  test('a durable room delivers live to a Socket.IO client, in order; except() leaves it out of live delivery only', async () => {
    const c = await connected(sio(url));
    const got = new Received(c);
    await c.emitWithAck('enter', 'orders:7');
    const first = await sb.to('orders:7').publish('order', { n: 1 });
    await sb.to('orders:7').except(c.id!).publish('order', { n: 2 });
    const third = await sb.to('orders:7').publish('order', { n: 3 });
    await got.count('order', 2);
    assert.deepEqual(got.of('order'), [{ n: 1 }, { n: 3 }]);
    assert.equal(third.offset, first.offset + 2);
    const { publications } = await sb.history('orders:7');
    assert.deepEqual(publications.map((p) => p.data), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});

describe('socket.io-client: transports', () => {
  let sb: Switchboard;
  let url: string;
  const sockets = new Map<string, Socket>();
  const upstream = new Map<string, number[]>();
  before(async () => {
    ({ sb } = await startServer({ socketIo: true }));
    url = `http://127.0.0.1:${sb.port}`;
    sb.on('connection', (socket) => {
      sockets.set(socket.id, socket);
      upstream.set(socket.id, []);
      socket.on('n', (n) => void upstream.get(socket.id)?.push(n as number));
      socket.on('echo', (data) => data);
    });
  });
  after(() => sb.close());

  for (const only of ['polling', 'websocket'] as const) {
    test(`${only} only: events, acks and binary both ways; socket.transport is socket.io/${only}`, async () => {
      const c = await connected(sio(url, { transports: [only] }));
      assert.equal(c.io.engine.transport.name, only);
      const socket = sockets.get(c.id!)!;
      assert.equal(socket.transport, `socket.io/${only}`);
      const got = new Received(c);
      for (let i = 0; i < 50; i++) socket.emit('n', i);
      for (let i = 0; i < 50; i++) c.emit('n', i);
      assert.deepEqual(await c.emitWithAck('echo', { bytes: Buffer.from('ok'), text: 'é' }), { bytes: Buffer.from('ok'), text: 'é' });
      await got.count('n', 50);
      await eventually(() => upstream.get(c.id!)!.length === 50, '50 events up');
      assert.deepEqual(got.of('n'), range(50));
      assert.deepEqual(upstream.get(c.id!), range(50));
    });
  }

  test('upgrade from polling to websocket: nothing lost or reordered either way while it happens', async () => {
    const next = new Promise<Socket>((resolve) => sb.once('connection', resolve));
    const c = sio(url);
    const got = new Received(c);
    let upgraded = false;
    c.io.on('open', () => c.io.engine.once('upgrade', () => (upgraded = true)));
    // Both sides send from the start (the client's first emits wait for the connect) until the upgrade is through, and some more.
    const downOn: string[] = [];
    const upOn: string[] = [];
    let socket: Socket | undefined;
    void next.then((s) => (socket = s));
    let n = 0;
    let more = 20;
    while (more > 0) {
      upOn.push(c.io.engine?.transport?.name ?? 'none');
      c.emit('n', n);
      if (socket) {
        downOn.push(socket.transport ?? 'none');
        socket.emit('n', downOn.length - 1);
      }
      n++;
      if (upgraded) more--;
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(socket);
    await got.count('n', downOn.length);
    await eventually(() => upstream.get(c.id!)!.length === n, `${n} events up`);
    assert.deepEqual(got.of('n'), range(downOn.length));
    assert.deepEqual(upstream.get(c.id!), range(n));
    assert.equal(socket.transport, 'socket.io/websocket');
    assert.equal(c.id, socket.id, 'the same socket across the upgrade');
    // The traffic did straddle the switch.
    assert.ok(upOn.includes('polling') && upOn.includes('websocket'), `client sent on ${[...new Set(upOn)].join(', ')}`);
    assert.ok(downOn.includes('socket.io/polling') && downOn.includes('socket.io/websocket'), `server sent on ${[...new Set(downOn)].join(', ')}`);
  });
});
