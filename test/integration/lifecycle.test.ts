import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

/** Status line and body of a raw Upgrade attempt, to see what a proxy or curl would see. */
async function upgradeAttempt(port: number, path: string, protocol?: string): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocol ? [protocol] : []);
  ws.on('error', () => {});
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode ?? 0, body };
}

describe('heartbeats', () => {
  test('the server pings with a WebSocket ping and an app-level ping frame', async () => {
    // A generous timeout: on a loaded machine a stall must not expire the peer before its first ping.
    const { sb, url } = await startServer({ heartbeat: { interval: 60, timeout: 10_000 } });
    const c = await BareClient.open(url);
    const wsPing = once(c.ws, 'ping');
    const welcome = await c.hello();
    assert.deepEqual(welcome.heartbeat, { interval: 60, timeout: 10_000 });
    await c.next({ type: 'ping' });
    await wsPing;
    c.close();
    await sb.close();
  });

  // When it is dropped (not before interval + timeout, within a tick after) is checked on an
  // injected clock in test/unit/heartbeat-sweeper.test.ts; here, that it is and what follows.
  test('a peer that stops answering is dropped, and its rooms cleaned', async () => {
    // Without resume the session ends with the connection (with resume it would wait its TTL).
    const { sb, url } = await startServer({ heartbeat: { interval: 50, timeout: 50 }, resume: false });
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (r) => reasons.push(r)));
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'join', ref: 1, room: 'r' });
    await c.next({ ref: 1 });
    // Freeze the peer: stop reading so neither app pongs nor WebSocket pongs go back.
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await eventually(() => sb.connectionCount === 0, 'the dead peer to be dropped', 10_000);
    assert.deepEqual(reasons, ['heartbeat_timeout']);
    assert.equal(sb.sockets.rooms.members('r'), undefined);
    c.ws.terminate();
    await sb.close();
  });

  test('a peer that answers app pings stays connected past many intervals', async () => {
    // A timeout long enough that a stall of a loaded machine is not taken for silence; the test
    // counts answered pings until they span more than interval + timeout, so a server that
    // ignored the answers would have dropped the peer by then.
    const heartbeat = { interval: 25, timeout: 1000 };
    const { sb, url } = await startServer({ heartbeat });
    const disconnects: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => disconnects.push(reason)));
    const c = await BareClient.open(url);
    await c.hello();
    for (let pongs = 0; pongs * heartbeat.interval <= heartbeat.interval + heartbeat.timeout + 100; pongs++) {
      await c.next({ type: 'ping' }, 10_000);
      c.send({ type: 'pong' });
    }
    assert.deepEqual(disconnects, []);
    assert.equal(sb.connectionCount, 1);
    c.close();
    await sb.close();
  });

  test('no hello within the handshake timeout: close 4001', async () => {
    const { sb, url } = await startServer({ handshakeTimeout: 80 });
    const c = await BareClient.open(url);
    assert.equal((await c.next({ type: 'error' })).code, 'handshake_timeout');
    assert.equal((await c.closed).code, 4001);
    await sb.close();
  });
});

describe('limits', () => {
  test('a frame over maxMessageBytes closes with 1009; other clients are unaffected', async () => {
    const { sb, url } = await startServer({ maxMessageBytes: 1024 });
    sb.on('connection', (socket) => socket.on('echo', (d: unknown) => d));
    const big = await BareClient.open(url);
    const fine = await BareClient.open(url);
    assert.equal(((await big.hello()).limits as { maxMessageBytes?: unknown }).maxMessageBytes, 1024);
    await fine.hello();
    big.send({ type: 'event', event: 'echo', data: 'x'.repeat(2000) });
    assert.equal((await big.closed).code, 1009);
    fine.send({ type: 'event', event: 'echo', data: 'x'.repeat(900), ref: 1 });
    assert.equal(String((await fine.next({ ref: 1 })).data).length, 900);
    fine.close();
    await sb.close();
  });

  test('frames queued behind a pending join are bounded: overloaded, close 1008', async () => {
    const { sb, url } = await startServer({ maxQueuedFrames: 5 });
    sb.sockets.authorizeJoin(() => new Promise((r) => setTimeout(() => r(true), 200)));
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'join', ref: 1, room: 'slow' });
    for (let i = 0; i < 10; i++) c.send({ type: 'ping' });
    assert.equal((await c.next({ type: 'error' })).code, 'overloaded');
    assert.equal((await c.closed).code, 1008);
    await sb.close();
  });
});

describe('the HTTP server it shares', () => {
  test("the app's own routes keep working; other upgrade paths get 404; foreign subprotocols get 400", async () => {
    const http = createServer((req, res) => res.end(`app:${req.url}`));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const sb = new Switchboard(http);

    const res = await fetch(`http://127.0.0.1:${port}/api/orders`);
    assert.equal(await res.text(), 'app:/api/orders');

    const wrongPath = await upgradeAttempt(port, '/socket');
    assert.equal(wrongPath.status, 404);
    assert.match(wrongPath.body, /Switchboard listens on \/ws/);

    const wrongProtocol = await upgradeAttempt(port, '/ws', 'mqtt');
    assert.equal(wrongProtocol.status, 400);
    assert.match(wrongProtocol.body, /switchboard\.v1/);

    const noProtocol = await BareClient.open(`ws://127.0.0.1:${port}/ws`, []);
    assert.equal((await noProtocol.hello()).type, 'welcome', 'a client offering no subprotocol is still accepted');
    noProtocol.close();

    await sb.close();
    assert.equal(http.listening, true, 'closing Switchboard leaves the app server to the app');
    http.close();
  });

  test('an Upgrade on another path is left to the app when it has its own upgrade listener', async () => {
    const http = createServer();
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const sb = new Switchboard(http);
    const { WebSocketServer } = await import('ws');
    const own = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/legacy') own.handleUpgrade(req, socket, head, (ws) => ws.send('legacy'));
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/legacy`);
    const [message] = await once(ws, 'message');
    assert.equal(String(message), 'legacy');
    ws.close();
    own.close();
    await sb.close();
    http.close();
  });

  test('a server created on a port answers plain GETs on its path with 426', async () => {
    const { sb, port } = await startServer();
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => request(`http://127.0.0.1:${port}/ws`, resolve).end());
    assert.equal(res.statusCode, 426);
    res.resume();
    await sb.close();
  });
});

describe('graceful shutdown', () => {
  test('in-flight requests get their replies, then clients are told 1001; new connections get 503', async () => {
    const { sb, url, port } = await startServer();
    // The handler finishes when the test says so: in flight for as long as the test needs, however slow the machine.
    let finish: ((value: string) => void) | undefined;
    sb.on('connection', (socket) => socket.on('slow', () => new Promise((r) => (finish = r))));
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'event', event: 'slow', ref: 1 });
    await eventually(() => finish !== undefined, 'the handler to start');
    const closing = sb.close({ deadline: 60_000 });
    c.send({ type: 'event', event: 'slow', ref: 2 });
    assert.equal(((await c.next({ ref: 2 })).error as { code: string }).code, 'shutting_down');
    assert.equal(c.ws.readyState, WebSocket.OPEN, 'not closed while a request is in flight');
    finish?.('finished');
    assert.equal((await c.next({ ref: 1 })).data, 'finished');
    assert.equal((await c.closed).code, 1001);
    await closing;
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), 'the server it created is closed');
  });

  test('handlers that outlive the deadline do not hold the shutdown', async () => {
    const http = createServer();
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const sb = new Switchboard(http);
    let handling = false;
    sb.on('connection', (socket) =>
      socket.on('forever', () => {
        handling = true;
        return new Promise(() => {});
      }),
    );
    const c = await BareClient.open(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`);
    await c.hello();
    c.send({ type: 'event', event: 'forever', ref: 1 });
    await eventually(() => handling, 'the handler to start');
    // The handler never settles: that close() resolves at all shows the deadline ended the wait.
    await sb.close({ deadline: 100 });
    assert.equal((await c.closed).code, 1001);
    assert.equal(c.frames.find((f) => f.ref === 1), undefined, 'no reply from the handler that never finished');
    assert.equal(http.listenerCount('upgrade'), 0, 'after close Switchboard has detached from the app server');
    http.close();
  });
});
