/**
 * Binary data (docs/PROTOCOL.md, "Binary data") against a real server: binary WebSocket
 * messages both ways for a client that asked for them (checked byte by byte, decoded here
 * from the spec alone), the text form for everyone else (a WebSocket client that did not
 * ask, long-polling, SSE), order with text frames, durable rooms (history and replay),
 * reliable publishes, two nodes on Redis and the Emitter, the size limit, refusals of
 * malformed binary messages, and the SDK end to end on a WebSocket and on a fallback.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { connect } from '../../src/client/node.js';
import type { SwitchboardClient } from '../../src/client/node.js';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;

/** One message as it came: a text frame's JSON, or a binary message taken apart by the spec's layout. */
interface Received {
  binary: boolean;
  raw: Buffer;
  frame: Frame;
  attachments: Buffer[];
}

/** A binary message as PROTOCOL.md lays it out: u32 header length, header JSON, then u32 length + bytes per attachment. */
function binaryMessage(header: Frame, attachments: Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const parts: Buffer[] = [u32(json.length), json];
  for (const a of attachments) parts.push(u32(a.length), Buffer.from(a));
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function parseBinary(raw: Buffer): { frame: Frame; attachments: Buffer[] } {
  const headerLength = raw.readUInt32BE(0);
  const frame = JSON.parse(raw.subarray(4, 4 + headerLength).toString()) as Frame;
  const attachments: Buffer[] = [];
  let at = 4 + headerLength;
  while (at < raw.length) {
    const length = raw.readUInt32BE(at);
    attachments.push(raw.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { frame, attachments };
}

/** A client that knows nothing but docs/PROTOCOL.md, and reads binary messages too. */
class WireClient {
  readonly messages: Received[] = [];
  private waiters: { test: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const m: Received = binary ? { binary, raw: data, ...parseBinary(data) } : { binary, raw: data, frame: JSON.parse(String(data)) as Frame, attachments: [] };
      const waiter = this.waiters.find((w) => w.test(m));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(m);
      } else this.messages.push(m);
    });
    this.closed = once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  }

  static async open(url: string): Promise<WireClient> {
    const ws = new WebSocket(url, 'switchboard.v1');
    const client = new WireClient(ws);
    await once(ws, 'open');
    return client;
  }

  send(frame: Frame | Buffer): void {
    this.ws.send(Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  next(match: Frame, ms = 10_000): Promise<Received> {
    const test = (m: Received): boolean => Object.entries(match).every(([k, v]) => m.frame[k] === v);
    const seen = this.messages.find(test);
    if (seen) {
      this.messages.splice(this.messages.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message matching ${JSON.stringify(match)} within ${ms} ms`)), ms);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  async hello(extra: Frame = {}): Promise<Frame> {
    this.send({ type: 'hello', v: 1, ...extra });
    return (await this.next({ type: 'welcome' })).frame;
  }

  close(): void {
    this.ws.close();
  }
}

const BYTES = Uint8Array.from([0, 1, 2, 253, 254, 255]);
const B64 = Buffer.from(BYTES).toString('base64');

describe('binary data on the wire', () => {
  test('WebSocket, opted in: binary messages both ways, byte for byte; the server handler gets a Uint8Array', async () => {
    const { sb, url } = await startServer();
    let got: unknown;
    sb.on('connection', (socket) => {
      socket.on('up', (data: { file: Uint8Array }) => {
        got = data.file;
        return { back: data.file.slice().reverse() };
      });
    });
    const c = await WireClient.open(url);
    await c.hello({ binary: true });
    c.send(binaryMessage({ type: 'event', event: 'up', ref: 1, data: { file: { $bin: 0 } }, bin: 1 }, [BYTES]));
    const reply = await c.next({ type: 'reply', ref: 1 });
    assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
    assert.deepEqual([...(got as Uint8Array)], [...BYTES]);
    assert.equal(reply.binary, true, 'the reply carrying binary data is a binary message');
    const header = '{"type":"reply","ref":1,"data":{"back":{"$bin":0}},"bin":1}';
    const expected = Buffer.concat([u32(header.length), Buffer.from(header), u32(6), Buffer.from([255, 254, 253, 2, 1, 0])]);
    assert.equal(reply.raw.toString('hex'), expected.toString('hex'));

    // A frame without binary data stays a text frame.
    sb.emit('plain', { n: 1 });
    const plain = await c.next({ event: 'plain' });
    assert.equal(plain.binary, false);
    c.close();
    await sb.close();
  });

  test('a WebSocket client that did not opt in gets the text form, and may send it', async () => {
    const { sb, url } = await startServer();
    let got: unknown;
    sb.on('connection', (socket) => socket.on('up', (data: Uint8Array) => void (got = data)));
    const c = await WireClient.open(url);
    await c.hello();
    c.send({ type: 'event', event: 'up', ref: 1, data: { $bin: B64 }, bin: 1 });
    await c.next({ type: 'reply', ref: 1 });
    assert.deepEqual([...(got as Uint8Array)], [...BYTES]);
    sb.emit('down', [BYTES, 'text']);
    const down = await c.next({ event: 'down' });
    assert.equal(down.binary, false);
    assert.equal(down.raw.toString(), `{"type":"event","event":"down","data":[{"$bin":"${B64}"},"text"],"bin":1}`);
    c.close();
    await sb.close();
  });

  test('text and binary frames interleaved keep their order, both ways', async () => {
    const { sb, url } = await startServer();
    const order: unknown[] = [];
    sb.on('connection', (socket) => socket.on('n', (data: unknown) => void order.push(data instanceof Uint8Array ? `b${data[0]}` : data)));
    const c = await WireClient.open(url);
    await c.hello({ binary: true });
    for (let i = 0; i < 20; i++) {
      if (i % 2 === 0) c.send({ type: 'event', event: 'n', data: `t${i}` });
      else c.send(binaryMessage({ type: 'event', event: 'n', data: { $bin: 0 }, bin: 1 }, [Uint8Array.of(i)]));
    }
    c.send({ type: 'event', event: 'n', ref: 99, data: 'end' });
    await c.next({ type: 'reply', ref: 99 });
    assert.deepEqual(order, [...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `t${i}` : `b${i}`)), 'end']);

    for (let i = 0; i < 20; i++) sb.emit('m', i % 2 === 0 ? i : Uint8Array.of(i));
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const m = await c.next({ event: 'm' });
      seen.push(m.binary ? `b${(m.attachments[0] as Buffer)[0]}` : `t${m.frame.data}`);
    }
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `t${i}` : `b${i}`)));
    c.close();
    await sb.close();
  });

  test('long-polling and SSE carry the text form both ways', async () => {
    const { sb, port } = await startServer();
    const got: unknown[] = [];
    sb.on('connection', (socket) => socket.on('up', (data: Uint8Array) => void got.push(data)));
    const base = `http://127.0.0.1:${port}/ws`;
    const post = (cid: string, frame: Frame): Promise<Response> =>
      fetch(`${base}/send?cid=${cid}`, { method: 'POST', body: JSON.stringify(frame), headers: { 'Content-Type': 'application/json' } });

    // Long-polling: the frames of a poll are the JSON of the text form.
    const opened = (await (await fetch(`${base}/poll`)).json()) as { cid: string };
    assert.equal((await post(opened.cid, { type: 'hello', v: 1, binary: true })).status, 204);
    const polled: Frame[] = [];
    const pollFor = async (test: (f: Frame) => boolean): Promise<Frame> => {
      for (;;) {
        const found = polled.find(test);
        if (found) return found;
        polled.push(...((await (await fetch(`${base}/poll?cid=${opened.cid}`)).json()) as { frames: Frame[] }).frames);
      }
    };
    await pollFor((f) => f.type === 'welcome');
    assert.equal((await post(opened.cid, { type: 'event', event: 'up', ref: 1, data: { $bin: B64 }, bin: 1 })).status, 204);
    await pollFor((f) => f.type === 'reply' && f.ref === 1);
    sb.emit('down', BYTES);
    assert.deepEqual(await pollFor((f) => f.event === 'down'), { type: 'event', event: 'down', data: { $bin: B64 }, bin: 1 });

    // SSE: each event's data is the text form.
    const controller = new AbortController();
    const res = await fetch(`${base}/sse`, { signal: controller.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let stream = '';
    const sseFor = async (needle: string): Promise<string> => {
      while (!stream.includes(needle)) stream += new TextDecoder().decode((await reader.read()).value);
      return stream;
    };
    const cid = /"cid":"([^"]+)"/.exec(await sseFor('"cid"'))?.[1] as string;
    await post(cid, { type: 'hello', v: 1 });
    await sseFor('"welcome"');
    await post(cid, { type: 'event', event: 'up', ref: 1, data: [{ $bin: B64 }], bin: 1 });
    await sseFor('"reply"');
    sb.emit('sse-down', BYTES);
    assert.ok((await sseFor('sse-down')).includes(`{"type":"event","event":"sse-down","data":{"$bin":"${B64}"},"bin":1}`));
    controller.abort();

    assert.equal(got.length, 2);
    assert.deepEqual([...(got[0] as Uint8Array)], [...BYTES]);
    assert.deepEqual([...((got[1] as unknown[])[0] as Uint8Array)], [...BYTES]);
    await sb.close();
  });

  test('durable rooms: binary data in history (server and wire) and in the replay of a rejoin with since', async () => {
    const { sb, url } = await startServer();
    sb.durable('feed');
    const c = await WireClient.open(url);
    await c.hello({ binary: true });
    c.send({ type: 'join', ref: 1, room: 'feed' });
    const joined = (await c.next({ type: 'reply', ref: 1 })).frame.data as { position: Frame };
    const first = await sb.to('feed').publish('pic', { bytes: BYTES, n: 1 });
    const live = await c.next({ event: 'pic' });
    assert.equal(live.binary, true);
    assert.deepEqual((live.frame.position as Frame).offset, first.offset);
    await sb.to('feed').publish('pic', { bytes: Uint8Array.of(7), n: 2 });
    await c.next({ event: 'pic' });

    const stored = await sb.history('feed');
    assert.ok(stored.publications[0]?.data && (stored.publications[0].data as { bytes: unknown }).bytes instanceof Uint8Array, 'history revives binary data');
    assert.deepEqual([...(stored.publications[0]?.data as { bytes: Uint8Array }).bytes], [...BYTES]);

    // Over the wire: the history reply carries the binary values (as a binary message here).
    c.send({ type: 'history', ref: 2, room: 'feed' });
    const history = await c.next({ type: 'reply', ref: 2 });
    assert.equal(history.binary, true);
    assert.equal(history.attachments.length, 2);
    assert.deepEqual([...(history.attachments[0] as Buffer)], [...BYTES]);

    // A client that was away rejoins with since: the gap is replayed, binary included, in order.
    c.close();
    const d = await WireClient.open(url);
    await d.hello({ binary: true });
    d.send({ type: 'join', ref: 1, room: 'feed', since: joined.position });
    const replay = [await d.next({ event: 'pic' }), await d.next({ event: 'pic' })];
    assert.deepEqual(
      replay.map((m) => [m.binary, (m.frame.data as { n: number }).n, [...(m.attachments[0] as Buffer)]]),
      [
        [true, 1, [...BYTES]],
        [true, 2, [7]],
      ],
    );
    assert.equal(((await d.next({ type: 'reply', ref: 1 })).frame.data as Frame).recovered, true);
    d.close();
    await sb.close();
  });

  test('a reliable publish (seq) as a binary message is handled once and answered', async () => {
    const { sb, url } = await startServer();
    const got: Uint8Array[] = [];
    sb.on('connection', (socket) => socket.on('save', (data: Uint8Array) => got.push(data)));
    const c = await WireClient.open(url);
    await c.hello({ binary: true });
    const message = binaryMessage({ type: 'event', event: 'save', ref: 1, seq: 1, data: { $bin: 0 }, bin: 1 }, [BYTES]);
    c.send(message);
    c.send(message); // a re-send after a reconnect: de-duplicated
    await c.next({ type: 'reply', ref: 1 });
    await c.next({ type: 'reply', ref: 1 });
    assert.equal(got.length, 1);
    assert.deepEqual([...(got[0] as Uint8Array)], [...BYTES]);
    c.close();
    await sb.close();
  });

  test('a binary message over maxMessageBytes closes with 1009; the limit counts the message as sent', async () => {
    const { sb, url } = await startServer({ maxMessageBytes: 1024 });
    sb.on('connection', (socket) => socket.on('x', (d: Uint8Array) => d.length));
    const fits = await WireClient.open(url);
    await fits.hello();
    // 900 bytes of data: 1,200 as base64 in a text frame would not fit, as a binary message (970 bytes) it does.
    fits.send(binaryMessage({ type: 'event', event: 'x', ref: 1, data: { $bin: 0 }, bin: 1 }, [new Uint8Array(900)]));
    assert.equal((await fits.next({ type: 'reply', ref: 1 })).frame.data, 900);
    const big = await WireClient.open(url);
    await big.hello();
    big.send(binaryMessage({ type: 'event', event: 'x', data: { $bin: 0 }, bin: 1 }, [new Uint8Array(1100)]));
    assert.equal((await big.closed).code, 1009);
    fits.close();
    await sb.close();
  });

  test('malformed binary messages are answered malformed_binary (with the ref when the header has one) and the connection stays open', async () => {
    const { sb, url } = await startServer();
    sb.on('connection', (socket) => socket.on('echo', (d: unknown) => d));
    const c = await WireClient.open(url);
    await c.hello({ binary: true });
    c.send(Buffer.from([0, 0, 0, 99, 1, 2])); // header length past the end
    const layout = await c.next({ type: 'error' });
    assert.equal(layout.frame.code, 'malformed_binary');
    c.send(binaryMessage({ type: 'event', event: 'echo', ref: 5, data: { $bin: 3 }, bin: 1 }, [BYTES])); // marker index out of range
    assert.equal(((await c.next({ type: 'reply', ref: 5 })).frame.error as Frame).code, 'malformed_binary');
    c.send(binaryMessage({ type: 'event', event: 'echo', ref: 6, data: { $bin: 0 }, bin: 2 }, [BYTES])); // count mismatch
    assert.equal(((await c.next({ type: 'reply', ref: 6 })).frame.error as Frame).code, 'malformed_binary');
    c.send(binaryMessage({ type: 'join', ref: 7, room: 'r', bin: 1 }, [BYTES])); // binary on a frame without data
    assert.equal(((await c.next({ type: 'reply', ref: 7 })).frame.error as Frame).code, 'malformed_binary');
    c.send(Buffer.concat([u32(3), Buffer.from('{x}')])); // header not JSON
    assert.equal((await c.next({ type: 'error' })).frame.code, 'malformed_frame');
    c.send({ type: 'event', event: 'echo', ref: 8, data: { $bin: 'not base64!' }, bin: 1 }); // the text form, bad base64
    assert.equal(((await c.next({ type: 'reply', ref: 8 })).frame.error as Frame).code, 'malformed_binary');
    c.send(binaryMessage({ type: 'event', event: 'echo', ref: 9, data: { $bin: 0 }, bin: 1 }, [BYTES]));
    const echoed = await c.next({ type: 'reply', ref: 9 });
    assert.equal(echoed.binary, true, 'still open and answering');
    assert.deepEqual([...(echoed.attachments[0] as Buffer)], [...BYTES]);

    // A binary message as the first frame is a bad handshake.
    const first = await WireClient.open(url);
    first.send(binaryMessage({ type: 'hello', v: 1 }, []));
    assert.equal((await first.next({ type: 'error' })).frame.code, 'bad_handshake');
    assert.equal((await first.closed).code, 4000);
    c.close();
    await sb.close();
  });
});

describe('the opt-in belongs to each WebSocket connection', () => {
  test('a session resumed on a new WebSocket gets what its hello asks for there, the frames kept while away included', async () => {
    const { sb, url } = await startServer();
    const a = await WireClient.open(url);
    const welcome = await a.hello({ binary: true });
    a.send({ type: 'join', ref: 1, room: 'r' });
    await a.next({ type: 'reply', ref: 1 });
    a.ws.terminate();
    await a.closed;
    await eventually(() => sb.connectionCount === 0, 'the server to see the drop');
    sb.to('r').emit('while-away', BYTES);
    // The new connection does not ask: it gets the text form, the kept frame included.
    const b = await WireClient.open(url);
    const resumed = await b.hello({ resume: welcome.resume, received: 1 });
    assert.equal(resumed.resumed, true);
    const kept = await b.next({ event: 'while-away' });
    assert.equal(kept.binary, false);
    assert.deepEqual(kept.frame.data, { $bin: B64 });
    b.ws.terminate();
    await b.closed;
    await eventually(() => sb.connectionCount === 0, 'the server to see the drop');
    sb.to('r').emit('away-again', BYTES);
    // This one asks: binary messages, the kept frame included.
    const c = await WireClient.open(url);
    assert.equal((await c.hello({ resume: resumed.resume, received: 2, binary: true })).resumed, true);
    const again = await c.next({ event: 'away-again' });
    assert.equal(again.binary, true);
    assert.deepEqual([...(again.attachments[0] as Buffer)], [...BYTES]);
    c.close();
    await sb.close();
  });

  test('the SDK moved from long-polling onto a WebSocket by the upgrade receives binary messages there', async () => {
    const { sb, url } = await startServer();
    const kinds: string[] = [];
    /** ws, noting the kind of every message the SDK's WebSocket receives. */
    class Recording extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        this.on('message', (_data: unknown, binary: boolean) => kinds.push(binary ? 'binary' : 'text'));
      }
    }
    const client = connect(url, { transports: ['polling', 'websocket'], WebSocket: Recording });
    try {
      await eventually(() => client.connected && client.transport === 'websocket', 'the upgrade to a WebSocket');
      const pushed = new Promise<unknown>((resolve) => client.on('push', resolve));
      sb.emit('push', BYTES);
      assert.deepEqual([...((await pushed) as Uint8Array)], [...BYTES]);
      assert.equal(kinds.at(-1), 'binary');
    } finally {
      client.close();
      await sb.close();
    }
  });
});

describe('binary data across a cluster on Redis', () => {
  const redisKeys = useRedisKeys();

  test('a broadcast from another node and from the Emitter arrives as a binary message and as the text form', async () => {
    const prefix = redisKeys.prefix('binary');
    const a = await startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
    const b = await startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
    const binary = await WireClient.open(b.url);
    await binary.hello({ binary: true });
    const text = await WireClient.open(b.url);
    await text.hello();
    for (const c of [binary, text]) {
      c.send({ type: 'join', ref: 1, room: 'lobby' });
      await c.next({ type: 'reply', ref: 1 });
    }
    a.sb.to('lobby').emit('from-a', { bytes: BYTES });
    const m = await binary.next({ event: 'from-a' });
    assert.equal(m.binary, true);
    assert.deepEqual([...(m.attachments[0] as Buffer)], [...BYTES]);
    assert.deepEqual((await text.next({ event: 'from-a' })).frame.data, { bytes: { $bin: B64 } });

    const emitter = new Emitter(REDIS_URL, { prefix });
    await emitter.to('lobby').emit('from-emitter', [Uint8Array.of(9, 8), 'x']);
    const e = await binary.next({ event: 'from-emitter' });
    assert.equal(e.binary, true);
    assert.deepEqual([...(e.attachments[0] as Buffer)], [9, 8]);
    assert.deepEqual((await text.next({ event: 'from-emitter' })).frame.data, [{ $bin: 'CQg=' }, 'x']);
    await emitter.close();
    binary.close();
    text.close();
    await Promise.all([a.sb.close(), b.sb.close()]);
  });
});

describe('the SDK with binary data', () => {
  async function untilConnected(client: SwitchboardClient): Promise<void> {
    await eventually(() => client.connected, 'the client to connect');
  }

  for (const transports of [['websocket'], ['polling'], ['sse']] as const) {
    test(`on ${transports[0]}: emit, emitWithAck, reliable, replies and server events carry Uint8Array`, async () => {
      const { sb, url } = await startServer();
      const got: unknown[] = [];
      sb.on('connection', (socket) => {
        socket.on('echo', (d: unknown) => d);
        socket.on('keep', (d: unknown) => void got.push(d));
        socket.on('ask', async () => socket.emitWithAck('question', new Uint16Array([1, 2])));
      });
      const client = connect(url, { transports: [...transports], upgrade: false });
      try {
        await untilConnected(client);
        assert.equal(client.transport, transports[0]);
        const echoed = (await client.emitWithAck('echo', { b: BYTES.buffer, v: new DataView(BYTES.buffer, 1, 2) })) as { b: unknown; v: unknown };
        assert.ok(echoed.b instanceof Uint8Array && echoed.v instanceof Uint8Array);
        assert.deepEqual([...(echoed.b as Uint8Array)], [...BYTES]);
        assert.deepEqual([...(echoed.v as Uint8Array)], [1, 2]);
        client.emit('keep', BYTES);
        await client.reliable.emit('keep', { r: Uint8Array.of(5) });
        await eventually(() => got.length === 2, 'both publishes');
        assert.deepEqual([...(got[0] as Uint8Array)], [...BYTES]);
        client.on('question', (d: unknown) => (d instanceof Uint8Array ? d.slice(0, 2) : 'not binary'));
        const answer = await sb.sockets.sockets.values().next().value?.emitWithAck('question', new Uint16Array([1, 2]));
        assert.deepEqual([...(answer as Uint8Array)], [1, 0]);
        const pushed = new Promise<unknown>((resolve) => client.on('push', resolve));
        sb.emit('push', { img: BYTES });
        assert.deepEqual([...((await pushed) as { img: Uint8Array }).img], [...BYTES]);
        assert.throws(() => client.emit('keep', new Blob(['x'])), { code: 'unserializable' });
      } finally {
        client.close();
        await sb.close();
      }
    });
  }

  test('with permessage-deflate the binary messages go through ws, compressed, both ways', async () => {
    const { sb, url } = await startServer({ perMessageDeflate: true });
    sb.on('connection', (socket) => socket.on('echo', (d: unknown) => d));
    const client = connect(url, { transports: ['websocket'] });
    try {
      await untilConnected(client);
      const big = Uint8Array.from({ length: 5000 }, (_, i) => i % 7);
      const echoed = (await client.emitWithAck('echo', { big, small: BYTES })) as { big: Uint8Array; small: Uint8Array };
      assert.deepEqual([...echoed.big], [...big]);
      assert.deepEqual([...echoed.small], [...BYTES]);
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('an unreadable binary message from the server is reported as an error event with malformed_binary', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Frame;
        if (frame.type !== 'hello') return;
        assert.equal(frame.binary, true, 'the SDK asks for binary messages on a WebSocket');
        ws.send(JSON.stringify({ type: 'welcome', v: 1, sid: 's1', ns: '/', resume: null, resumed: false, heartbeat: { interval: 25_000, timeout: 20_000 }, limits: { maxMessageBytes: 65_536 } }));
        ws.send(Buffer.from([0, 0, 0, 99, 1]));
        ws.send(binaryMessage({ type: 'event', event: 'fine', data: { $bin: 0 }, bin: 1 }, [BYTES]));
      });
    });
    const client = connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, { transports: ['websocket'], reconnect: false });
    try {
      const error = new Promise<{ code?: string }>((resolve) => client.on('error', resolve));
      const fine = new Promise<unknown>((resolve) => client.on('fine', resolve));
      assert.equal((await error).code, 'malformed_binary');
      assert.deepEqual([...((await fine) as Uint8Array)], [...BYTES], 'the next message is read as usual');
    } finally {
      client.close();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });

  test('the size check counts what the transport sends: a binary message fits where its text form would not', async () => {
    const { sb, url } = await startServer({ maxMessageBytes: 4096 });
    sb.on('connection', (socket) => socket.on('echo', (d: Uint8Array) => d.length));
    const ws = connect(url, { transports: ['websocket'] });
    const polling = connect(url, { transports: ['polling'], upgrade: false });
    try {
      await untilConnected(ws);
      await untilConnected(polling);
      const data = new Uint8Array(3500); // 4,668 bytes as base64
      assert.equal(await ws.emitWithAck('echo', data), 3500);
      assert.throws(() => polling.emit('echo', data), { code: 'message_too_big' });
    } finally {
      ws.close();
      polling.close();
      await sb.close();
    }
  });
});
