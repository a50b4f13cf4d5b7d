import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ReplyError, type Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { startServer } from '../helpers/server.js';

// Drives the server with raw frames exactly as docs/PROTOCOL.md describes, no SDK code.
describe('a bare WebSocket client speaking docs/PROTOCOL.md', () => {
  let sb: Switchboard;
  let url: string;

  before(async () => {
    ({ sb, url } = await startServer());
    sb.on('connection', (socket) => {
      socket.on('add', (data: { a: number; b: number }) => data.a + data.b);
      socket.on('fail', () => {
        throw new ReplyError('out_of_stock', 'no more widgets');
      });
      socket.on('crash', () => {
        throw new Error('database password is hunter2');
      });
      socket.on('say', (text: string) => {
        sb.to('lobby').emit('said', { text });
      });
    });
    sb.on('error', () => {});
  });
  after(() => sb.close());

  test('handshake, join a room, receive a broadcast, request and reply', async () => {
    const c = await BareClient.open(url);
    assert.equal(c.ws.protocol, 'switchboard.v1');
    const welcome = await c.hello({ auth: { token: 't' } });
    assert.equal(welcome.v, 1);
    assert.equal(typeof welcome.sid, 'string');
    assert.match(String(welcome.resume), /^[\w-]{32}$/, 'a resume token');
    assert.equal(welcome.resumed, false);
    assert.deepEqual(welcome.heartbeat, { interval: 25000, timeout: 20000 });
    assert.deepEqual(welcome.limits, {
      maxMessageBytes: 65536,
      frameRate: { perSecond: 100, burst: 200 },
      maxQueuedFrames: 256,
      maxPendingRequests: 100,
      maxRoomsPerSocket: 1000,
      dedupeWindow: 1000,
      maxUnackedFrames: 1000,
      maxUnackedBytes: 1024 * 1024,
      resumeTtl: 120000,
      resumeLogBytes: 64 * 1024 * 1024,
    });

    c.send({ type: 'join', ref: 1, room: 'lobby' });
    assert.deepEqual(await c.next({ type: 'reply', ref: 1 }), { type: 'reply', ref: 1, data: { room: 'lobby' } });

    sb.to('lobby').emit('news', { n: 1 });
    assert.deepEqual(await c.next({ type: 'event' }), { type: 'event', event: 'news', data: { n: 1 }, room: 'lobby' });

    c.send({ type: 'event', event: 'add', data: { a: 2, b: 3 }, ref: 2 });
    assert.deepEqual(await c.next({ type: 'reply', ref: 2 }), { type: 'reply', ref: 2, data: 5 });
    c.close();
  });

  test('handler errors: ReplyError reaches the client, other errors do not leak', async () => {
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'event', event: 'fail', ref: 7 });
    assert.deepEqual((await c.next({ ref: 7 })).error, { code: 'out_of_stock', message: 'no more widgets' });
    c.send({ type: 'event', event: 'crash', ref: 8 });
    const crash = (await c.next({ ref: 8 })).error as { code: string; message: string };
    assert.equal(crash.code, 'internal_error');
    assert.doesNotMatch(crash.message, /hunter2/);
    c.send({ type: 'event', event: 'nobody-listens', ref: 9 });
    assert.equal(((await c.next({ ref: 9 })).error as { code: string }).code, 'no_handler');
    c.close();
  });

  test('malformed, unknown and invalid frames get documented codes and the connection stays open', async () => {
    const c = await BareClient.open(url);
    await c.hello();
    c.send('{not json');
    assert.equal((await c.next({ type: 'error' })).code, 'malformed_frame');
    c.send('[1,2,3]');
    assert.equal((await c.next({ type: 'error' })).code, 'malformed_frame');
    c.send({ type: 'teleport' });
    assert.equal((await c.next({ type: 'error' })).code, 'unknown_frame_type');
    c.send({ type: 'teleport', ref: 4 });
    assert.equal(((await c.next({ type: 'reply', ref: 4 })).error as { code: string }).code, 'unknown_frame_type');
    c.send({ type: 'event', event: 42, ref: 5 });
    assert.equal(((await c.next({ type: 'reply', ref: 5 })).error as { code: string }).code, 'bad_request');
    c.send({ type: 'event', event: 'disconnect', ref: 6 });
    assert.equal(((await c.next({ type: 'reply', ref: 6 })).error as { code: string }).code, 'bad_request');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await c.next({ type: 'error' })).code, 'malformed_binary', 'a binary message too short for its header length');
    c.send({ type: 'event', event: 'add', data: { a: 1, b: 1 }, ref: 10 });
    assert.equal((await c.next({ type: 'reply', ref: 10 })).data, 2);
    c.close();
  });

  test('a frame before hello is a bad handshake: error frame, then close 4000', async () => {
    const c = await BareClient.open(url);
    c.send({ type: 'join', ref: 1, room: 'x' });
    assert.equal((await c.next({ type: 'error' })).code, 'bad_handshake');
    assert.equal((await c.closed).code, 4000);
  });

  test('a newer protocol version is refused with 4003 and a message saying what to upgrade', async () => {
    const c = await BareClient.open(url);
    c.send({ type: 'hello', v: 2 });
    const error = await c.next({ type: 'error' });
    assert.equal(error.code, 'unsupported_version');
    assert.match(String(error.message), /upgrade the server/);
    assert.equal((await c.closed).code, 4003);
  });

  test('app-level ping is answered with pong', async () => {
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'ping' });
    assert.deepEqual(await c.next({ type: 'pong' }), { type: 'pong' });
    c.close();
  });
});
