/** Namespace handles multiplexed on one connection, against a scripted server. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { connect, type StateChange } from '../../src/client/node.js';
import type { SwitchboardError } from '../../src/protocol/errors.js';
import { nextEvent, ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(() => server.close());


describe('namespaces', () => {
  it('connects another namespace with its own auth and routes events by ns', async () => {
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin', { auth: { role: 'admin' } });
    assert.equal(client.of('/admin'), admin, 'one handle per namespace');
    const adminConnected = nextEvent(admin, 'connect');
    const frame = await conn.nextFrame('connect');
    assert.deepEqual({ ...frame, ref: 0 }, { type: 'connect', ref: 0, ns: '/admin', auth: { role: 'admin' } });
    await adminConnected;
    assert.equal(admin.state, 'connected');

    admin.emit('kick', 'bob');
    assert.deepEqual(await conn.nextFrame('event'), { type: 'event', ns: '/admin', event: 'kick', data: 'bob' });

    const rootHeard: unknown[] = [];
    client.on('notice', (d) => rootHeard.push(d));
    const adminNotice = nextEvent(admin, 'notice');
    conn.send({ type: 'event', ns: '/admin', event: 'notice', data: 'for admins' });
    assert.deepEqual(await adminNotice, ['for admins', {}]);
    assert.deepEqual(rootHeard, []);
  });

  it('sends connect frames after the welcome, before the root flushes its buffer', async () => {
    server.script.hello = () => {};
    const client = connect(server.url);
    server.adopt(client);
    client.emit('early', 1);
    const admin = client.of('/admin');
    admin.emit('also-early', 2);
    const conn = await server.nextConnection();
    await conn.nextFrame('hello');
    server.welcome(conn);
    await nextEvent(admin, 'connect');
    await conn.nextFrame((f) => f.event === 'also-early');
    assert.deepEqual(
      conn.frames.map((f) => `${f.type}:${f.ns ?? ''}:${f.event ?? ''}`),
      ['hello:/:', 'connect:/admin:', 'event::early', 'event:/admin:also-early'],
    );
  });

  it('a refused namespace reports connect_error and stays disconnected; the root is unaffected', async () => {
    server.script.connect = (conn, f) => conn.send({ type: 'reply', ref: f.ref, error: { code: 'unauthorized', message: 'admins only' } });
    const { client } = await server.openConnected();
    const admin = client.of('/admin');
    const stopped = new Promise<StateChange>((resolve) => admin.on('state', (s) => s.state === 'disconnected' && resolve(s)));
    const [error] = (await nextEvent(admin, 'connect_error')) as [SwitchboardError];
    assert.equal(error.code, 'unauthorized');
    const change = await stopped;
    assert.equal(change.reason, 'unauthorized');
    assert.equal(change.error?.message, 'admins only');
    assert.equal(client.state, 'connected');
  });

  it('reconnects its namespaces after a drop, calling their auth functions again', async () => {
    let calls = 0;
    const { client, conn: first } = await server.openConnected();
    const admin = client.of('/admin', { auth: () => ({ n: ++calls }) });
    await nextEvent(admin, 'connect');
    const adminBack = nextEvent(admin, 'connect');
    first.terminate();
    const second = await server.nextConnection();
    assert.deepEqual((await second.nextFrame('connect')).auth, { n: 2 });
    await adminBack;
  });

  it('a disconnect frame from the server stops only that namespace', async () => {
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin');
    await nextEvent(admin, 'connect');
    const [reason] = await (async () => {
      const down = nextEvent(admin, 'disconnect');
      conn.send({ type: 'disconnect', ns: '/admin' });
      return down;
    })();
    assert.equal(reason, 'server_disconnect');
    assert.equal(admin.state, 'disconnected');
    assert.equal(client.state, 'connected');

    const back = nextEvent(admin, 'connect');
    admin.reconnectNow();
    await conn.nextFrame('connect'); // the first connect frame
    await back;
  });

  it('answers a server request for a namespace it has not connected with namespace_not_connected', async () => {
    const { conn } = await server.openConnected();
    conn.send({ type: 'event', ns: '/other', event: 'q', ref: 7 });
    const reply = await conn.nextFrame('reply');
    assert.equal((reply.error as { code: string }).code, 'namespace_not_connected');
  });

  it('surfaces an error frame as an error event on the namespace it names', async () => {
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin');
    await nextEvent(admin, 'connect');
    const adminError = nextEvent(admin, 'error');
    conn.send({ type: 'error', ns: '/admin', code: 'bad_request', message: 'event name too long' });
    const [error] = (await adminError) as [SwitchboardError];
    assert.deepEqual([error.code, error.message], ['bad_request', 'event name too long']);
    assert.equal(client.state, 'connected');
  });

  it('close() on a namespace handle leaves only that namespace', async () => {
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin');
    await nextEvent(admin, 'connect');
    const pending = admin.emitWithAck('slow', 1);
    admin.close();
    await assert.rejects(pending, { code: 'closed' });
    assert.deepEqual(await conn.nextFrame('disconnect'), { type: 'disconnect', ns: '/admin' });
    assert.equal(admin.state, 'disconnected');
    assert.equal(client.state, 'connected');
    conn.send({ type: 'ping' }); // the connection still answers: it was not closed with the namespace
    await conn.nextFrame('pong');
    assert.equal(conn.socket.readyState, conn.socket.OPEN);
  });
});
