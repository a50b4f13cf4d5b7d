/**
 * The SDK's HTTP transports (long-polling, SSE) on their own, against a scripted HTTP
 * server on a real port that speaks just the wire format of docs/PROTOCOL.md ("HTTP
 * transports") and records every request, so each rule of the format can be checked:
 * opening, frames in order, one POST in flight with the frames of a turn batched, the close
 * request after queued frames, closes and failures reported once, hold for the upgrade.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { HttpTransport, HttpTransportOptions, TransportClosed, TransportHandlers } from '../../src/client/client-transport.js';
import { HttpEndpoint } from '../../src/client/http-endpoint.js';
import { PollingTransport } from '../../src/client/polling-transport.js';
import { SseTransport } from '../../src/client/sse-transport.js';

interface Recorded {
  method: string;
  route: string;
  cid: string | null;
  body: string;
}

type Route = (req: IncomingMessage, res: ServerResponse, recorded: Recorded) => void;

class ScriptedHttp {
  readonly requests: Recorded[] = [];
  /** Per-route overrides of the default answers. */
  readonly routes = new Map<string, Route>();
  private pendingPoll: ServerResponse | undefined;
  private queued: unknown[] = [];
  private pendingClose: { code: number; reason: string } | undefined;
  streams: ServerResponse[] = [];
  private readonly waiters: (() => void)[] = [];

  private constructor(private readonly server: Server) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const recorded: Recorded = { method: req.method ?? '', route: url.pathname, cid: url.searchParams.get('cid'), body };
        this.requests.push(recorded);
        for (const wake of this.waiters.splice(0)) wake();
        const route = this.routes.get(url.pathname) ?? ((q, s, r) => this.answer(q, s, r));
        route(req, res, recorded);
      });
    });
  }

  static async start(): Promise<ScriptedHttp> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ScriptedHttp(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
  }

  /** Frames for the client: the waiting poll answers now, or the next poll takes them. */
  push(...frames: unknown[]): void {
    this.queued.push(...frames);
    this.flushPoll();
  }

  /** The next (or waiting) poll answers what is queued plus a close. */
  closePolling(code: number, reason: string): void {
    this.pendingClose = { code, reason };
    this.flushPoll();
  }

  /** Raw text on every open event stream. */
  writeSse(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }

  posts(route: string): Recorded[] {
    return this.requests.filter((r) => r.method === 'POST' && r.route === route);
  }

  /** Resolve once `check` holds, re-checked on every request and every 10 ms. */
  async until(check: () => boolean, what: string, ms = 3000): Promise<void> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}; requests: ${JSON.stringify(this.requests)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.destroy();
    this.pendingPoll?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse, recorded: Recorded): void {
    switch (`${req.method} ${recorded.route}`) {
      case 'GET /ws/poll':
        if (recorded.cid === null) return json(res, 200, { cid: 'c1', frames: [] });
        this.pendingPoll = res;
        this.flushPoll();
        return;
      case 'GET /ws/sse':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.write('event: open\ndata: {"cid":"s1"}\n\n');
        this.streams.push(res);
        return;
      case 'POST /ws/send':
      case 'POST /ws/close':
        res.writeHead(204);
        res.end();
        return;
      default:
        json(res, 404, { code: 'not_found', message: recorded.route });
    }
  }

  private flushPoll(): void {
    const res = this.pendingPoll;
    if (!res || (this.queued.length === 0 && !this.pendingClose)) return;
    this.pendingPoll = undefined;
    const answer: Record<string, unknown> = { frames: this.queued.splice(0) };
    if (this.pendingClose) answer.close = this.pendingClose;
    this.pendingClose = undefined;
    json(res, 200, answer);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Handlers that record what the transport reported. */
function recorder(): { handlers: TransportHandlers; opened: () => boolean; texts: string[]; closes: TransportClosed[] } {
  let opened = false;
  const texts: string[] = [];
  const closes: TransportClosed[] = [];
  return {
    handlers: {
      onOpen: () => (opened = true),
      onText: (text) => texts.push(text),
      onBinary: () => assert.fail('no binary on HTTP'),
      onClose: (closed) => closes.push(closed),
    },
    opened: () => opened,
    texts,
    closes,
  };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every request the transports make, recorded the moment they call fetch: what the client
 * decided, before any of it reaches the server. Posting and polling run on promises, not
 * timers, so after one turn of the event loop nothing more is on its way: "no request was
 * made" is read here instead of waited for at the server.
 */
const fetched: { method: string; route: string }[] = [];
const realFetch = globalThis.fetch;
const fetchedCount = (method: string, route: string): number => fetched.filter((f) => f.method === method && f.route === route).length;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let server: ScriptedHttp;
const open: HttpTransport[] = [];
beforeEach(async () => {
  server = await ScriptedHttp.start();
  fetched.length = 0;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    fetched.push({ method: init?.method ?? 'GET', route: new URL(String(input)).pathname });
    return realFetch(input, init);
  }) as typeof fetch;
});
afterEach(async () => {
  globalThis.fetch = realFetch;
  for (const transport of open.splice(0)) transport.abandon();
  await server.close();
});

type Make = (handlers: TransportHandlers, maxBytes?: () => number | undefined) => HttpTransport;
const options = (maxBatchBytes: () => number | undefined = () => undefined, openTimeoutMs = 2000): HttpTransportOptions => ({ maxBatchBytes, openTimeoutMs });
const kinds: [string, Make][] = [
  ['long-polling', (h, max) => track(new PollingTransport(new HttpEndpoint(server.url), h, options(max)))],
  ['SSE', (h, max) => track(new SseTransport(new HttpEndpoint(server.url), h, options(max)))],
];

function track(transport: HttpTransport): HttpTransport {
  open.push(transport);
  return transport;
}

for (const [name, make] of kinds) {
  describe(`${name}: sending`, () => {
    it('is not open before the connection id arrives, and sends nothing then', async () => {
      const r = recorder();
      const transport = make(r.handlers);
      assert.equal(transport.isOpen, false);
      assert.equal(transport.send('{"type":"hello","v":1}'), false);
      await server.until(r.opened, 'open');
      assert.equal(transport.isOpen, true);
    });

    it('posts the frames of one turn together, one POST in flight at a time, in order', async () => {
      let release: (() => void) | undefined;
      server.routes.set('/ws/send', (_req, res) => {
        // The first POST waits until the test lets it go; the rest answer at once.
        if (release === undefined && server.posts('/ws/send').length === 1) {
          release = () => {
            res.writeHead(204);
            res.end();
          };
          return;
        }
        res.writeHead(204);
        res.end();
      });
      const r = recorder();
      const transport = make(r.handlers);
      await server.until(r.opened, 'open');
      transport.send('{"n":1}');
      transport.send('{"n":2}');
      await server.until(() => server.posts('/ws/send').length === 1, 'the first POST');
      transport.send('{"n":3}');
      await turn();
      transport.send('{"n":4}');
      await turn();
      assert.equal(fetchedCount('POST', '/ws/send'), 1, 'no second POST while the first is in flight');
      release?.();
      await server.until(() => server.posts('/ws/send').length === 2, 'the second POST');
      const bodies = server.posts('/ws/send').map((p) => JSON.parse(p.body) as unknown);
      assert.deepEqual(bodies, [[{ n: 1 }, { n: 2 }], [{ n: 3 }, { n: 4 }]]);
      assert.ok(server.posts('/ws/send').every((p) => p.cid === (name === 'SSE' ? 's1' : 'c1')));
    });

    it('keeps each POST within the byte limit, a single frame over it alone', async () => {
      const r = recorder();
      const transport = make(r.handlers, () => 30);
      await server.until(r.opened, 'open');
      const small = (n: number): string => `{"n":${n}}`; // 7 bytes
      for (const n of [1, 2, 3]) transport.send(small(n));
      transport.send(`{"big":"${'x'.repeat(40)}"}`);
      transport.send(small(4));
      await server.until(() => server.posts('/ws/send').length === 3, 'three POSTs');
      const bodies = server.posts('/ws/send').map((p) => p.body);
      assert.deepEqual(bodies, ['[{"n":1},{"n":2},{"n":3}]', `{"big":"${'x'.repeat(40)}"}`, '{"n":4}']);
    });

    it('close() posts the frames still queued, then the close code; no onClose follows', async () => {
      const r = recorder();
      const transport = make(r.handlers);
      await server.until(r.opened, 'open');
      transport.send('{"n":1}');
      transport.close(4005, 'network offline');
      assert.equal(transport.isOpen, false);
      assert.equal(transport.send('{"n":2}'), false);
      await server.until(() => server.posts('/ws/close').length === 1, 'the close request');
      const posts = server.requests.filter((q) => q.method === 'POST');
      assert.deepEqual(
        posts.map((p) => [p.route, p.body]),
        [
          ['/ws/send', '{"n":1}'],
          ['/ws/close', '{"code":4005,"reason":"network offline"}'],
        ],
      );
      await delay(30);
      assert.deepEqual(r.closes, []);
    });

    it('a POST refused with 404 unknown_connection is a lost connection (1006), reported once', async () => {
      server.routes.set('/ws/send', (_req, res) => json(res, 404, { code: 'unknown_connection', message: 'no such connection' }));
      const r = recorder();
      const transport = make(r.handlers);
      await server.until(r.opened, 'open');
      transport.send('{"n":1}');
      await server.until(() => r.closes.length === 1, 'the close');
      await delay(30);
      assert.equal(r.closes.length, 1);
      assert.equal(r.closes[0]?.code, 1006);
      assert.equal(r.closes[0]?.opened, true);
      assert.match(r.closes[0]?.errorMessage ?? '', /404.*unknown_connection/);
      assert.equal(transport.isOpen, false);
    });

    it('a POST refused with 413 closes with 1009, as a frame over the limit does on a WebSocket', async () => {
      server.routes.set('/ws/send', (_req, res) => json(res, 413, { code: 'message_too_big', message: 'too big' }));
      const r = recorder();
      const transport = make(r.handlers);
      await server.until(r.opened, 'open');
      transport.send('{"n":1}');
      await server.until(() => r.closes.length === 1, 'the close');
      assert.equal(r.closes[0]?.code, 1009);
      assert.equal(r.closes[0]?.reason, 'message_too_big');
    });

    it('hold() waits for the POST in flight; frames sent meanwhile are held, then taken or released', async () => {
      let release: (() => void) | undefined;
      server.routes.set('/ws/send', (_req, res) => {
        const answer = (): void => {
          res.writeHead(204);
          res.end();
        };
        if (server.posts('/ws/send').length === 1) release = answer;
        else answer();
      });
      const r = recorder();
      const transport = make(r.handlers);
      await server.until(r.opened, 'open');
      transport.send('{"n":1}');
      await server.until(() => release !== undefined, 'the first POST');
      let held = false;
      const holding = transport.hold().then(() => (held = true));
      assert.equal(transport.send('{"n":2}'), true, 'sending goes on (into the hold)');
      await turn();
      assert.equal(held, false, 'the POST in flight is not taken in yet');
      release?.();
      await holding;
      transport.send('{"n":3}');
      await turn();
      assert.equal(fetchedCount('POST', '/ws/send'), 1, 'nothing posted while held');
      assert.deepEqual(transport.takeHeld(), ['{"n":2}', '{"n":3}']);
      transport.send('{"n":4}');
      transport.release();
      await server.until(() => server.posts('/ws/send').length === 2, 'the released frames');
      assert.equal(server.posts('/ws/send')[1]?.body, '{"n":4}');
    });
  });
}

describe('long-polling: receiving', () => {
  it('opens with GET poll, then polls with the cid and hands frames over in order', async () => {
    const r = recorder();
    make('polling', r.handlers);
    await server.until(r.opened, 'open');
    server.push({ type: 'welcome', n: 1 }, { type: 'event', n: 2 });
    await server.until(() => r.texts.length === 2, 'two frames');
    server.push({ type: 'event', n: 3 });
    await server.until(() => r.texts.length === 3, 'the third frame');
    assert.deepEqual(
      r.texts.map((t) => (JSON.parse(t) as { n: number }).n),
      [1, 2, 3],
    );
    const polls = server.requests.filter((q) => q.route === '/ws/poll');
    assert.equal(polls[0]?.cid, null, 'the first GET opens');
    assert.ok(polls.slice(1).every((q) => q.cid === 'c1'), 'the others poll with the cid');
  });

  it('a close in the answer comes after its frames, once; no more polls follow', async () => {
    const r = recorder();
    make('polling', r.handlers);
    await server.until(r.opened, 'open');
    server.push({ type: 'error', code: 'unauthorized' });
    server.closePolling(1008, 'unauthorized');
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.texts.length, 1);
    assert.deepEqual(r.closes[0], { code: 1008, reason: 'unauthorized', opened: true, errorMessage: undefined });
    const polls = fetchedCount('GET', '/ws/poll');
    assert.ok(polls >= 2, 'the opening GET and the poll that got the close');
    await turn();
    assert.equal(fetchedCount('GET', '/ws/poll'), polls, 'no poll after the close');
  });

  it('a poll answered 404 unknown_connection is a lost connection (1006)', async () => {
    server.routes.set('/ws/poll', (_req, res, recorded) => {
      if (recorded.cid === null) json(res, 200, { cid: 'c1', frames: [] });
      else json(res, 404, { code: 'unknown_connection', message: 'no such connection' });
    });
    const r = recorder();
    make('polling', r.handlers);
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.closes[0]?.code, 1006);
    assert.equal(r.closes[0]?.opened, true);
  });

  it('an open refused with a JSON body reports the server code as a refusal, not opened', async () => {
    server.routes.set('/ws/poll', (_req, res) => json(res, 503, { code: 'server_full', message: 'at capacity' }));
    const r = recorder();
    make('polling', r.handlers);
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.opened(), false);
    assert.equal(r.closes[0]?.opened, false);
    assert.deepEqual(r.closes[0]?.refusal, { code: 'server_full', message: 'at capacity' });
  });

  it('an opening request that gets no answer in time fails as not opened', async () => {
    server.routes.set('/ws/poll', () => {}); // never answered
    const r = recorder();
    make('polling', r.handlers, 100);
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.closes[0]?.opened, false);
    assert.match(r.closes[0]?.errorMessage ?? '', /not open within 100 ms/);
  });

  it('an answer without a cid does not open', async () => {
    server.routes.set('/ws/poll', (_req, res) => json(res, 200, { frames: [] }));
    const r = recorder();
    make('polling', r.handlers);
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.closes[0]?.opened, false);
  });

  it('mute() stops the handlers; abandon() sends no close request', async () => {
    const r = recorder();
    const transport = make('polling', r.handlers);
    await server.until(r.opened, 'open');
    transport.mute();
    const polls = fetchedCount('GET', '/ws/poll');
    server.push({ type: 'event', n: 1 });
    // The next poll starts once the answer carrying the event was handled: a fence.
    await server.until(() => fetchedCount('GET', '/ws/poll') > polls, 'the next poll');
    assert.deepEqual(r.texts, []);
    transport.abandon();
    await turn();
    assert.equal(fetchedCount('POST', '/ws/close'), 0);
    assert.deepEqual(r.closes, []);
  });
});

describe('SSE: receiving', () => {
  it('an open event, then one frame per message event, even when events are split across chunks', async () => {
    const r = recorder();
    make('sse', r.handlers);
    await server.until(r.opened, 'open');
    server.writeSse('data: {"type":"welcome","n":1}\n\n: a comment\r\n');
    server.writeSse('data: {"type":"event",');
    await delay(20);
    server.writeSse('"n":2}\r');
    await delay(20);
    server.writeSse('\n\r\nevent: unknown-later\ndata: x\n\n');
    await server.until(() => r.texts.length === 2, 'two frames');
    assert.deepEqual(r.texts, ['{"type":"welcome","n":1}', '{"type":"event","n":2}']);
  });

  it('a stream whose open event does not come in time (a buffering proxy) fails as not opened', async () => {
    server.routes.set('/ws/sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': buffered somewhere\n');
      server.streams.push(res);
    });
    const r = recorder();
    make('sse', r.handlers, 100);
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.closes[0]?.opened, false);
    assert.match(r.closes[0]?.errorMessage ?? '', /not open within 100 ms/);
  });

  it('a close event ends the connection with its code', async () => {
    const r = recorder();
    make('sse', r.handlers);
    await server.until(r.opened, 'open');
    server.writeSse('data: {"type":"error","code":"session_taken_over"}\n\nevent: close\ndata: {"code":4004,"reason":"session_taken_over"}\n\n');
    await server.until(() => r.closes.length === 1, 'the close');
    assert.deepEqual(r.closes[0], { code: 4004, reason: 'session_taken_over', opened: true, errorMessage: undefined });
    assert.equal(r.texts.length, 1);
  });

  it('a stream that ends without a close event is a lost connection (1006)', async () => {
    const r = recorder();
    make('sse', r.handlers);
    await server.until(r.opened, 'open');
    for (const stream of server.streams) stream.end();
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.closes[0]?.code, 1006);
    assert.equal(r.closes[0]?.opened, true);
  });

  it('an answer that is not an event stream does not open', async () => {
    server.routes.set('/ws/sse', (_req, res) => json(res, 200, { hello: 'proxy' }));
    const r = recorder();
    make('sse', r.handlers);
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.closes[0]?.opened, false);
    assert.match(r.closes[0]?.errorMessage ?? '', /not text\/event-stream/);
  });

  it('a refusal with transport_disabled is reported with its code', async () => {
    server.routes.set('/ws/sse', (_req, res) => json(res, 403, { code: 'transport_disabled', message: 'no SSE here' }));
    const r = recorder();
    make('sse', r.handlers);
    await server.until(() => r.closes.length === 1, 'the close');
    assert.equal(r.closes[0]?.refusal?.code, 'transport_disabled');
  });

  it('close() asks the server to close before it drops the stream', async () => {
    let streamGoneAt = -1;
    let closeAt = -1;
    const r = recorder();
    const transport = make('sse', r.handlers);
    await server.until(r.opened, 'open');
    server.streams[0]?.on('close', () => (streamGoneAt = server.requests.length));
    server.routes.set('/ws/close', (_req, res) => {
      closeAt = server.requests.length;
      // The server ends the stream itself when it closes the connection.
      setTimeout(() => {
        res.writeHead(204);
        res.end();
      }, 30);
    });
    transport.close(1000, 'client closed');
    await server.until(() => streamGoneAt !== -1, 'the stream to go');
    assert.ok(closeAt !== -1 && closeAt <= streamGoneAt, 'the close request came first');
    assert.equal(server.posts('/ws/close')[0]?.body, '{"code":1000,"reason":"client closed"}');
  });
});

function make(kind: 'polling' | 'sse', handlers: TransportHandlers, openTimeoutMs?: number): HttpTransport {
  const endpoint = new HttpEndpoint(server.url);
  const o = options(undefined, openTimeoutMs);
  return track(kind === 'polling' ? new PollingTransport(endpoint, handlers, o) : new SseTransport(endpoint, handlers, o));
}
