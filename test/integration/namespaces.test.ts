import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ReplyError, type Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

describe('namespaces and middleware', () => {
  let sb: Switchboard;
  let url: string;
  const seen: string[] = [];

  before(async () => {
    ({ sb, url } = await startServer());
    sb.use((socket, next) => {
      seen.push(`root:${JSON.stringify(socket.handshake.auth)}`);
      const auth = socket.handshake.auth as { token?: string } | undefined;
      if (auth?.token === 'bad') return next(new ReplyError('invalid_token', 'token expired'));
      if (auth?.token === 'plain') return next(new Error('go away'));
      next();
    });
    sb.on('connection', (socket) => socket.on('where', () => 'root'));
    const admin = sb.of('/admin');
    admin.use(async (socket) => {
      seen.push(`admin:${JSON.stringify(socket.handshake.auth)}`);
      if ((socket.handshake.auth as { role?: string } | undefined)?.role !== 'admin') throw new ReplyError('forbidden', 'admins only');
    });
    admin.on('connection', (socket) => {
      socket.on('where', () => 'admin');
      socket.emit('hello-admin', socket.id);
    });
  });
  after(() => sb.close());

  test('middleware rejection at the handshake: error frame with its code, then close 1008', async () => {
    const c = await BareClient.open(url);
    c.send({ type: 'hello', v: 1, auth: { token: 'bad' } });
    const error = await c.next({ type: 'error' });
    assert.deepEqual([error.code, error.message], ['invalid_token', 'token expired']);
    assert.equal((await c.closed).code, 1008);
    await eventually(() => sb.connectionCount === 0, 'the rejected connection to be released');
  });

  test('a plain Error in middleware rejects with unauthorized and its message', async () => {
    const c = await BareClient.open(url);
    c.send({ type: 'hello', v: 1, auth: { token: 'plain' } });
    const error = await c.next({ type: 'error' });
    assert.deepEqual([error.code, error.message], ['unauthorized', 'go away']);
    assert.equal((await c.closed).code, 1008);
  });

  test('namespaces multiplex on one connection, each with its own middleware and handlers', async () => {
    seen.length = 0;
    const c = await BareClient.open(url);
    const welcome = await c.hello({ auth: { token: 'ok' } });
    c.send({ type: 'connect', ref: 1, ns: '/admin' });
    assert.equal(((await c.next({ ref: 1 })).error as { code: string }).code, 'forbidden');

    c.send({ type: 'connect', ref: 2, ns: '/admin', auth: { role: 'admin' } });
    assert.deepEqual((await c.next({ ref: 2 })).data, { ns: '/admin' });
    const greeting = await c.next({ type: 'event', event: 'hello-admin' });
    assert.equal(greeting.ns, '/admin');
    assert.equal(greeting.data, welcome.sid, 'a socket id is the session id in every namespace');
    assert.deepEqual(seen, ['root:{"token":"ok"}', 'admin:{"token":"ok"}', 'admin:{"role":"admin"}']);

    c.send({ type: 'event', event: 'where', ref: 3 });
    c.send({ type: 'event', ns: '/admin', event: 'where', ref: 4 });
    assert.equal((await c.next({ ref: 3 })).data, 'root');
    assert.equal((await c.next({ ref: 4 })).data, 'admin');

    sb.of('/admin').emit('ping-admins', 1);
    sb.emit('ping-root', 2);
    const events = [await c.next({ type: 'event', event: 'ping-admins' }), await c.next({ type: 'event', event: 'ping-root' })];
    assert.equal(events[0]?.ns, '/admin');
    assert.equal(events[1]?.ns, undefined);

    c.send({ type: 'disconnect', ns: '/admin' });
    await eventually(() => sb.of('/admin').sockets.size === 0, 'the admin socket to leave');
    c.send({ type: 'event', ns: '/admin', event: 'where', ref: 5 });
    assert.equal(((await c.next({ ref: 5 })).error as { code: string }).code, 'namespace_not_connected');
    c.send({ type: 'event', event: 'where', ref: 6 });
    assert.equal((await c.next({ ref: 6 })).data, 'root', 'the root namespace is unaffected');
    c.close();
  });

  test('unknown namespaces: connect replies unknown_namespace; hello closes 4000', async () => {
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'connect', ref: 1, ns: '/nope' });
    assert.equal(((await c.next({ ref: 1 })).error as { code: string }).code, 'unknown_namespace');
    c.close();

    const d = await BareClient.open(url);
    d.send({ type: 'hello', v: 1, ns: '/nope' });
    assert.equal((await d.next({ type: 'error' })).code, 'bad_handshake');
    assert.equal((await d.closed).code, 4000);
  });

  test('a hello may connect a non-root namespace directly', async () => {
    const c = await BareClient.open(url);
    const welcome = await c.hello({ ns: '/admin', auth: { role: 'admin' } });
    assert.equal(welcome.ns, '/admin');
    c.send({ type: 'event', ns: '/admin', event: 'where', ref: 1 });
    assert.equal((await c.next({ ref: 1 })).data, 'admin');
    c.send({ type: 'event', event: 'where', ref: 2 });
    assert.equal(((await c.next({ ref: 2 })).error as { code: string }).code, 'namespace_not_connected');
    c.close();
  });

  test('frames sent while middleware is pending wait for it, in order', async () => {
    const { sb: slow, url: slowUrl } = await startServer();
    slow.use(async () => new Promise((r) => setTimeout(r, 100)));
    slow.on('connection', (socket) => socket.on('echo', (d: unknown) => d));
    const c = await BareClient.open(slowUrl);
    c.send({ type: 'hello', v: 1 });
    c.send({ type: 'event', event: 'echo', data: 'first', ref: 1 });
    c.send({ type: 'event', event: 'echo', data: 'second', ref: 2 });
    await c.next({ type: 'welcome' });
    assert.equal((await c.next({ ref: 1 })).data, 'first');
    assert.equal((await c.next({ ref: 2 })).data, 'second');
    c.close();
    await slow.close();
  });

  test('namespace middleware that never decides answers timeout; the connection stays up', async () => {
    const { sb: stuck, url: stuckUrl } = await startServer({ handshakeTimeout: 100 });
    stuck.of('/limbo').use(() => new Promise(() => {}));
    stuck.on('connection', (socket) => socket.on('echo', (d: unknown) => d));
    const c = await BareClient.open(stuckUrl);
    await c.hello();
    c.send({ type: 'connect', ref: 1, ns: '/limbo' });
    assert.equal(((await c.next({ ref: 1 })).error as { code: string }).code, 'timeout');
    c.send({ type: 'event', event: 'echo', data: 'still here', ref: 2 });
    assert.equal((await c.next({ ref: 2 })).data, 'still here');
    c.close();
    await stuck.close();
  });

  test('after the client leaves a namespace, emits to its socket there report false; a 1000 close is client_disconnect', async () => {
    const { sb: s2, url: u2 } = await startServer();
    const reasons: string[] = [];
    let adminSocket: import('../../src/server/index.js').Socket | undefined;
    s2.of('/admin').on('connection', (socket) => {
      adminSocket = socket;
    });
    s2.on('connection', (socket) => socket.on('disconnect', (r) => reasons.push(r)));
    const c = await BareClient.open(u2);
    await c.hello();
    c.send({ type: 'connect', ref: 1, ns: '/admin' });
    await c.next({ ref: 1 });
    c.send({ type: 'disconnect', ns: '/admin' });
    await eventually(() => adminSocket?.connected === false, 'the admin socket to leave');
    assert.equal(adminSocket?.emit('x', 1), false);
    await assert.rejects(adminSocket!.emitWithAck('x', 1), { code: 'disconnected' });
    c.ws.close(1000);
    await eventually(() => reasons.length === 1, 'the root disconnect');
    assert.deepEqual(reasons, ['client_disconnect']);
    await s2.close();
  });

  test("sb.once('connection') fires once and sb.off('connection') removes a listener", async () => {
    const { sb: s4, url: u4 } = await startServer();
    const seenBy: string[] = [];
    const always = (): void => {
      seenBy.push('always');
    };
    s4.once('connection', () => seenBy.push('once'));
    s4.on('connection', always);
    const a = await BareClient.open(u4);
    await a.hello();
    s4.off('connection', always);
    const b = await BareClient.open(u4);
    await b.hello();
    assert.deepEqual(seenBy, ['once', 'always']);
    a.close();
    b.close();
    await s4.close();
  });

  test('a handler added with once() runs once and can be removed by the function passed in', async () => {
    const { sb: s3, url: u3 } = await startServer();
    const calls: string[] = [];
    s3.on('connection', (socket) => {
      const first = (): string => {
        calls.push('first');
        return 'first';
      };
      socket.once('a', first);
      socket.once('b', () => calls.push('b'));
      socket.off('a', first);
      socket.on('probe', () => calls.join(','));
    });
    const c = await BareClient.open(u3);
    await c.hello();
    c.send({ type: 'event', event: 'a', ref: 1 });
    assert.equal(((await c.next({ ref: 1 })).error as { code: string }).code, 'no_handler');
    c.send({ type: 'event', event: 'b' });
    c.send({ type: 'event', event: 'b' });
    c.send({ type: 'event', event: 'probe', ref: 2 });
    assert.equal((await c.next({ ref: 2 })).data, 'b');
    c.close();
    await s3.close();
  });

  test('socket.disconnect() tells the client and closes the connection when it was the last namespace', async () => {
    const { sb: kicker, url: kickUrl } = await startServer();
    const reasons: string[] = [];
    kicker.on('connection', (socket) => {
      socket.on('disconnect', (reason) => reasons.push(reason));
      socket.on('kick-me', () => {
        setImmediate(() => socket.disconnect());
        return 'bye';
      });
    });
    const c = await BareClient.open(kickUrl);
    await c.hello();
    c.send({ type: 'event', event: 'kick-me', ref: 1 });
    assert.equal((await c.next({ ref: 1 })).data, 'bye');
    assert.deepEqual(await c.next({ type: 'disconnect' }), { type: 'disconnect' });
    assert.equal((await c.closed).code, 1000);
    assert.deepEqual(reasons, ['server_disconnect']);
    await kicker.close();
  });
});
