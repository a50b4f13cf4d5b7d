/** The SDK against a scripted server that drops, refuses and goes silent: reconnects, buffering, rooms. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type ChangeDetails, type StateChange, type SwitchboardClient } from '../../src/client/node.js';
import type { SwitchboardError } from '../../src/protocol/errors.js';
import { realClearTimeout, realSetTimeout } from '../helpers/real-timers.js';
import { nextEvent, ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(() => server.close());



/** Resolve with the next state change into `state`. */
function nextState(client: SwitchboardClient, state: string, timeoutMs = 10_000): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    // Real timers: the bound must run even when the test mocks the client's.
    const timer = realSetTimeout(() => reject(new Error(`no change to ${state} within ${timeoutMs} ms`)), timeoutMs);
    const listener = (change: StateChange): void => {
      if (change.state !== state) return;
      realClearTimeout(timer);
      client.off('state', listener);
      resolve(change);
    };
    client.on('state', listener);
  });
}

/** State changes and reconnect attempts from now on, to read after the mocked clock moved. */
function recordAfter(client: SwitchboardClient): string[] {
  const seen: string[] = [];
  client.on('state', (s) => seen.push(`state ${s.state}`));
  client.on('reconnecting', (info) => seen.push(`reconnecting #${info.attempt}`));
  return seen;
}

describe('reconnect', () => {
  it('reconnects after the server drops the socket, calling the auth function again', async () => {
    let calls = 0;
    const { client, conn: first } = await server.openConnected({ auth: () => ({ token: `t${++calls}` }) });
    const log: string[] = [];
    client.on('state', (s) => log.push(`state ${s.previous}->${s.state} ${s.reason}`));
    client.on('disconnect', (reason) => log.push(`disconnect ${reason}`));
    client.on('reconnecting', (info) => log.push(`reconnecting #${info.attempt} ${info.reason}`));
    const reconnected = nextEvent(client, 'connect');

    first.terminate();
    const second = await server.nextConnection();
    assert.deepEqual((await second.nextFrame('hello')).auth, { token: 't2' });
    await reconnected;
    assert.equal(client.id, 'sid-2');
    assert.deepEqual(log, [
      'state connected->connecting transport_closed',
      'disconnect transport_closed',
      'reconnecting #1 transport_closed',
      'state connecting->connected handshake_ok',
    ]);
  });

  it('rejects in-flight requests with disconnected, buffers emits while down and flushes them in order; volatile is dropped', async () => {
    const { client, conn: first } = await server.openConnected();
    const inFlight = client.emitWithAck('slow', 0);
    await first.nextFrame('event');
    const down = nextEvent(client, 'disconnect');
    server.script.hello = () => {}; // hold the next welcome so the client stays down while we emit
    first.terminate();
    await down;
    await assert.rejects(inFlight, { code: 'disconnected' });

    assert.equal(client.state, 'connecting');
    client.emit('m', 1);
    client.volatile.emit('cursor', 1);
    const ack = client.emitWithAck('m', 2);
    client.emit('m', 3);

    const second = await server.nextConnection();
    await second.nextFrame('hello');
    const reconnected = nextEvent(client, 'connect');
    server.welcome(second);
    await reconnected;
    const request = await second.nextFrame((f) => f.data === 2);
    second.send({ type: 'reply', ref: request.ref, data: 'got 2' });
    assert.equal(await ack, 'got 2');
    client.volatile.emit('cursor', 2);
    await second.nextFrame((f) => f.event === 'cursor');

    assert.deepEqual(
      second.frames.map((f) => (f.type === 'event' ? `${f.event}:${f.data}` : f.type)),
      ['hello', 'm:1', 'm:2', 'm:3', 'cursor:2'],
    );
  });

  it('throws buffer_full when the offline buffer is full', async () => {
    server.script.hello = () => {};
    const client = server.open({ bufferLimit: { count: 2 } });
    client.emit('a', 1);
    client.emit('b', 2);
    assert.throws(() => client.emit('c', 3), { code: 'buffer_full' });
    await assert.rejects(client.emitWithAck('d', 4), { code: 'buffer_full' });
  });

  it('a buffered request times out and is then not sent', async () => {
    server.script.hello = () => {};
    const client = server.open();
    await assert.rejects(client.emitWithAck('late', 1, { timeout: 10 }), { code: 'timeout' });
    client.emit('kept', 2);
    const conn = await server.nextConnection();
    await conn.nextFrame('hello');
    server.welcome(conn);
    await conn.nextFrame('event');
    // A fence instead of a wait: the socket is ordered, so whatever the client sent before it has arrived.
    client.emit('fence', 3);
    await conn.nextFrame((f) => f.event === 'fence');
    assert.deepEqual(conn.ofType('event').map((f) => f.event), ['kept', 'fence']);
  });

  it('rejoins rooms after a reconnect, before buffered emits; a refused room is dropped', async () => {
    server.script.room = (conn, f) =>
      f.room === 'vip'
        ? conn.send({ type: 'reply', ref: f.ref, error: { code: 'forbidden', message: 'members only' } })
        : conn.send({ type: 'reply', ref: f.ref, data: { room: f.room } });
    const { client, conn: first } = await server.openConnected();
    await client.join('a');
    await client.join('b');
    await client.leave('b');
    await assert.rejects(client.join('vip'), (e: unknown) => (e as SwitchboardError).code === 'forbidden');
    assert.deepEqual([...client.rooms], ['a']);
    assert.deepEqual(
      first.frames.filter((f) => f.type === 'join' || f.type === 'leave').map((f) => `${f.type}:${f.room}`),
      ['join:a', 'join:b', 'leave:b', 'join:vip'],
    );

    const down = nextEvent(client, 'disconnect');
    first.terminate();
    await down;
    client.emit('after', 1);
    const second = await server.nextConnection();
    await nextEvent(client, 'connect');
    await second.nextFrame('event');
    assert.deepEqual(
      second.frames.map((f) => `${f.type}:${f.room ?? f.event ?? ''}`),
      ['hello:', 'join:a', 'event:after'],
    );
  });

  it('a join made while disconnected is sent on connect and resolves then', async () => {
    server.script.hello = () => {};
    const client = server.open();
    const joined = client.join('later');
    const conn = await server.nextConnection();
    await conn.nextFrame('hello');
    server.welcome(conn);
    await joined;
    assert.deepEqual((await conn.nextFrame('join')).room, 'later');
  });

  it('does not reconnect after 1008 and surfaces the error frame; reconnectNow() tries again', async (t) => {
    // The client's timers on a mocked clock: "no retry" is read after moving it past any backoff.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    server.script.hello = (conn) => {
      conn.send({ type: 'error', code: 'token_expired', message: 'the token expired' });
      conn.close(1008, 'unauthorized');
    };
    const client = server.open();
    const connectError = nextEvent(client, 'connect_error');
    const stopped = nextState(client, 'disconnected');
    await server.nextConnection();

    const [error] = (await connectError) as [SwitchboardError];
    assert.equal(error.code, 'token_expired');
    assert.equal(error.message, 'the token expired');
    const change = await stopped;
    assert.equal(change.reason, 'unauthorized');
    assert.equal(change.previous, 'connecting');
    assert.equal(change.closeCode, 1008);
    assert.equal(change.error?.code, 'token_expired');
    const after = recordAfter(client);
    t.mock.timers.tick(60_000); // far past the backoff cap: a retry timer would have fired
    assert.deepEqual(after, [], 'no retry scheduled');
    assert.equal(server.connections.length, 1, 'no second attempt');
    assert.equal(client.state, 'disconnected');

    server.script.hello = (conn) => server.welcome(conn);
    const connected = nextEvent(client, 'connect');
    client.reconnectNow();
    assert.equal(client.state, 'connecting');
    await connected;
    assert.equal(server.connections.length, 2);
  });

  it('does not reconnect after the server closes with 1000', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client, conn } = await server.openConnected();
    const stopped = nextState(client, 'disconnected');
    conn.close(1000, 'bye');
    const change = await stopped;
    assert.equal(change.reason, 'server_disconnect');
    const after = recordAfter(client);
    t.mock.timers.tick(60_000);
    assert.deepEqual(after, [], 'no retry scheduled');
    assert.equal(server.connections.length, 1);
  });

  it('explains a 1009 close with the server limit, then reconnects', async () => {
    server.script.welcome = { limits: { maxMessageBytes: 1000 } };
    const { client, conn } = await server.openConnected();
    const down = nextEvent(client, 'disconnect');
    conn.close(1009, 'too big');
    const [reason, details] = (await down) as [string, ChangeDetails];
    assert.equal(reason, 'message_too_big');
    assert.equal(details.closeCode, 1009);
    assert.equal(details.error?.code, 'message_too_big');
    assert.equal(details.error?.message, 'message too big: the server accepts at most 1000 bytes per frame');
    await server.nextConnection();
  });

  it('reconnects with reason server_shutdown after 1001', async () => {
    const { client, conn } = await server.openConnected();
    const reconnecting = nextEvent(client, 'reconnecting');
    conn.close(1001, 'restart');
    const [info] = (await reconnecting) as [{ reason: string; attempt: number }];
    assert.deepEqual([info.reason, info.attempt], ['server_shutdown', 1]);
    await server.nextConnection();
  });

  it('reconnect: false stays disconnected after a drop', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client, conn } = await server.openConnected({ reconnect: false });
    const stopped = nextState(client, 'disconnected');
    conn.terminate();
    assert.equal((await stopped).reason, 'transport_closed');
    const after = recordAfter(client);
    t.mock.timers.tick(60_000);
    assert.deepEqual(after, [], 'no retry scheduled');
    assert.equal(server.connections.length, 1);
  });

  it('gives up after maxAttempts with reason reconnect_exhausted', async () => {
    server.script.hello = (conn) => conn.terminate();
    const client = server.open({ reconnect: { delay: 1, maxDelay: 2, maxAttempts: 2 } });
    const change = await nextState(client, 'disconnected');
    assert.equal(change.reason, 'reconnect_exhausted');
    assert.equal(server.connections.length, 3, 'the first attempt and two retries');
  });

  it('gives up on an attempt without a welcome after connectTimeout, and retries', async (t) => {
    // The timeout on a mocked clock: it runs out when the test says, after the hello arrived,
    // however long a loaded machine takes to open the socket.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    server.script.hello = () => {};
    const client = server.open({ connectTimeout: 30 });
    const connectError = nextEvent(client, 'connect_error');
    const reconnecting = nextEvent(client, 'reconnecting');
    let gaveUp = false;
    client.on('connect_error', () => (gaveUp = true));
    const conn = await server.nextConnection();
    await conn.nextFrame('hello');
    t.mock.timers.tick(29);
    assert.equal(gaveUp, false, 'not before connectTimeout');
    t.mock.timers.tick(1);
    const [error] = (await connectError) as [SwitchboardError];
    assert.equal(error.code, 'timeout');
    const [info] = (await reconnecting) as [{ reason: string; delay: number }];
    assert.equal(info.reason, 'connect_timeout');
    assert.equal((await conn.closed).code, 4005, 'reconnecting: not a final close');
    t.mock.timers.tick(info.delay);
    await server.nextConnection();
  });

  it('retries when the auth function fails, and reports why', async () => {
    let calls = 0;
    const client = server.open({
      auth: async () => {
        if (++calls === 1) throw new Error('token service down');
        return { token: 'ok' };
      },
    });
    const [error] = (await nextEvent(client, 'connect_error')) as [SwitchboardError];
    assert.match(error.message, /token service down/);
    const conn = await server.nextConnection();
    assert.deepEqual((await conn.nextFrame('hello')).auth, { token: 'ok' });
    await nextEvent(client, 'connect');
  });

  it('reconnectNow() skips the backoff wait', async () => {
    const { client, conn } = await server.openConnected({ reconnect: { delay: 60_000, maxDelay: 60_000 } });
    const reconnecting = nextEvent(client, 'reconnecting');
    conn.terminate();
    await reconnecting;
    const connected = nextEvent(client, 'connect', 1000);
    client.reconnectNow();
    await connected;
  });
});

describe('heartbeat watchdog', () => {
  it('closes and reconnects with heartbeat_timeout when the server goes silent', async () => {
    server.script.welcome = { heartbeat: { interval: 30, timeout: 30 } };
    const { client, conn } = await server.openConnected();
    const down = nextEvent(client, 'disconnect');
    const [reason, details] = (await down) as [string, ChangeDetails];
    assert.equal(reason, 'heartbeat_timeout');
    assert.equal(details.closeCode, 4002);
    assert.equal((await conn.closed).code, 4002, 'the client closed the dead socket itself');
    await server.nextConnection();
  });
});
