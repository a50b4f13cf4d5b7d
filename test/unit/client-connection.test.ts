/** The SDK against a scripted server: handshake, events both ways, requests, ping, local checks. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { connect, type StateChange } from '../../src/client/node.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { delay, nextEvent, ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(() => server.close());



describe('client handshake', () => {
  it('offers switchboard.v1, sends hello with auth, and connects on welcome', async () => {
    const client = server.open({ auth: { token: 'secret' } });
    assert.equal(client.state, 'connecting', 'connect() starts the first attempt at once');
    const states: StateChange[] = [];
    client.on('state', (change) => states.push(change));
    const connected = nextEvent(client, 'connect');

    const conn = await server.nextConnection();
    assert.equal(conn.protocol, 'switchboard.v1');
    assert.deepEqual(await conn.nextFrame('hello'), { type: 'hello', v: 1, ns: '/', auth: { token: 'secret' }, binary: true });
    await connected;

    assert.equal(client.state, 'connected');
    assert.equal(client.connected, true);
    assert.equal(client.id, 'sid-1');
    assert.deepEqual(states, [{ state: 'connected', previous: 'connecting', reason: 'handshake_ok', resumed: false }]);
  });

  it('calls an async auth function for the hello', async () => {
    const client = server.open({ namespace: '/chat', auth: async () => ({ token: 'fresh' }) });
    const conn = await server.nextConnection();
    assert.deepEqual(await conn.nextFrame('hello'), { type: 'hello', v: 1, ns: '/chat', auth: { token: 'fresh' }, binary: true });
    assert.equal(client.namespace, '/chat');
  });

  it('sends emits made before the welcome in order once it arrives', async () => {
    server.script.hello = () => {}; // hold the welcome
    const client = server.open();
    client.emit('first', 1);
    const reply = client.emitWithAck('second', 2);
    client.emit('third', 3);
    const conn = await server.nextConnection();
    await conn.nextFrame('hello');
    // A fence instead of a wait: the client answers a ping at once, and the socket is ordered.
    conn.send({ type: 'ping' });
    await conn.nextFrame('pong');
    assert.deepEqual(conn.ofType('event'), [], 'nothing is sent before the welcome');

    server.welcome(conn);
    const second = await conn.nextFrame((f) => f.event === 'second');
    conn.send({ type: 'reply', ref: second.ref, data: 'ok' });
    assert.equal(await reply, 'ok');
    assert.deepEqual(
      conn.ofType('event').map((f) => f.event),
      ['first', 'second', 'third'],
    );
  });

  it('reports connect_error and keeps retrying while the server is unreachable', async () => {
    const url = server.url;
    await server.close();
    const client = connect(url, { reconnect: { delay: 5, maxDelay: 10 } });
    server = await ScriptedServer.start(); // for afterEach
    server.adopt(client);
    const [error] = (await nextEvent(client, 'connect_error')) as [SwitchboardError];
    assert.equal(error.code, 'disconnected');
    assert.match(error.message, /could not open a WebSocket/);
    const [info] = (await nextEvent(client, 'reconnecting')) as [{ attempt: number; reason: string }];
    assert.equal(info.reason, 'transport_error');
    assert.ok(info.attempt >= 2, 'attempts keep counting while failing');
    assert.equal(client.state, 'connecting');
  });
});

describe('client events', () => {
  it('emits events to the server and receives server events with their room', async () => {
    const { client, conn } = await server.openConnected();
    client.emit('chat', { text: 'hi' });
    assert.deepEqual(await conn.nextFrame('event'), { type: 'event', event: 'chat', data: { text: 'hi' } });

    const news = nextEvent(client, 'news');
    conn.send({ type: 'event', event: 'news', data: 42, room: 'lobby' });
    assert.deepEqual(await news, [42, { room: 'lobby' }]);
  });

  it('never lets the server trigger a lifecycle listener', async () => {
    const { client, conn } = await server.openConnected();
    let fired = false;
    client.on('disconnect', () => {
      fired = true;
    });
    conn.send({ type: 'event', event: 'disconnect', data: 'x', ref: 9 });
    const reply = await conn.nextFrame('reply');
    assert.equal((reply.error as { code: string }).code, 'bad_request');
    assert.equal(fired, false);
  });

  it('refuses bad emits synchronously with a code', async () => {
    server.script.welcome = { limits: { maxMessageBytes: 100 } };
    const { client } = await server.openConnected();
    const code = (fn: () => void): string | undefined => {
      try {
        fn();
      } catch (e) {
        return (e as SwitchboardError).code;
      }
      return undefined;
    };
    assert.equal(code(() => client.emit('connect')), 'bad_request');
    assert.equal(code(() => client.emit('')), 'bad_request');
    assert.equal(code(() => client.emit('big', 'x'.repeat(200))), 'message_too_big');
    assert.equal(code(() => client.emit('n', 10n)), 'unserializable');
    assert.equal(code(() => client.volatile.emit('big', 'x'.repeat(200))), 'message_too_big');
    await assert.rejects(client.emitWithAck('big', 'x'.repeat(200)), { code: 'message_too_big' });
    await assert.rejects(client.emitWithAck('state', 1), { code: 'bad_request' });
  });
});

describe('client requests', () => {
  it('resolves emitWithAck with the reply, rejects with its error, and times out', async () => {
    const { client, conn } = await server.openConnected();
    const ok = client.emitWithAck('q', 1);
    const req1 = await conn.nextFrame('event');
    assert.equal(typeof req1.ref, 'number');
    conn.send({ type: 'reply', ref: req1.ref, data: 'answer' });
    assert.equal(await ok, 'answer');

    const refused = client.emitWithAck('q', 2);
    const req2 = await conn.nextFrame('event');
    assert.notEqual(req2.ref, req1.ref);
    conn.send({ type: 'reply', ref: req2.ref, error: { code: 'forbidden', message: 'not yours' } });
    await assert.rejects(refused, (e: unknown) => e instanceof SwitchboardError && e.code === 'forbidden' && e.message === 'not yours');

    await assert.rejects(client.emitWithAck('q', 3, { timeout: 20 }), { code: 'timeout' });
  });

  it('answers server requests with the handler result, no_handler, or an error reply', async () => {
    const { client, conn } = await server.openConnected();
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('add', (d: { a: number; b: number }) => d.a + d.b);
    client.on('slow', async (d: number) => {
      await delay(5);
      return d * 2;
    });
    client.on('refuse', () => {
      throw new SwitchboardError('not_allowed', 'you may not');
    });
    client.on('bug', () => {
      throw new Error('secret detail');
    });

    const ask = async (ref: number, event: string, data?: unknown) => {
      conn.send({ type: 'event', event, data, ref });
      return conn.nextFrame((f) => f.type === 'reply' && f.ref === ref);
    };
    assert.deepEqual(await ask(1, 'add', { a: 1, b: 2 }), { type: 'reply', ref: 1, data: 3 });
    assert.deepEqual(await ask(2, 'slow', 4), { type: 'reply', ref: 2, data: 8 });
    assert.deepEqual(await ask(3, 'refuse'), { type: 'reply', ref: 3, error: { code: 'not_allowed', message: 'you may not' } });
    const bug = await ask(4, 'bug');
    assert.equal((bug.error as { code: string }).code, 'internal_error');
    assert.doesNotMatch(JSON.stringify(bug), /secret/);
    const missing = await ask(5, 'missing');
    assert.equal((missing.error as { code: string }).code, 'no_handler');
    assert.deepEqual(
      errors.map((e) => e.message),
      ['secret detail'],
      'a handler bug is reported locally',
    );
  });

  it('answers the server ping with pong', async () => {
    const { conn } = await server.openConnected();
    conn.send({ type: 'ping' });
    assert.deepEqual(await conn.nextFrame('pong'), { type: 'pong' });
  });
});

describe('client close', () => {
  it('rejects pending requests with closed, closes with 1000, and refuses later emits', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client, conn } = await server.openConnected();
    const pending = client.emitWithAck('never', 1);
    await conn.nextFrame('event');
    const states: StateChange[] = [];
    client.on('state', (s) => states.push(s));
    const disconnects: unknown[][] = [];
    client.on('disconnect', (...args) => disconnects.push(args));

    client.close();
    await assert.rejects(pending, { code: 'closed' });
    assert.equal(client.state, 'disconnected');
    assert.deepEqual(states, [{ state: 'disconnected', previous: 'connected', reason: 'client_closed' }]);
    assert.deepEqual(disconnects, [['client_closed', {}]]);
    assert.equal((await conn.closed).code, 1000);
    assert.throws(() => client.emit('late', 1), { code: 'closed' });
    await assert.rejects(client.join('r'), { code: 'closed' });
    t.mock.timers.tick(60_000); // far past any backoff, on the client's mocked clock
    assert.deepEqual(states, [{ state: 'disconnected', previous: 'connected', reason: 'client_closed' }], 'no reconnect after close()');
    assert.equal(server.connections.length, 1);
  });
});
