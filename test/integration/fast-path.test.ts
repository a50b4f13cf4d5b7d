import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket as NetSocket } from 'node:net';
import { describe, test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import type { Socket } from '../../src/server/index.js';
import { SharedFrame } from '../../src/transport/shared-frame.js';
import type { Transport } from '../../src/transport/transport.js';
import { WebSocketEndpoint } from '../../src/transport/websocket.js';
import { BareClient } from '../helpers/bare-client.js';
import { closePayload, encodeWireFrame, Opcode, RawWebSocket } from '../helpers/raw-websocket.js';
import { eventually, startServer } from '../helpers/server.js';

/**
 * The broadcast fast path: frames built once and written per socket in one write per
 * event-loop turn, straight to the socket. What must hold whatever the batching: the
 * order of send() calls per socket, intact frames of every length class, backpressure,
 * compression (which goes through ws), and nothing written after a close frame.
 */

type Frame = Record<string, unknown>;

/** A client that parses every frame itself (RFC 6455 by hand) and keeps them in order. */
async function rawClient(port: number, rooms: string[] = []): Promise<{ raw: RawWebSocket; frames: Frame[] }> {
  const raw = await RawWebSocket.open(port);
  const frames: Frame[] = [];
  raw.onText = (text) => frames.push(JSON.parse(text) as Frame);
  raw.sendJson({ type: 'hello', v: 1 });
  await eventually(() => frames.some((f) => f.type === 'welcome'), 'the welcome');
  rooms.forEach((room, i) => raw.sendJson({ type: 'join', ref: 100 + i, room }));
  await eventually(() => frames.filter((f) => f.type === 'reply').length === rooms.length, 'the join replies');
  frames.length = 0;
  return { raw, frames };
}

async function joinedBare(url: string, room: string, options?: { perMessageDeflate?: boolean }): Promise<BareClient> {
  const c = await openBare(url, options);
  await c.hello();
  c.send({ type: 'join', ref: 1, room });
  await c.next({ type: 'reply', ref: 1 });
  return c;
}

/** A BareClient, with ws's permessage-deflate offer switched as asked (ws offers it by default). */
async function openBare(url: string, options: { perMessageDeflate?: boolean } = {}): Promise<BareClient> {
  if (options.perMessageDeflate === undefined) return BareClient.open(url);
  const ws = new WebSocket(url, 'switchboard.v1', { perMessageDeflate: options.perMessageDeflate });
  const Ctor = BareClient as unknown as { new (ws: WebSocket): BareClient };
  const c = new Ctor(ws);
  await once(ws, 'open');
  return c;
}

/** Text frames that arrive after the server's close frame (there must be none). */
function textAfterClose(raw: RawWebSocket): string[] {
  const after: string[] = [];
  const received = raw.onText;
  raw.onText = (text) => {
    received(text);
    // isOpen turns false once the close frame has been read.
    if (!raw.isOpen) after.push(text);
  };
  return after;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A JSON frame of exactly `bytes` bytes of UTF-8 for event `event` in `room`, with multi-byte characters in it. */
function dataOfFrameSize(bytes: number, room: string, n: number): string {
  const wrapper = (data: string): number => Buffer.byteLength(JSON.stringify({ type: 'event', event: 'm', data: { n, s: data }, room }));
  // 2-, 3- and 4-byte characters first (when there is room), ASCII to fill up exactly.
  let s = wrapper('') + 9 <= bytes ? 'é€😀' : '';
  s += 'a'.repeat(Math.max(0, bytes - wrapper(s)));
  assert.equal(wrapper(s), bytes, `frame of ${bytes} bytes`);
  return s;
}

/** A bare WebSocketEndpoint on a real HTTP server, handing out its transports. */
async function endpointWithClient(): Promise<{ transport: Transport; client: WebSocket; texts: string[]; stop: () => Promise<void> }> {
  const endpoint = new WebSocketEndpoint({ maxMessageBytes: 1 << 20, perMessageDeflate: false });
  const server = createServer();
  let accepted: ((t: Transport) => void) | undefined;
  const transport = new Promise<Transport>((resolve) => (accepted = resolve));
  server.on('upgrade', (req, socket, head) => endpoint.upgrade(req, socket, head, '127.0.0.1', (t) => accepted?.(t)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, 'switchboard.v1');
  const texts: string[] = [];
  client.on('message', (data) => texts.push(String(data)));
  const t = await transport;
  t.attach({ onFrame: () => {}, onPong: () => {}, onClose: () => {} });
  await once(client, 'open');
  return {
    transport: t,
    client,
    texts,
    stop: async () => {
      client.terminate();
      endpoint.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('WebSocket transport', () => {
  test('frames sent in a turn count in bufferedAmount until they are written, and leave in order', async () => {
    const { transport, client, texts, stop } = await endpointWithClient();
    const shared = new SharedFrame('"shared é"');
    assert.equal(transport.bufferedAmount, 0);
    transport.send('"one"');
    transport.send(shared);
    transport.send('"three"');
    assert.ok(transport.bufferedAmount >= 2 + 5 + shared.wire.length + 2 + 7, `queued bytes are counted (${transport.bufferedAmount})`);
    await eventually(() => texts.length === 3, 'the three frames');
    assert.deepEqual(texts, ['"one"', '"shared é"', '"three"']);
    assert.equal(transport.bufferedAmount, 0, 'nothing waits once written');
    assert.equal(client.readyState, WebSocket.OPEN);
    await stop();
  });

  test("a client's WebSocket pings are answered with its payload", async () => {
    const { client, stop } = await endpointWithClient();
    const pongs: string[] = [];
    client.on('pong', (data) => pongs.push(String(data)));
    client.ping('one');
    client.ping('two');
    await eventually(() => pongs.length === 2, 'two pongs');
    assert.deepEqual(pongs, ['one', 'two']);
    await stop();
  });

  test('built frames: header and payload are what RFC 6455 asks for at every length class', () => {
    for (const length of [0, 1, 125, 126, 127, 65535, 65536, 70_000]) {
      const text = 'é'.repeat(Math.floor(length / 2)) + 'a'.repeat(length % 2);
      const frame = new SharedFrame(text);
      const wire = frame.wire;
      assert.equal(wire[0], 0x81, 'FIN + text, no RSV bits');
      const code = (wire[1] as number) & 0x7f;
      assert.equal((wire[1] as number) & 0x80, 0, 'unmasked');
      const declared = code < 126 ? code : code === 126 ? wire.readUInt16BE(2) : Number(wire.readBigUInt64BE(2));
      assert.equal(declared, length);
      assert.equal(frame.length, length);
      assert.equal(code < 126 ? 2 : code === 126 ? 4 : 10, wire.length - length, `header of the ${length}-byte frame`);
      assert.equal(frame.payload.toString(), text);
    }
  });
});

describe('broadcast fast path', () => {
  test('per socket, frames leave in the order of the sends: broadcasts, direct emits and replies, within and across turns', async () => {
    const { sb, port } = await startServer();
    const sockets: Socket[] = [];
    sb.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('go', () => {
        sb.to('r').emit('seq', 1);
        socket.emit('seq', 2);
        sb.to(['r', 'other']).emit('seq', 3);
        sb.emit('seq', 4);
        socket.volatile.emit('seq', 5);
        queueMicrotask(() => sb.to('r').emit('seq', 7)); // after the reply, same turn
        setImmediate(() => {
          socket.emit('seq', 8);
          sb.to('r').emit('seq', 9);
          setTimeout(() => sb.to('r').emit('seq', 10), 5);
        });
        return 6; // the reply
      });
    });
    const a = await rawClient(port, ['r']);
    const b = await rawClient(port, ['r', 'other']);
    a.raw.sendJson({ type: 'event', event: 'go', ref: 1 });
    await eventually(() => a.frames.some((f) => f.data === 10) && b.frames.some((f) => f.data === 10), 'the last frame');
    const order = (frames: Frame[]): unknown[] => frames.map((f) => (f.type === 'reply' ? `reply ${f.data}` : f.data));
    assert.deepEqual(order(a.frames), [1, 2, 3, 4, 5, 'reply 6', 7, 8, 9, 10]);
    assert.deepEqual(order(b.frames), [1, 3, 4, 7, 9, 10], 'each frame once, in order, also when two target rooms hold the socket');
    a.raw.destroy();
    b.raw.destroy();
    await sb.close();
  });

  test('many frames per turn to many sockets arrive intact: UTF-8, and lengths across the 125/126 and 65535/65536 boundaries', async () => {
    const { sb, url, port } = await startServer();
    const sizes = [80, 125, 126, 127, 1000, 16 * 1024, 65535, 65536, 70_000];
    const expected: string[] = [];
    const bare = await Promise.all(Array.from({ length: 8 }, () => joinedBare(url, 'm')));
    const raw = await Promise.all(Array.from({ length: 4 }, () => rawClient(port, ['m'])));
    let n = 0;
    for (let turn = 0; turn < 3; turn++) {
      for (let k = 0; k < 40; k++) {
        const size = sizes[(turn * 40 + k) % sizes.length] as number;
        const s = dataOfFrameSize(size, 'm', n);
        expected.push(s);
        sb.to('m').emit('m', { n: n++, s });
      }
      await nextTurn();
    }
    const events = (frames: Frame[]): Frame[] => frames.filter((f) => f.type === 'event');
    await eventually(() => bare.every((c) => events(c.frames).length === n) && raw.every((c) => events(c.frames).length === n), `${n} frames at every client`, 10_000);
    for (const frames of [...bare.map((c) => c.frames), ...raw.map((c) => c.frames)]) {
      const got = events(frames);
      for (let i = 0; i < n; i++) {
        const data = (got[i] as Frame).data as { n: number; s: string };
        assert.equal(data.n, i);
        assert.equal(data.s, expected[i]);
      }
    }
    for (const c of bare) c.close();
    for (const c of raw) c.raw.destroy();
    await sb.close();
  });

  test('a consumer that stops reading: volatile events are skipped for it while others get all; in a durable room it is cut off with 4009', async () => {
    const { sb, url } = await startServer({ maxBufferedBytes: 256 * 1024 });
    sb.durable('d');
    const sockets = new Map<string, Socket>();
    const reasons: string[] = [];
    sb.on('connection', (socket) => {
      sockets.set(socket.id, socket);
      socket.on('disconnect', (r) => reasons.push(r));
    });
    const slow = await joinedBare(url, 'v');
    const fast = await joinedBare(url, 'v');
    const slowSocket = [...sockets.values()][0] as Socket;
    (slow.ws as unknown as { _socket: NetSocket })._socket.pause();
    // Fill the slow peer's buffers until a volatile emit to it is skipped.
    const blob = 'v'.repeat(8 * 1024);
    let sent = 0;
    for (let turn = 0; turn < 2000 && slowSocket.volatile.emit('probe', 0); turn++) {
      for (let k = 0; k < 8; k++) sb.volatile.to('v').emit('v', { n: sent++, blob });
      await nextTurn();
    }
    assert.equal(slowSocket.volatile.emit('probe', 0), false, 'the slow socket is backed up');
    for (let k = 0; k < 20; k++) sb.volatile.to('v').emit('v', { n: sent++, blob });
    await eventually(() => fast.frames.filter((f) => f.event === 'v').length === sent, 'every volatile event at the reading client', 10_000);
    const fastNs = fast.frames.filter((f) => f.event === 'v').map((f) => (f.data as { n: number }).n);
    assert.deepEqual(fastNs, Array.from({ length: sent }, (_, i) => i));

    // Reading again, the slow client gets its backlog up to a marker sent after the last volatile event.
    slowSocket.emit('marker', 0);
    (slow.ws as unknown as { _socket: NetSocket })._socket.resume();
    await slow.next({ event: 'marker' }, 10_000);
    const slowNs = slow.frames.filter((f) => f.event === 'v').map((f) => (f.data as { n: number }).n);
    assert.ok(slowNs.length < sent, `volatile events were skipped for the slow client (${slowNs.length} of ${sent})`);
    assert.deepEqual(slowNs, [...slowNs].sort((x, y) => x - y), 'what it got is in order');
    // Now in a durable room, and not reading again: publications pass the cap.
    slow.send({ type: 'join', ref: 2, room: 'd' });
    await slow.next({ type: 'reply', ref: 2 });
    (slow.ws as unknown as { _socket: NetSocket })._socket.pause();
    const closed = slow.closed;
    for (let i = 0; i < 1000 && !reasons.includes('slow_consumer'); i++) {
      for (let k = 0; k < 4; k++) void sb.to('d').publish('d', blob);
      await nextTurn();
    }
    await eventually(() => reasons.includes('slow_consumer'), 'the slow consumer to be cut off', 5000);
    (slow.ws as unknown as { _socket: NetSocket })._socket.resume();
    const { code } = await closed;
    assert.ok(code === 4009 || code === 1006, `closed with 4009 (or 1006 if it never read the close frame), got ${code}`);
    assert.equal(fast.ws.readyState, WebSocket.OPEN, 'the reading client stays');
    fast.close();
    await sb.close();
  });

  test('with permessage-deflate negotiated, frames go through ws and still arrive compressed, intact and in order', async () => {
    const { sb, url } = await startServer({ perMessageDeflate: true });
    sb.on('connection', (socket) => {
      socket.on('go', () => {
        sb.to('z').emit('z', { n: 1, s: 'é€😀'.repeat(50) });
        socket.emit('z', { n: 2 });
        sb.to('z').emit('z', { n: 3, s: 'x'.repeat(70_000) });
        return 4;
      });
    });
    const a = await joinedBare(url, 'z', { perMessageDeflate: true });
    const b = await joinedBare(url, 'z', { perMessageDeflate: false });
    assert.match(a.ws.extensions, /permessage-deflate/);
    assert.equal(b.ws.extensions, '');
    a.send({ type: 'event', event: 'go', ref: 2 });
    await a.next({ type: 'reply', ref: 2 });
    const got = (c: BareClient): unknown[] => c.frames.filter((f) => f.event === 'z').map((f) => (f.data as { n: number }).n);
    assert.deepEqual(got(a), [1, 2, 3], 'the reply came after the three events');
    await eventually(() => got(b).length === 2, 'both broadcasts at the uncompressed client');
    assert.deepEqual(got(b), [1, 3]);
    const big = b.frames.find((f) => (f.data as { n: number } | undefined)?.n === 3)?.data as { s: string };
    assert.equal(big.s.length, 70_000);
    a.close();
    b.close();
    await sb.close();
  });

  test('frames queued before a close leave before the close frame; nothing is written after one', async () => {
    const { sb, port } = await startServer();
    sb.on('connection', (socket) => {
      socket.on('bye', () => {
        socket.emit('last', 1);
        socket.emit('last', 2);
        socket.disconnect(true); // a disconnect frame, then close 1000, in this turn
        sb.to('r').emit('after', 3); // it left the room: not sent
      });
      socket.on('fill', () => {
        const blob = 'f'.repeat(64 * 1024);
        for (let i = 0; i < 1000 && socket.volatile.emit('fill', blob); i++);
        filled = true;
      });
      socket.on('late', () => {
        sb.to('r').emit('late', 1); // queued; the client's close frame follows in the same chunk
        lateHandled = true;
      });
    });
    let filled = false;
    let lateHandled = false;

    // Server-initiated close: what was sent before it is written first, in order.
    const a = await rawClient(port, ['r']);
    const afterCloseA = textAfterClose(a.raw);
    a.raw.sendJson({ type: 'event', event: 'bye' });
    const closeA = await a.raw.closed;
    assert.equal(closeA.code, 1000);
    assert.deepEqual(a.frames.map((f) => (f.type === 'event' ? f.data : f.type)), [1, 2, 'disconnect']);
    assert.deepEqual(afterCloseA, []);

    // The client closes while the server's socket is backed up: ws's answering close frame
    // waits in the socket's buffer, the socket stays writable, and a frame queued in the same
    // turn (by an event that came in the same chunk as the close) must not be written after it.
    const b = await rawClient(port, ['r']);
    const afterClose = textAfterClose(b.raw);
    const bSocket = (b.raw as unknown as { socket: NetSocket }).socket;
    bSocket.pause();
    b.raw.sendJson({ type: 'event', event: 'fill' });
    await eventually(() => filled, 'the server socket to back up');
    b.raw.write(
      Buffer.concat([
        encodeWireFrame({ opcode: Opcode.Text, payload: Buffer.from(JSON.stringify({ type: 'event', event: 'late' })) }),
        encodeWireFrame({ opcode: Opcode.Close, payload: closePayload(1000) }),
      ]),
    );
    await eventually(() => lateHandled, 'the late event');
    await nextTurn();
    await nextTurn();
    bSocket.resume();
    const closeB = await b.raw.closed;
    assert.equal(closeB.code, 1000, 'the server answered the close');
    assert.deepEqual(afterClose, [], 'no frame after the close frame');
    assert.ok(b.frames.every((f) => f.event === 'fill'), 'the late event was dropped, not written after the close');
    await sb.close();
  });
});
