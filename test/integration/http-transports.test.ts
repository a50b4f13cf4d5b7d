/**
 * The HTTP transports (docs/PROTOCOL.md, "HTTP transports") driven with plain fetch and
 * http requests against a real Switchboard: long-polling and Server-Sent Events carry the
 * same frames as a WebSocket, the endpoints refuse what they must with the documented
 * codes, and a session moves from polling onto a WebSocket without losing or repeating
 * a frame.
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { Switchboard, type Socket, type SwitchboardOptions } from '../../src/server/index.js';
import type { ConnectionError } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';
import { attemptUpgrade } from '../helpers/upgrade-attempt.js';

type Frame = Record<string, unknown>;
interface PollAnswer {
  frames: Frame[];
  close?: { code: number; reason: string };
}

/** A long-polling client that knows nothing but docs/PROTOCOL.md. */
class PollingClient {
  /** Frames polled and not yet taken by next(). */
  readonly frames: Frame[] = [];
  /** Frames after the welcome (welcomes not counted), for resume. */
  received = 0;
  closed: { code: number; reason: string } | undefined;
  private welcomed = false;

  private constructor(
    readonly base: string,
    readonly cid: string,
  ) {}

  static async open(base: string, headers: Record<string, string> = {}): Promise<PollingClient> {
    const res = await fetch(`${base}/poll`, { headers });
    assert.equal(res.status, 200, `opening poll: ${res.status} ${await res.clone().text()}`);
    const body = (await res.json()) as { cid: string; frames: unknown[] };
    assert.deepEqual(body.frames, []);
    return new PollingClient(base, body.cid);
  }

  post(body: string, endpoint: 'send' | 'close' = 'send', contentType = 'application/json'): Promise<Response> {
    return fetch(`${this.base}/${endpoint}?cid=${this.cid}`, { method: 'POST', body, headers: { 'Content-Type': contentType } });
  }

  /** POST frames (one frame alone, several as an array) and expect them taken in. */
  async send(...frames: unknown[]): Promise<void> {
    const res = await this.post(JSON.stringify(frames.length === 1 ? frames[0] : frames));
    assert.equal(res.status, 204, `send: ${res.status} ${await res.text()}`);
  }

  /** One poll; its frames are kept for next(). */
  async poll(): Promise<PollAnswer> {
    const res = await fetch(`${this.base}/poll?cid=${this.cid}`);
    assert.equal(res.status, 200, `poll: ${res.status} ${await res.clone().text()}`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const answer = (await res.json()) as PollAnswer;
    for (const frame of answer.frames) {
      if (frame.type === 'welcome') this.welcomed = true;
      else if (this.welcomed) this.received++;
      this.frames.push(frame);
    }
    if (answer.close) this.closed = answer.close;
    return answer;
  }

  /** The first frame matching `match`, polling until it comes. */
  async next(match: Frame | ((f: Frame) => boolean)): Promise<Frame> {
    const test = typeof match === 'function' ? match : (f: Frame) => Object.entries(match).every(([k, v]) => f[k] === v);
    for (;;) {
      const found = this.frames.find(test);
      if (found) {
        this.frames.splice(this.frames.indexOf(found), 1);
        return found;
      }
      if (this.closed) throw new Error(`closed ${JSON.stringify(this.closed)} before a frame matching ${JSON.stringify(match)}; got ${JSON.stringify(this.frames)}`);
      await this.poll();
    }
  }

  async hello(extra: Frame = {}): Promise<Frame> {
    await this.send({ type: 'hello', v: 1, ...extra });
    return this.next({ type: 'welcome' });
  }
}

/** A client of the event stream: reads `GET sse` as it arrives. */
class SseClient {
  readonly events: { event: string; data: Frame }[] = [];
  /** Every byte of the stream as text, to check the framing. */
  raw = '';
  ended = false;
  readonly controller = new AbortController();
  private buffered = '';
  private wake: (() => void) | undefined;

  private constructor(readonly response: Response) {}

  static async open(base: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(`${base}/sse`, { headers, signal: controller.signal });
    const client = new SseClient(response);
    Object.assign(client, { controller });
    if (response.status === 200) void client.read();
    return client;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    const reader = (this.response.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        this.raw += text;
        this.buffered += text;
        let end: number;
        while ((end = this.buffered.indexOf('\n\n')) !== -1) {
          const block = this.buffered.slice(0, end);
          this.buffered = this.buffered.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          this.events.push({ event, data: JSON.parse(data) as Frame });
        }
        this.wake?.();
      }
    } catch {
      // aborted by the test
    }
    this.ended = true;
    this.wake?.();
  }

  /** The first event (of type `event`) whose data matches, waiting for it. */
  async next(match: Frame, event = 'message'): Promise<Frame> {
    const test = (e: { event: string; data: Frame }): boolean => e.event === event && Object.entries(match).every(([k, v]) => e.data[k] === v);
    for (;;) {
      const found = this.events.find(test);
      if (found) {
        this.events.splice(this.events.indexOf(found), 1);
        return found.data;
      }
      if (this.ended) throw new Error(`the stream ended before a ${event} event matching ${JSON.stringify(match)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async cid(): Promise<string> {
    return (await this.next({}, 'open')).cid as string;
  }
}

async function serve(options: SwitchboardOptions = {}): Promise<{ sb: Switchboard; base: string; port: number }> {
  const { sb, port } = await startServer(options);
  return { sb, port, base: `http://127.0.0.1:${port}${options.path ?? '/ws'}` };
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(typeof body.message, 'string');
  return { status: res.status, code: body.code, message: body.message };
}

describe('long-polling', () => {
  test('a session over polling: hello and welcome, events both ways, requests and replies, rooms and broadcasts', async () => {
    const { sb, base } = await serve();
    const notes: unknown[] = [];
    const sockets: Socket[] = [];
    sb.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('note', (data) => void notes.push(data));
      socket.on('echo', (data) => data);
    });
    const c = await PollingClient.open(base);
    assert.match(c.cid, /^([A-Za-z0-9_-]+\.)?[A-Za-z0-9_-]{24,}$/, 'an unguessable cid, after the node id');
    const welcome = await c.hello({ auth: { token: 't' } });
    assert.equal(welcome.resumed, false);
    assert.equal(typeof welcome.resume, 'string');
    const socket = sockets[0] as Socket;
    assert.equal(socket.handshake.url, '/ws/poll');
    assert.equal(socket.handshake.address, '127.0.0.1');
    assert.deepEqual(socket.handshake.auth, { token: 't' });
    assert.equal(socket.transport, 'polling');

    await c.send({ type: 'event', event: 'note', data: 'fire and forget' });
    await eventually(() => notes.length === 1, 'the note');
    assert.deepEqual(notes, ['fire and forget']);

    await c.send({ type: 'event', event: 'echo', ref: 1, data: { x: 1 } });
    assert.deepEqual((await c.next({ ref: 1 })).data, { x: 1 });

    // Several frames in one body are handled in order.
    await c.send({ type: 'join', ref: 2, room: 'lobby' }, { type: 'event', event: 'echo', ref: 3, data: 'after the join' });
    assert.deepEqual((await c.next({ ref: 2 })).data, { room: 'lobby' });
    assert.equal((await c.next({ ref: 3 })).data, 'after the join');

    sb.to('lobby').emit('news', 'to the room');
    socket.emit('direct', 'to the socket');
    const news = await c.next({ event: 'news' });
    assert.equal(news.room, 'lobby');
    assert.equal(news.data, 'to the room');
    assert.equal((await c.next({ event: 'direct' })).data, 'to the socket');

    // A server request: the client replies by POST.
    const asked = socket.emitWithAck('ask', 'question');
    const request = await c.next({ event: 'ask' });
    await c.send({ type: 'reply', ref: request.ref, data: 'answer' });
    assert.equal(await asked, 'answer');

    // App-level heartbeats: ping answered with pong.
    await c.send({ type: 'ping' });
    await c.next({ type: 'pong' });
    await sb.close();
  });

  test('a poll with nothing to send is answered {"frames":[]} once the hold passes; a newer poll answers the older at once', async () => {
    const { sb, base } = await serve({ polling: { hold: 100 } });
    const c = await PollingClient.open(base);
    await c.hello();
    assert.deepEqual(await c.poll(), { frames: [] });

    const { sb: sb2, base: base2 } = await serve();
    const d = await PollingClient.open(base2);
    await d.hello();
    const older = d.poll();
    await new Promise((r) => setTimeout(r, 50)); // the older poll reaches the server first
    const newer = d.poll();
    assert.deepEqual(await older, { frames: [] }, 'the older poll is answered although the hold is 25 s');
    const [socket] = [...sb2.sockets.sockets.values()];
    socket?.emit('hello-there', 1);
    const answer = await newer;
    assert.equal(answer.frames[0]?.event, 'hello-there');
    await Promise.all([sb.close(), sb2.close()]);
  });

  test('frames sent in one turn go in one response; past polling.maxResponseBytes the rest waits for the next poll, and a larger frame goes alone', async () => {
    const { sb, base } = await serve({ polling: { hold: 25_000, maxResponseBytes: 200 } });
    const c = await PollingClient.open(base);
    await c.hello();
    const [socket] = [...sb.sockets.sockets.values()];
    for (let i = 0; i < 3; i++) socket?.emit('small', i);
    const together = await c.poll();
    assert.deepEqual(together.frames.map((f) => f.data), [0, 1, 2]);

    for (let i = 0; i < 10; i++) socket?.emit('small', i);
    socket?.emit('big', 'x'.repeat(500));
    socket?.emit('small', 10);
    const seen: Frame[] = [];
    const sizes: number[] = [];
    while (seen.length < 12) {
      const { frames } = await c.poll();
      assert.ok(frames.length > 0);
      sizes.push(frames.reduce((n, f) => n + JSON.stringify(f).length, 0));
      if (frames.length > 1) assert.ok((sizes.at(-1) as number) <= 200, 'several frames stay within maxResponseBytes');
      seen.push(...frames);
    }
    assert.deepEqual(seen.map((f) => f.event === 'big' ? 'big' : f.data), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'big', 10]);
    assert.ok(sizes.length > 2, 'split over several polls');
    await sb.close();
  });

  test('a server close reaches the waiting poll, or the next one, with the frames still queued; then the cid is unknown', async () => {
    const { sb, base } = await serve();
    const sockets: Socket[] = [];
    sb.on('connection', (socket) => sockets.push(socket));
    const c = await PollingClient.open(base);
    await c.hello();
    const waiting = c.poll();
    await new Promise((r) => setTimeout(r, 30));
    (sockets[0] as Socket).disconnect(true);
    const answer = await waiting;
    assert.deepEqual(answer.close, { code: 1000, reason: 'server disconnect' });
    const gone = await fetch(`${base}/poll?cid=${c.cid}`);
    assert.equal(gone.status, 404);
    assert.equal((await errorOf(gone)).code, 'unknown_connection');

    // No poll waiting: the close waits for the next one, behind the frames sent before it.
    const d = await PollingClient.open(base);
    await d.hello();
    const socket = sockets[1] as Socket;
    socket.emit('last', 1);
    socket.disconnect(true);
    await new Promise((r) => setTimeout(r, 30));
    const late = await d.poll();
    assert.deepEqual(late.frames.map((f) => f.event ?? f.type), ['last', 'disconnect']);
    assert.equal(late.close?.code, 1000);
    assert.equal((await fetch(`${base}/poll?cid=${d.cid}`)).status, 404);
    await sb.close();
  });

  test('a close that no poll comes for is forgotten after one hold time', async () => {
    const { sb, base } = await serve({ polling: { hold: 40 } });
    const c = await PollingClient.open(base);
    await c.hello();
    const [socket] = [...sb.sockets.sockets.values()];
    socket?.disconnect(true);
    await new Promise((r) => setTimeout(r, 500)); // well past the hold: the sweep has run
    assert.equal((await fetch(`${base}/poll?cid=${c.cid}`)).status, 404);
    await sb.close();
  });

  test('unknown or closed cids get 404 unknown_connection on poll, send and close', async () => {
    const { sb, base } = await serve();
    for (const [url, init] of [
      [`${base}/poll?cid=nope`, {}],
      [`${base}/send?cid=nope`, { method: 'POST', body: '{"type":"ping"}' }],
      [`${base}/send`, { method: 'POST', body: '{"type":"ping"}' }],
      [`${base}/close?cid=nope`, { method: 'POST', body: '' }],
    ] as const) {
      const error = await errorOf(await fetch(url, init));
      assert.deepEqual([error.status, error.code], [404, 'unknown_connection'], url);
    }
    const c = await PollingClient.open(base);
    await c.hello();
    assert.equal((await c.post('{"code":1000}', 'close')).status, 204);
    assert.equal((await errorOf(await c.post('{"type":"ping"}'))).code, 'unknown_connection');
    await sb.close();
  });

  test('POST close: 1000 ends the session, 4005 keeps it to be resumed on a new connection', async () => {
    const { sb, base } = await serve();
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push(reason)));
    const c = await PollingClient.open(base);
    await c.hello();
    const waiting = c.poll();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await c.post('', 'close')).status, 204);
    assert.deepEqual((await waiting).close, { code: 1000, reason: '' }, 'a waiting poll hears of the close');
    await eventually(() => reasons.length === 1, 'the session to end');
    assert.deepEqual(reasons, ['client_disconnect']);

    const d = await PollingClient.open(base);
    const welcome = await d.hello();
    await d.send({ type: 'join', ref: 1, room: 'r' });
    await d.next({ ref: 1 });
    assert.equal((await d.post(JSON.stringify({ code: 4005, reason: 'offline' }), 'close')).status, 204);
    await eventually(() => sb.connectionCount === 0, 'the connection to close');
    assert.equal(sb.sessionCount, 1, 'the session waits to be resumed');
    sb.to('r').emit('while-away', 1);
    const e = await PollingClient.open(base);
    const resumed = await e.hello({ resume: welcome.resume, received: d.received });
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.sid, welcome.sid);
    assert.equal((await e.next({ event: 'while-away' })).room, 'r');
    assert.deepEqual(reasons, ['client_disconnect']);

    for (const body of ['nope', '[]', '{"code":1006}', '{"code":"1000"}', `{"reason":"${'x'.repeat(124)}"}`]) {
      const error = await errorOf(await e.post(body, 'close'));
      assert.deepEqual([error.status, error.code], [400, 'bad_request'], body);
    }
    await sb.close();
  });

  test('413 message_too_big: a frame over maxMessageBytes closes the connection with 1009, and the session resumes', async () => {
    const { sb, base } = await serve({ maxMessageBytes: 1024 });
    const c = await PollingClient.open(base);
    const welcome = await c.hello();
    const big = { type: 'event', event: 'x', data: 'y'.repeat(1100) };
    const refused = await errorOf(await c.post(JSON.stringify([{ type: 'ping' }, big])));
    assert.deepEqual([refused.status, refused.code], [413, 'message_too_big']);
    const answer = await c.poll();
    assert.deepEqual(answer.frames.map((f) => f.type), ['pong'], 'the frame before the big one was handled');
    assert.equal(answer.close?.code, 1009);
    await eventually(() => sb.connectionCount === 0, 'the connection to close');
    assert.equal(sb.sessionCount, 1, '1009 keeps the session, as on a WebSocket');
    const d = await PollingClient.open(base);
    assert.equal((await d.hello({ resume: welcome.resume, received: c.received })).resumed, true);

    // A declared body over 4 × maxMessageBytes is refused before it is read.
    const declared = await errorOf(await d.post('x'.repeat(5000)));
    assert.deepEqual([declared.status, declared.code], [413, 'message_too_big']);
    await sb.close();
  });

  test('a body without a length that grows past 4 × maxMessageBytes is cut off while it streams', async () => {
    const { sb, base } = await serve({ maxMessageBytes: 1024 });
    const c = await PollingClient.open(base);
    await c.hello();
    const url = new URL(`${base}/send?cid=${c.cid}`);
    const outcome = await new Promise<{ status: number; body: string; written: number }>((resolve, reject) => {
      let written = 0;
      let answered = false;
      const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } });
      req.on('response', (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, written }));
      });
      req.on('error', (err) => (answered ? undefined : reject(err)));
      req.write('[');
      const more = (): void => {
        // The body never ends: only a server that stops reading at the limit answers.
        if (answered || written > 10_000_000) return;
        req.write(`"${'z'.repeat(1022)}",`);
        written += 1024;
        setImmediate(more);
      };
      more();
    });
    assert.equal(outcome.status, 413);
    assert.equal((JSON.parse(outcome.body) as { code: string }).code, 'message_too_big');
    assert.ok(outcome.written < 10_000_000, 'answered before the body ended');
    assert.equal((await c.poll()).close?.code, 1009);
    await sb.close();
  });

  test('400 bad_request for a body that is not JSON, not UTF-8, or not a frame object or array; malformed frames inside an array are answered as on a WebSocket', async () => {
    const { sb, base } = await serve();
    sb.on('connection', (socket) => socket.on('echo', (d) => d));
    const c = await PollingClient.open(base);
    await c.hello();
    for (const body of ['nope', '42', '"hello"', 'null', '[{"type":"ping"}']) {
      const error = await errorOf(await c.post(body));
      assert.deepEqual([error.status, error.code], [400, 'bad_request'], body);
    }
    const invalid = await fetch(`${base}/send?cid=${c.cid}`, { method: 'POST', body: Buffer.from([0x7b, 0xff, 0x7d]) });
    assert.equal((await errorOf(invalid)).code, 'bad_request');

    // text/plain (what a browser sends to skip a CORS preflight) is read the same.
    const res = await c.post('[42, {"type":"nope"}, {"type":"event","event":"echo","ref":5,"data":"ok"}]', 'send', 'text/plain;charset=UTF-8');
    assert.equal(res.status, 204);
    assert.equal((await c.next({ type: 'error' })).code, 'malformed_frame');
    assert.equal((await c.next({ type: 'error' })).code, 'unknown_frame_type');
    assert.equal((await c.next({ ref: 5 })).data, 'ok');
    assert.equal(c.closed, undefined, 'the connection stays open');

    const wrongMethod = await errorOf(await fetch(`${base}/send?cid=${c.cid}`));
    assert.equal(wrongMethod.status, 405);
    await sb.close();
  });

  test('a client that stops polling and posting is expired by the heartbeat; its session waits to be resumed', async () => {
    const { sb, base } = await serve({ heartbeat: { interval: 40, timeout: 40 } });
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push(reason)));
    const c = await PollingClient.open(base);
    await c.hello();
    await eventually(() => sb.connectionCount === 0, 'the heartbeat to expire the connection');
    assert.deepEqual(reasons, [], 'the session waits to be resumed: no disconnect yet');
    assert.equal(sb.sessionCount, 1);
    assert.equal((await fetch(`${base}/poll?cid=${c.cid}`)).status, 404);
    await sb.close();
  });
});

describe('Server-Sent Events', () => {
  test('the stream: an open event with the cid, every frame as one data event, a close event and the end', async () => {
    const { sb, base } = await serve();
    const sockets: Socket[] = [];
    sb.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('echo', (d) => d);
    });
    const s = await SseClient.open(base);
    assert.equal(s.response.status, 200);
    assert.match(s.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(s.response.headers.get('x-accel-buffering'), 'no');
    assert.equal(s.response.headers.get('cache-control'), 'no-store');
    const cid = await s.cid();
    assert.ok(s.raw.startsWith(`event: open\ndata: {"cid":"${cid}"}\n\n`), JSON.stringify(s.raw));

    const post = (frames: unknown): Promise<Response> => fetch(`${base}/send?cid=${cid}`, { method: 'POST', body: JSON.stringify(frames) });
    assert.equal((await post({ type: 'hello', v: 1 })).status, 204);
    const welcome = await s.next({ type: 'welcome' });
    assert.equal(welcome.resumed, false);
    assert.equal(sockets[0]?.transport, 'sse');
    assert.equal((await post([{ type: 'event', event: 'echo', ref: 1, data: 'a\nb' }])).status, 204);
    assert.equal((await s.next({ ref: 1 })).data, 'a\nb');
    assert.match(s.raw, /\n\ndata: \{"type":"reply","ref":1,"data":"a\\nb"\}\n\n$/, 'one data line per frame, newlines escaped');

    (sockets[0] as Socket).disconnect(true);
    assert.deepEqual(await s.next({}, 'close'), { code: 1000, reason: 'server disconnect' });
    await eventually(() => s.ended, 'the stream to end');
    assert.equal((await post({ type: 'ping' })).status, 404);
    await sb.close();
  });

  test('a close that comes after its stream dropped (a closing page\'s beacon) ends the session its resume token names; without the token, or with a code that keeps it, the session waits', async () => {
    const { sb, base } = await serve();
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push(reason)));
    const dropped = async (): Promise<{ cid: string; resume: string }> => {
      const s = await SseClient.open(base);
      const cid = await s.cid();
      await fetch(`${base}/send?cid=${cid}`, { method: 'POST', body: '{"type":"hello","v":1}' });
      const welcome = await s.next({ type: 'welcome' });
      s.controller.abort();
      await eventually(() => sb.connectionCount === 0, 'the server to notice the drop');
      return { cid, resume: welcome.resume as string };
    };
    // What a beacon sends: text/plain, no custom header, the answer unread.
    const beacon = (cid: string, body: unknown): Promise<Response> =>
      fetch(`${base}/close?cid=${cid}`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: JSON.stringify(body) });

    const a = await dropped();
    assert.equal((await errorOf(await beacon(a.cid, { code: 1001 }))).code, 'unknown_connection', 'no token: nothing to end');
    assert.equal((await errorOf(await beacon(a.cid, { code: 4005, resume: a.resume }))).code, 'unknown_connection', '4005 keeps a session');
    assert.equal((await errorOf(await beacon(a.cid, { code: 1001, resume: 'not-a-token' }))).code, 'unknown_connection');
    assert.equal(sb.sessionCount, 1);
    assert.deepEqual(reasons, []);
    assert.equal((await beacon(a.cid, { code: 1001, reason: 'page closed', resume: a.resume })).status, 204);
    await eventually(() => reasons.length === 1, 'the session to end');
    assert.deepEqual(reasons, ['client_disconnect']);
    assert.equal(sb.sessionCount, 0);
    await sb.close();
  });

  test('a client ending the stream is a dropped connection (1006): the session waits, and resumes over polling', async () => {
    // One connection per IP: the resume below shows the dropped stream no longer counts.
    const { sb, base } = await serve({ maxConnectionsPerIp: 1 });
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push(reason)));
    const s = await SseClient.open(base);
    const cid = await s.cid();
    await fetch(`${base}/send?cid=${cid}`, { method: 'POST', body: '{"type":"hello","v":1}' });
    const welcome = await s.next({ type: 'welcome' });
    s.controller.abort();
    await eventually(() => sb.connectionCount === 0, 'the server to notice');
    assert.equal(sb.sessionCount, 1);
    assert.deepEqual(reasons, []);
    const c = await PollingClient.open(base);
    const resumed = await c.hello({ resume: welcome.resume, received: 0 });
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.sid, welcome.sid);
    await sb.close();
  });
});

describe('opening requests', () => {
  test('origins: a refused page gets 403 origin_not_allowed; an allowed one gets CORS headers with credentials; preflights are answered', async () => {
    const { sb, base } = await serve();
    const refusals: ConnectionError[] = [];
    sb.on('connection_error', (error) => refusals.push(error));
    for (const endpoint of ['poll', 'sse']) {
      const res = await fetch(`${base}/${endpoint}`, { headers: { Origin: 'https://evil.example' } });
      // Readable by the page, with the credentials mode the client fetches with ('include').
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://evil.example', endpoint);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true', endpoint);
      const refused = await errorOf(res);
      assert.deepEqual([refused.status, refused.code], [403, 'origin_not_allowed'], endpoint);
      assert.match(refused.message, /evil\.example/);
    }
    assert.deepEqual(
      refusals.map(({ code, transport, origin, status, address }) => ({ code, transport, origin, status, address })),
      [
        { code: 'origin_not_allowed', transport: 'polling', origin: 'https://evil.example', status: 403, address: '127.0.0.1' },
        { code: 'origin_not_allowed', transport: 'sse', origin: 'https://evil.example', status: 403, address: '127.0.0.1' },
      ],
    );
    // A refused page's preflight passes (not cached), so that the real request goes and its refusal is read; a POST is refused too.
    const refusedPreflight = await fetch(`${base}/send?cid=x`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(refusedPreflight.status, 204);
    assert.equal(refusedPreflight.headers.get('access-control-allow-origin'), 'https://evil.example');
    assert.equal(refusedPreflight.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(refusedPreflight.headers.get('access-control-max-age'), null);
    const post = await fetch(`${base}/send?cid=x`, { method: 'POST', body: '{"type":"ping"}', headers: { Origin: 'https://evil.example' } });
    assert.equal(post.headers.get('access-control-allow-origin'), 'https://evil.example');
    assert.deepEqual(Object.values(await errorOf(post)).slice(0, 2), [403, 'origin_not_allowed']);
    const allowed = await fetch(`${base}/poll`, { headers: { Origin: 'http://localhost:5173' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    assert.match(allowed.headers.get('vary') ?? '', /Origin/);
    const { cid } = (await allowed.json()) as { cid: string };

    const preflight = await fetch(`${base}/send?cid=${cid}`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    await sb.close();
  });

  test('admission: 429 too_many_connections per IP, 503 server_full, 503 shutting_down', async () => {
    const { sb, base } = await serve({ maxConnectionsPerIp: 1 });
    const first = await PollingClient.open(base);
    const busy = await fetch(`${base}/poll`);
    assert.equal(busy.headers.get('retry-after'), '10');
    assert.deepEqual(Object.values(await errorOf(busy)).slice(0, 2), [429, 'too_many_connections']);
    assert.equal((await first.post('', 'close')).status, 204);
    await eventually(() => sb.connectionCount === 0, 'the first connection to close');
    const again = await PollingClient.open(base);
    assert.ok(again.cid);
    await sb.close();

    const { sb: full, base: fullBase } = await serve({ maxConnections: 1 });
    await PollingClient.open(fullBase);
    const refused = await errorOf(await fetch(`${fullBase}/sse`));
    assert.deepEqual([refused.status, refused.code], [503, 'server_full']);

    await full.close();

    // While it shuts down (a handler still runs), no new connection.
    let finish: (v: string) => void = () => {};
    const { sb: closing, base: closingBase } = await serve();
    closing.on('connection', (socket) => socket.on('slow', () => new Promise<string>((r) => (finish = r))));
    const c = await PollingClient.open(closingBase);
    await c.hello();
    await c.send({ type: 'event', event: 'slow', ref: 1 });
    await new Promise((r) => setTimeout(r, 30));
    const closed = closing.close({ deadline: 5000 });
    const shutting = await errorOf(await fetch(`${closingBase}/poll`));
    assert.deepEqual([shutting.status, shutting.code], [503, 'shutting_down']);
    finish('done');
    await closed;
  });

  test('option transports: a disabled transport answers 403 transport_disabled, the WebSocket upgrade too', async () => {
    const { sb, base, port } = await serve({ transports: ['polling'] });
    const sse = await errorOf(await fetch(`${base}/sse`));
    assert.deepEqual([sse.status, sse.code], [403, 'transport_disabled']);
    const upgrade = await attemptUpgrade(`ws://127.0.0.1:${port}/ws`);
    assert.equal(upgrade.status, 403);
    assert.match(upgrade.ws ? '' : upgrade.body, /^transport_disabled: /);
    const c = await PollingClient.open(base);
    assert.equal((await c.hello()).type, 'welcome');
    await sb.close();

    const { sb: wsOnly, base: wsBase } = await serve({ transports: ['websocket'] });
    for (const [endpoint, init] of [
      ['poll', {}],
      ['send?cid=x', { method: 'POST', body: '{}' }],
      ['close?cid=x', { method: 'POST', body: '' }],
    ] as const) {
      const error = await errorOf(await fetch(`${wsBase}/${endpoint}`, init));
      assert.deepEqual([error.status, error.code], [403, 'transport_disabled'], endpoint);
    }
    await wsOnly.close();

    assert.throws(() => new Switchboard(0, { transports: [] }), TypeError);
    assert.throws(() => new Switchboard(0, { transports: ['carrier-pigeon' as 'sse'] }), /transports/);
  });
});

describe('upgrade and shutdown', () => {
  test('a polling session resumes onto a WebSocket: every event exactly once, in order, and the poll is told session_taken_over', async () => {
    const { sb, base, port } = await serve();
    const c = await PollingClient.open(base);
    const welcome = await c.hello();
    await c.send({ type: 'join', ref: 1, room: 'feed' });
    await c.next({ ref: 1 });
    const [socket] = [...sb.sockets.sockets.values()];
    assert.equal(socket?.transport, 'polling');
    const total = 300;
    let sent = 0;
    const producer = setInterval(() => {
      for (let i = 0; i < 3 && sent < total; i++) sb.to('feed').emit('n', ++sent);
      if (sent >= total) clearInterval(producer);
    }, 1);
    const overHttp: number[] = [];
    while (overHttp.length < 60) {
      const { frames } = await c.poll();
      for (const f of frames) if (f.event === 'n') overHttp.push(f.data as number);
    }
    // A poll is in flight when the client switches: whatever it brings is ignored, and replayed on the WebSocket.
    const inFlight = c.poll();
    const received = c.received;
    const ws = await BareClient.open(`ws://127.0.0.1:${port}/ws`);
    const resumed = await ws.hello({ resume: welcome.resume, received });
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.sid, welcome.sid);
    assert.equal(socket?.transport, 'websocket', 'the same socket, now on the WebSocket');
    await inFlight;
    while (!c.closed) await c.poll();
    assert.equal(c.closed.code, 4004);
    assert.ok(c.frames.some((f) => f.type === 'error' && f.code === 'session_taken_over'));

    const overWs: number[] = [];
    while (overWs.length === 0 || (overWs.at(-1) as number) < total) overWs.push((await ws.next({ event: 'n' })).data as number);
    const all = [...overHttp, ...overWs];
    assert.deepEqual(all, Array.from({ length: total }, (_, i) => i + 1), 'nothing lost, nothing repeated, in order');
    assert.equal(sb.connectionCount, 1);
    ws.close();
    await sb.close();
  });

  test('shutdown: a waiting poll and an event stream are told 1001', async () => {
    const { sb, base } = await serve();
    const c = await PollingClient.open(base);
    await c.hello();
    const s = await SseClient.open(base);
    const cid = await s.cid();
    await fetch(`${base}/send?cid=${cid}`, { method: 'POST', body: '{"type":"hello","v":1}' });
    await s.next({ type: 'welcome' });
    const waiting = c.poll();
    await new Promise((r) => setTimeout(r, 30));
    await sb.close();
    assert.equal((await waiting).close?.code, 1001);
    assert.equal((await s.next({}, 'close')).code, 1001);
  });

  test('on an app server: Switchboard answers its HTTP transport paths, the app every other request, and gives them back on close', async () => {
    const app = createServer((_req, res) => res.end('app'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const sb = new Switchboard(app);
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const c = await PollingClient.open(`${base}/ws`);
    await c.hello();
    assert.equal(await (await fetch(`${base}/other`)).text(), 'app');
    await sb.close();
    assert.equal(await (await fetch(`${base}/ws/poll`)).text(), 'app');
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });
});
