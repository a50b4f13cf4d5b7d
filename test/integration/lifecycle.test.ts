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
    const { sb, url } = await startServer({ heartbeat: { interval: 60, timeout: 200 } });
    const c = await BareClient.open(url);
    const wsPing = once(c.ws, 'ping');
    const welcome = await c.hello();
    assert.deepEqual(welcome.heartbeat, { interval: 60, timeout: 200 });
    await c.next({ type: 'ping' });
    await wsPing;
    c.close();
    await sb.close();
  });

  test('a peer that stops answering is dropped within interval + timeout + a tick, and its rooms cleaned', async () => {
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
    const started = Date.now();
    await eventually(() => sb.connectionCount === 0, 'the dead peer to be dropped', 2000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 100, `dropped too early (${elapsed} ms): a silent peer gets interval + timeout`);
    assert.deepEqual(reasons, ['heartbeat_timeout']);
    assert.equal(sb.sockets.rooms.members('r'), undefined);
    c.ws.terminate();
    await sb.close();
  });

  test('a peer that answers app pings stays connected past many intervals', async () => {
    const { sb, url } = await startServer({ heartbeat: { interval: 30, timeout: 30 } });
    const c = await BareClient.open(url);
    await c.hello();
    const answer = setInterval(() => {
      for (const f of c.frames.splice(0)) if (f.type === 'ping') c.send({ type: 'pong' });
    }, 5);
    await new Promise((r) => setTimeout(r, 400));
    clearInterval(answer);
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
    sb.on('connection', (socket) => socket.on('slow', () => new Promise((r) => setTimeout(() => r('finished'), 150))));
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'event', event: 'slow', ref: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const closing = sb.close({ deadline: 2000 });
    await new Promise((r) => setTimeout(r, 20));
    c.send({ type: 'event', event: 'slow', ref: 2 });
    assert.equal(((await c.next({ ref: 2 })).error as { code: string }).code, 'shutting_down');
    assert.equal((await c.next({ ref: 1 })).data, 'finished');
    assert.equal((await c.closed).code, 1001);
    await closing;
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), 'the server it created is closed');
  });

  test('handlers that outlive the deadline do not hold the shutdown', async () => {
    const http = createServer();
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const sb = new Switchboard(http);
    sb.on('connection', (socket) => socket.on('forever', () => new Promise(() => {})));
    const c = await BareClient.open(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`);
    await c.hello();
    c.send({ type: 'event', event: 'forever', ref: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await sb.close({ deadline: 100 });
    assert.ok(Date.now() - started < 1500);
    assert.equal((await c.closed).code, 1001);
    assert.equal(http.listenerCount('upgrade'), 0, 'after close Switchboard has detached from the app server');
    http.close();
  });
});
