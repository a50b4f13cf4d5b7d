/**
 * The Engine.IO server's HTTP answers, by raw requests: refusals with engine.io's codes and
 * messages (compared with the real `engine.io` package), Switchboard's own reasons in
 * `context`, batched polling, the limits on POSTs and polls, CORS, admission, and the
 * socket.io-client bundles.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Server as EngineIoServer } from 'engine.io';
import { Socket } from 'engine.io-client';
import { WebSocket } from 'ws';
import { SocketIoClientBundle } from '../../src/compat/socketio/engine-client-bundle.js';
import { Cors } from '../../src/server/cors.js';
import { eventually, GOOD_ORIGIN, raw, rawHandshake, startEngine, type EngineFixture } from '../helpers/engine-host.js';

const ENGINE = '/socket.io/';

describe('Engine.IO answers compared with the engine.io package', () => {
  let fixture: EngineFixture;
  let reference: Server;
  let referenceBase: string;
  before(async () => {
    fixture = await startEngine();
    reference = createServer();
    new EngineIoServer().attach(reference, { path: ENGINE });
    await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
    referenceBase = `http://127.0.0.1:${(reference.address() as AddressInfo).port}`;
  });
  after(async () => {
    await fixture.stop();
    reference.closeAllConnections();
    await new Promise<void>((resolve) => reference.close(() => resolve()));
  });

  const cases: [string, string, { method?: string }?][] = [
    ['bad EIO', '?EIO=3&transport=polling'],
    ['missing EIO', '?transport=polling'],
    ['unknown sid', '?EIO=4&transport=polling&sid=nope'],
    ['unknown transport', '?EIO=4&transport=carrier-pigeon'],
    ['missing transport', '?EIO=4'],
    ['a handshake that is not a GET', '?EIO=4&transport=polling', { method: 'PUT' }],
    ['a WebSocket handshake without an upgrade', '?EIO=4&transport=websocket'],
  ];
  for (const [what, query, init] of cases) {
    test(`${what}: the same status and body as engine.io`, async () => {
      const ours = await raw(`${fixture.base}${ENGINE}${query}`, init);
      const theirs = await raw(`${referenceBase}${ENGINE}${query}`, init);
      assert.equal(ours.status, theirs.status);
      assert.deepEqual(JSON.parse(ours.body), JSON.parse(theirs.body));
      assert.match(String(ours.headers['content-type']), /^application\/json/);
    });
  }

  test('a handshake answers as engine.io does, the sid aside', async () => {
    const ours = await raw(`${fixture.base}${ENGINE}?EIO=4&transport=polling`);
    const theirs = await raw(`${referenceBase}${ENGINE}?EIO=4&transport=polling`);
    assert.equal(ours.status, theirs.status);
    assert.equal(ours.headers['content-type'], theirs.headers['content-type']);
    const strip = (body: string) => ({ ...(JSON.parse(body.slice(1)) as Record<string, unknown>), sid: undefined, maxPayload: undefined, pingInterval: undefined, pingTimeout: undefined });
    assert.deepEqual(strip(ours.body), strip(theirs.body));
  });
});

describe('Engine.IO polling by hand', () => {
  let fixture: EngineFixture;
  before(async () => {
    fixture = await startEngine({ settings: { maxPayload: 1000 } });
  });
  after(async () => {
    await fixture.stop();
    assert.deepEqual(fixture.errors, []);
  });
  const url = (sid: string) => `${fixture.base}${ENGINE}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
  const logOf = (sid: string) => fixture.connections.find((c) => c.connection.id === sid) as NonNullable<EngineFixture['connections'][number]>;

  test('packets queued in one turn leave in one poll answer; a POST carries a batch up', async () => {
    const sid = await rawHandshake(fixture.base);
    const log = logOf(sid);
    log.connection.sendText('4one');
    log.connection.sendBinary(new Uint8Array([1, 2, 3]));
    log.connection.sendText('4three');
    const poll = await raw(url(sid));
    assert.equal(poll.status, 200);
    assert.equal(poll.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.equal(poll.body, '4one\x1ebAQID\x1e4three');
    const post = await raw(url(sid), { method: 'POST', body: '4a\x1ebBAU=\x1e4c' });
    assert.equal(post.status, 200);
    assert.equal(post.body, 'ok');
    assert.equal(post.headers['content-type'], 'text/html');
    assert.deepEqual(log.messages.map((m) => (typeof m === 'string' ? m : [...m])), ['a', [4, 5], 'c']);
    const echoes = await raw(url(sid));
    assert.equal(echoes.body, '4a\x1ebBAU=\x1e4c');
    log.connection.close();
    assert.equal((await raw(url(sid))).body, '1', 'the close packet waits for the next poll');
    assert.equal((await raw(url(sid))).status, 400, 'then the sid is gone');
  });

  test('a client ping gets a pong', async () => {
    const sid = await rawHandshake(fixture.base);
    await raw(url(sid), { method: 'POST', body: '2hello' });
    assert.equal((await raw(url(sid))).body, '3hello');
    logOf(sid).connection.terminate();
  });

  test('a POST over maxPayload: 413 and the connection closes with transport error', async () => {
    const sid = await rawHandshake(fixture.base);
    const answer = await raw(url(sid), { method: 'POST', body: `4${'x'.repeat(1000)}` });
    assert.equal(answer.status, 413);
    assert.deepEqual(JSON.parse(answer.body), { code: 3, message: 'Bad request', context: { code: 'message_too_big', message: 'the body is larger than maxPayload (1000 bytes); the connection is closed' } });
    assert.equal(logOf(sid).closed, 'transport error');
  });

  for (const [what, body] of [
    ['an unknown packet type', '9x'],
    ['bad base64', 'b!!!'],
    ['an empty packet in a batch', '4a\x1e\x1e4b'],
  ] as const) {
    test(`a malformed payload (${what}): 400 and the connection closes with parse error`, async () => {
      const sid = await rawHandshake(fixture.base);
      const answer = await raw(url(sid), { method: 'POST', body });
      assert.equal(answer.status, 400);
      const parsed = JSON.parse(answer.body) as { code: number; context: { code: string } };
      assert.equal(parsed.code, 3);
      assert.equal(parsed.context.code, 'bad_request');
      assert.equal(logOf(sid).closed, 'parse error');
      assert.deepEqual(logOf(sid).messages, [], 'nothing of a bad payload is delivered');
    });
  }

  test('two concurrent polls: the later is refused, the held one gets the close packet', async () => {
    const sid = await rawHandshake(fixture.base);
    // Both are held (nothing is queued for a poll), whichever arrives first.
    const answers = await Promise.all([raw(url(sid)), raw(url(sid))]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400]);
    assert.equal(answers.find((a) => a.status === 200)?.body, '1');
    assert.equal(logOf(sid).closed, 'transport error');
  });

  test('a poll for a connection that moved to WebSocket is a bad request (code 3)', async () => {
    const socket = new Socket(fixture.base, { path: ENGINE, transports: ['polling', 'websocket'] });
    await new Promise<void>((resolve) => socket.once('upgrade', () => resolve()));
    const answer = await raw(url(socket.id as string));
    assert.equal(answer.status, 400);
    assert.deepEqual(JSON.parse(answer.body), { code: 3, message: 'Bad request' });
    socket.close();
  });

  test('a refused origin gets 403 code 4 with context, readable, and is reported', async () => {
    const answer = await raw(`${fixture.base}${ENGINE}?EIO=4&transport=polling`, { headers: { Origin: 'http://evil.example' } });
    assert.equal(answer.status, 403);
    assert.deepEqual(JSON.parse(answer.body), { code: 4, message: 'Forbidden', context: { code: 'origin_not_allowed', message: 'http://evil.example is not an allowed origin' } });
    assert.equal(answer.headers['access-control-allow-origin'], 'http://evil.example');
    const refusal = fixture.refusals.at(-1);
    assert.equal(refusal?.code, 'origin_not_allowed');
    assert.equal(refusal?.origin, 'http://evil.example');
    assert.equal(refusal?.transport, 'polling');
  });

  test('an allowed origin gets CORS headers with credentials; a preflight is answered', async () => {
    const answer = await raw(`${fixture.base}${ENGINE}?EIO=4&transport=polling`, { headers: { Origin: GOOD_ORIGIN } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], GOOD_ORIGIN);
    assert.equal(answer.headers['access-control-allow-credentials'], 'true');
    const preflight = await raw(`${fixture.base}${ENGINE}?EIO=4&transport=polling`, {
      method: 'OPTIONS',
      headers: { Origin: GOOD_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], GOOD_ORIGIN);
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    fixture.connections.at(-1)?.connection.terminate();
  });

  test('a WebSocket from a refused origin is refused with 403 before the upgrade', async () => {
    const socket = new Socket(fixture.base, { path: ENGINE, transports: ['websocket'], extraHeaders: { Origin: 'http://evil.example' } });
    const error = await new Promise<string | Error>((resolve) => socket.once('error', resolve));
    assert.ok(error);
    await eventually(() => fixture.refusals.some((r) => r.transport === 'websocket' && r.code === 'origin_not_allowed'), 'the report');
    socket.close();
  });
});

describe('Engine.IO admission', () => {
  test('per-IP limit: 429 code 4 with too_many_connections, until a connection closes', async () => {
    const fixture = await startEngine({ maxConnectionsPerIp: 2 });
    const a = await rawHandshake(fixture.base);
    await rawHandshake(fixture.base);
    const refused = await raw(`${fixture.base}${ENGINE}?EIO=4&transport=polling`);
    assert.equal(refused.status, 429);
    const body = JSON.parse(refused.body) as { code: number; message: string; context: { code: string } };
    assert.equal(body.code, 4);
    assert.equal(body.message, 'Forbidden');
    assert.equal(body.context.code, 'too_many_connections');
    assert.ok(refused.headers['retry-after']);
    assert.equal(fixture.refusals.at(-1)?.code, 'too_many_connections');
    fixture.connections.find((c) => c.connection.id === a)?.connection.terminate();
    await rawHandshake(fixture.base);
    await fixture.stop();
  });

  test('server full: 503 with server_full', async () => {
    const fixture = await startEngine({ maxConnections: 1 });
    await rawHandshake(fixture.base);
    const refused = await raw(`${fixture.base}${ENGINE}?EIO=4&transport=polling`);
    assert.equal(refused.status, 503);
    assert.equal((JSON.parse(refused.body) as { context: { code: string } }).context.code, 'server_full');
    await fixture.stop();
  });

  test('a transport the server does not offer: code 0 with transport_disabled', async () => {
    const fixture = await startEngine({ settings: { transports: ['websocket'] } });
    const refused = await raw(`${fixture.base}${ENGINE}?EIO=4&transport=polling`);
    assert.equal(refused.status, 400);
    assert.equal((JSON.parse(refused.body) as { code: number; context: { code: string } }).context.code, 'transport_disabled');
    await fixture.stop();
  });
});

describe('socket.io-client bundles under the path', () => {
  let fixture: EngineFixture;
  before(async () => {
    fixture = await startEngine();
  });
  after(() => fixture.stop());

  for (const name of ['socket.io.js', 'socket.io.min.js', 'socket.io.esm.min.js', 'socket.io.min.js.map']) {
    test(`${name}: served with an ETag, then 304`, async () => {
      const first = await raw(`${fixture.base}${ENGINE}${name}`);
      assert.equal(first.status, 200);
      assert.match(String(first.headers['content-type']), name.endsWith('.map') ? /^application\/json/ : /^application\/javascript/);
      assert.equal(first.headers['cache-control'], 'public, max-age=0');
      const etag = String(first.headers.etag);
      assert.match(etag, /^"4\.\d+\.\d+"$/);
      assert.ok(first.body.length > 1000);
      const again = await raw(`${fixture.base}${ENGINE}${name}`, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.body, '');
    });
  }

  test('the msgpack bundle is not served (this server speaks no msgpack)', async () => {
    const answer = await raw(`${fixture.base}${ENGINE}socket.io.msgpack.min.js`);
    assert.equal(answer.status, 404);
  });

  test('without socket.io-client installed: 404 that says to install it', async () => {
    const bundle = new SocketIoClientBundle({ path: ENGINE, cors: Cors.anyOrigin(), find: () => undefined });
    const server = createServer((req, res) => {
      if (!bundle.handle(req, res)) res.end('app');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const answer = await raw(`http://127.0.0.1:${(server.address() as AddressInfo).port}${ENGINE}socket.io.min.js`);
    assert.equal(answer.status, 404);
    assert.match(answer.body, /npm install socket\.io-client/);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('Engine.IO upgrade by hand', () => {
  test('after 2probe a held poll is let go with a noop; a probe that never sends 5 is closed after upgradeTimeout and polling goes on', async () => {
    const fixture = await startEngine({ settings: { upgradeTimeout: 150 } });
    const sid = await rawHandshake(fixture.base);
    const url = `${fixture.base}${ENGINE}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    const held = raw(url);
    const ws = new WebSocket(`ws://127.0.0.1:${fixture.port}${ENGINE}?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`);
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    const probeAnswer = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('2probe');
    assert.equal(await probeAnswer, '3probe');
    assert.equal((await held).body, '6', 'the client can pause polling');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    assert.equal(await closed, 1000);
    const log = fixture.connections[0];
    assert.equal(log?.connection.transport, 'polling');
    assert.equal(log?.connection.isOpen, true);
    log?.connection.sendText('4still here');
    assert.equal((await raw(url)).body, '4still here');
    // A second WebSocket for a connection already upgrading or upgraded is refused; here it may try again.
    const again = new WebSocket(`ws://127.0.0.1:${fixture.port}${ENGINE}?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`);
    await new Promise<void>((resolve) => again.once('open', () => resolve()));
    const refused = new WebSocket(`ws://127.0.0.1:${fixture.port}${ENGINE}?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`);
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 400);
    again.send('5');
    await eventually(() => log?.connection.transport === 'websocket', 'the upgrade');
    const message = new Promise<string>((resolve) => again.once('message', (data) => resolve(String(data))));
    log?.connection.sendText('4on ws');
    assert.equal(await message, '4on ws');
    again.close();
    await eventually(() => log?.closed !== undefined, 'close');
    await fixture.stop();
    assert.deepEqual(fixture.errors, []);
  });
});
