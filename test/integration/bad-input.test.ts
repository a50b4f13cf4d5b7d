/**
 * Bad input that only a raw WebSocket client can send, one case at a time: the
 * deterministic counterparts of what test/integration/fuzz.test.ts throws at random, per
 * docs/PROTOCOL.md "Invalid input". Each connection is written byte by byte
 * (test/helpers/raw-websocket.ts), so nothing is left to a well-behaved library.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Switchboard } from '../../src/server/index.js';
import { closePayload, encodeWireFrame, Opcode, RawWebSocket, type WireFrame } from '../helpers/raw-websocket.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;

/** A raw connection that keeps what the server sent, for `next`. */
class RawClient {
  readonly frames: Frame[] = [];
  private wake: (() => void) | undefined;
  private closedWith: number | undefined | null = null;

  private constructor(readonly ws: RawWebSocket) {
    ws.onText = (text) => {
      this.frames.push(JSON.parse(text) as Frame);
      this.wake?.();
    };
    void ws.closed.then(({ code }) => {
      this.closedWith = code;
      this.wake?.();
    });
  }

  static async open(port: number, hello = true): Promise<RawClient> {
    const client = new RawClient(await RawWebSocket.open(port));
    if (hello) {
      client.send({ type: 'hello', v: 1 });
      await client.next({ type: 'welcome' });
    }
    return client;
  }

  send(frame: unknown): void {
    this.ws.sendJson(frame);
  }

  write(...frames: WireFrame[]): void {
    this.ws.write(Buffer.concat(frames.map(encodeWireFrame)));
  }

  /** The first frame (received or to come) with these fields; removed from `frames`. */
  async next(fields: Frame, ms = 3000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex((f) => Object.entries(fields).every(([k, v]) => f[k] === v));
      if (i >= 0) return this.frames.splice(i, 1)[0] as Frame;
      if (this.closedWith !== null) throw new Error(`no frame with ${JSON.stringify(fields)}: the connection closed with ${this.closedWith}`);
      if (Date.now() > deadline) throw new Error(`no frame with ${JSON.stringify(fields)} within ${ms} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The connection still answers in order: a ping gets its pong. */
  async stillOpen(): Promise<void> {
    this.send({ type: 'ping' });
    await this.next({ type: 'pong' });
  }
}

const text = (s: string, extra: Partial<WireFrame> = {}): WireFrame => ({ opcode: Opcode.Text, payload: Buffer.from(s), ...extra });

describe('bad input from a raw WebSocket client', () => {
  let sb: Switchboard;
  let port: number;

  before(async () => {
    // Big enough for 100 000 nested arrays (200 000 bytes) to reach the JSON parser.
    ({ sb, port } = await startServer({ maxMessageBytes: 256 * 1024, serveClient: false, resume: false }));
    sb.on('connection', (socket) => {
      socket.on('echo', (data: unknown) => data);
      // What an app does with a payload it trusts the shape of: a shallow copy.
      socket.on('copy', (data: object) => ({ admin: (Object.assign({}, data) as { admin?: unknown }).admin === true, keys: Object.keys(data) }));
    });
  });
  after(() => sb.close({ deadline: 0 }));

  test('deep nesting does not break the server: past 128 levels nesting_too_deep, a reply to a request; 128 levels are echoed; the connection stays open', async () => {
    const c = await RawClient.open(port);
    const depth = 100_000;
    c.write(text('['.repeat(depth) + ']'.repeat(depth)));
    assert.equal((await c.next({ type: 'error' })).code, 'malformed_frame', 'not an object');
    c.write(text('['.repeat(depth)));
    assert.equal((await c.next({ type: 'error' })).code, 'malformed_frame', 'unbalanced');
    // Six bytes a level: 40 000 levels fit in the limit.
    c.write(text(`${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}`));
    assert.equal((await c.next({ type: 'error' })).code, 'nesting_too_deep', 'an object without a type, too deep to look at');
    c.write(text(`{"type":"event","event":"echo","ref":1,"data":${'['.repeat(depth)}${']'.repeat(depth)}}`));
    const refused = (await c.next({ type: 'reply', ref: 1 })).error as Frame;
    assert.equal(refused.code, 'nesting_too_deep');
    assert.match(String(refused.message), /128/);
    // The frame is level 1: its data may nest 127 levels, and comes back as sent.
    const deepest = `${'['.repeat(127)}${']'.repeat(127)}`;
    c.write(text(`{"type":"event","event":"echo","ref":2,"data":${deepest}}`));
    assert.equal(JSON.stringify((await c.next({ type: 'reply', ref: 2 })).data), deepest);
    c.write(text(`{"type":"event","event":"echo","ref":3,"data":[${deepest}]}`));
    assert.equal(((await c.next({ type: 'reply', ref: 3 })).error as Frame).code, 'nesting_too_deep');
    await c.stillOpen();
    await c.ws.close();
  });

  test('a "__proto__" key in a payload does not reach the handler: Object.assign({}, data) keeps the plain prototype', async () => {
    const c = await RawClient.open(port);
    c.write(text('{"type":"event","event":"copy","ref":1,"data":{"__proto__":{"admin":true},"name":"x"}}'));
    assert.deepEqual((await c.next({ type: 'reply', ref: 1 })).data, { admin: false, keys: ['name'] });
    c.write(text('{"type":"event","event":"copy","ref":2,"data":{"\\u005f_proto__":{"admin":true}}}'));
    assert.deepEqual((await c.next({ type: 'reply', ref: 2 })).data, { admin: false, keys: [] });
    await c.ws.close();
  });

  test('a message in continuation frames, split anywhere and with pings between the fragments, is one frame', async () => {
    const c = await RawClient.open(port);
    const json = Buffer.from('{"type":"event","event":"echo","ref":2,"data":"héllo 😀"}');
    // Cuts inside the multi-byte characters too: UTF-8 is checked on the whole message.
    const cuts = [0, 1, 30, 49, 50, 55, json.length];
    const frames: WireFrame[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      frames.push({ opcode: i === 0 ? Opcode.Text : Opcode.Continuation, payload: json.subarray(cuts[i], cuts[i + 1]), fin: i + 2 === cuts.length });
      if (i % 2 === 0) frames.push({ opcode: Opcode.Ping, payload: Buffer.from('p') });
    }
    // One byte per TCP write as well.
    const wire = Buffer.concat(frames.map(encodeWireFrame));
    for (let i = 0; i < wire.length; i++) {
      c.ws.write(wire.subarray(i, i + 1));
      if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await c.next({ type: 'reply', ref: 2 })).data, 'héllo 😀');
    await c.ws.close();
  });

  test('invalid UTF-8 closes with 1007, also when the bad bytes are split across fragments', async () => {
    for (const bytes of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff]]) {
      const whole = await RawClient.open(port);
      whole.write({ opcode: Opcode.Text, payload: Buffer.from([0x22, ...bytes, 0x22]) });
      assert.equal((await whole.ws.closed).code, 1007, `bytes ${bytes}`);
    }
    const split = await RawClient.open(port);
    split.write({ opcode: Opcode.Text, payload: Buffer.from([0x22, 0xe2]), fin: false }, { opcode: Opcode.Continuation, payload: Buffer.from([0x28, 0x22]) });
    assert.equal((await split.ws.closed).code, 1007);
  });

  test('a header claiming more than maxMessageBytes closes with 1009 at once, without waiting for the payload', async () => {
    for (const claimedLength of [256n * 1024n + 1n, 2n ** 32n, 2n ** 63n]) {
      const c = await RawClient.open(port);
      c.write({ opcode: Opcode.Text, payload: Buffer.from('{'), claimedLength });
      assert.equal((await c.ws.closed).code, 1009, `claimed ${claimedLength}`);
    }
    // Fragments each under the limit, over it together.
    const c = await RawClient.open(port);
    const third = Buffer.alloc(90 * 1024, 0x61);
    c.write(
      { opcode: Opcode.Text, payload: third, fin: false },
      { opcode: Opcode.Continuation, payload: third, fin: false },
      { opcode: Opcode.Continuation, payload: third },
    );
    assert.equal((await c.ws.closed).code, 1009);
  });

  test('RFC 6455 violations close with 1002 (or 1007 for a close reason that is not UTF-8)', async () => {
    const json = '{"type":"ping"}';
    const cases: [string, WireFrame[], number][] = [
      ['reserved bit RSV1 without an extension', [text(json, { rsv: 4 })], 1002],
      ['reserved bits RSV2 and RSV3', [text(json, { rsv: 3 })], 1002],
      ['an unknown data opcode', [{ opcode: 3, payload: Buffer.from(json) }], 1002],
      ['an unknown control opcode', [{ opcode: 0xb }], 1002],
      ['a continuation with no message to continue', [{ opcode: Opcode.Continuation, payload: Buffer.from(json) }], 1002],
      ['a new message inside a fragmented one', [text('{"ty', { fin: false }), text(json)], 1002],
      ['an unmasked client frame', [text(json, { mask: false })], 1002],
      ['a fragmented ping', [{ opcode: Opcode.Ping, payload: Buffer.from('x'), fin: false }], 1002],
      ['a ping longer than 125 bytes', [{ opcode: Opcode.Ping, payload: Buffer.alloc(126) }], 1002],
      ['a close frame of one byte', [{ opcode: Opcode.Close, payload: Buffer.from([3]) }], 1002],
      ['a close code that may not be sent (1006)', [{ opcode: Opcode.Close, payload: closePayload(1006) }], 1002],
      ['a close code out of range (5000)', [{ opcode: Opcode.Close, payload: closePayload(5000) }], 1002],
      ['a close reason that is not UTF-8', [{ opcode: Opcode.Close, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff])]) }], 1007],
    ];
    for (const [what, frames, code] of cases) {
      const c = await RawClient.open(port);
      c.write(...frames);
      assert.equal((await c.ws.closed).code, code, what);
    }
  });

  test('numbers JSON allows but a ref cannot be (1e400, 2^53, 1.5, -0.5) get an error frame, never a reply; 1.0 is the ref 1', async () => {
    const c = await RawClient.open(port);
    for (const ref of ['1e400', '9007199254740992', '1.5', '-0.5']) {
      c.write(text(`{"type":"event","event":"echo","ref":${ref}}`));
      const error = await c.next({ type: 'error' });
      assert.equal(error.code, 'bad_request', ref);
      assert.match(String(error.message), /"ref"/);
    }
    c.write(text('{"type":"event","event":"echo","ref":1.0,"data":123456789012345678901234567890}'));
    assert.equal((await c.next({ type: 'reply', ref: 1 })).data, 1.2345678901234568e29);
    assert.equal(c.frames.filter((f) => f.type === 'reply').length, 0, 'no other reply');
    await c.ws.close();
  });

  test('frames before the hello: the first one decides (4000), and whatever follows the close is ignored', async () => {
    const c = await RawClient.open(port, false);
    c.write(text('{"type":"join","ref":1,"room":"r"}'), text('{"type":"hello","v":1}'), { opcode: Opcode.Binary, payload: Buffer.from([1, 2]) });
    assert.equal((await c.next({ type: 'error' })).code, 'bad_handshake');
    assert.equal((await c.ws.closed).code, 4000);
    assert.ok(!c.frames.some((f) => f.type === 'welcome'), 'the hello after the bad first frame was not taken');
  });

  test('after all of the above the server holds nothing: no connection, session or room is left behind', async () => {
    await eventually(() => sb.connectionCount === 0 && sb.sessionCount === 0 && sb.sockets.sockets.size === 0 && sb.sockets.rooms.count === 0, 'the server to be idle');
  });
});
