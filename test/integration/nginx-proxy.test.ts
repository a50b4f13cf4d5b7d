/**
 * Switchboard behind a real nginx (Debian's, started by the test on loopback), with the
 * configuration docs/DEPLOYMENT.md documents — read from that file, so the doc cannot
 * drift from what is tested — and with each of the classic mistakes it lists. Timeouts
 * are scaled down (nginx's read timeout to seconds, heartbeats and long-poll holds below
 * or above it) so every case shows in a few seconds.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { type ConnectInfo, type ClientOptions, connect, type StateChange, type SwitchboardClient, type WebSocketConstructor } from '../../src/client/node.js';
import { createServer } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Socket, Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import { documentedNginxBlock, Nginx, replaceLines } from '../helpers/nginx.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { eventually, startServer } from '../helpers/server.js';
import { attemptUpgrade } from '../helpers/upgrade-attempt.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const fastReconnect = { reconnect: { delay: 20, maxDelay: 100 } };
/** Heartbeats well inside the scaled-down read timeout of 2 s. */
const fastHeartbeat = { interval: 500, timeout: 1000 };
/** Heartbeats that never come during a test: only the transport's own traffic keeps nginx from timing out. */
const slowHeartbeat = { interval: 30_000, timeout: 30_000 };
const READ_TIMEOUT_S = 2;
/** Idle time in the timeout tests: twice nginx's read timeout. */
const IDLE_MS = 2 * READ_TIMEOUT_S * 1000;

// --- the documented configuration -------------------------------------------------------

const MARKER = 'read and run by test/integration/nginx-proxy.test.ts';

/** The nginx block of docs/DEPLOYMENT.md that follows the marker comment. */
function documentedConfig(): string {
  return documentedNginxBlock(MARKER);
}

/** What a test changes in the documented configuration: where it runs, and the mistakes it makes on purpose. */
interface ConfigChanges {
  upstreams: number[];
  /** A sticky-routing directive for the upstream block (the doc's several-nodes snippet: `ip_hash;`). */
  sticky?: string;
  /** Certificate and key files: the documented TLS server; otherwise the same server without TLS. */
  tls?: { cert: string; key: string };
  /** Replaces the documented `proxy_read_timeout 60s`. */
  readTimeout?: string;
  /** Documented directives (whole lines, as written in the doc) to leave out, everywhere they occur. */
  drop?: string[];
  /** Extra directives at the top of `location /ws`. */
  add?: string[];
}

/** The documented configuration with `changes`, listening on 127.0.0.1:`port`. */
function siteConfig(port: number, changes: ConfigChanges): string {
  let text = documentedConfig();
  const servers = [...(changes.sticky ? [changes.sticky] : []), ...changes.upstreams.map((p) => `server 127.0.0.1:${p};`)];
  text = replaceLines(text, 'server 127.0.0.1:3000;', servers);
  text = replaceLines(text, 'listen 443 ssl;', [`listen 127.0.0.1:${port}${changes.tls ? ' ssl' : ''};`]);
  text = replaceLines(text, /^ssl_certificate\s/, changes.tls ? [`ssl_certificate ${changes.tls.cert};`] : []);
  text = replaceLines(text, /^ssl_certificate_key\s/, changes.tls ? [`ssl_certificate_key ${changes.tls.key};`] : []);
  if (changes.readTimeout) text = replaceLines(text, 'proxy_read_timeout 60s;', [`proxy_read_timeout ${changes.readTimeout};`]);
  for (const line of changes.drop ?? []) text = replaceLines(text, line, []);
  if (changes.add) text = replaceLines(text, 'location /ws {', ['location /ws {', ...changes.add.map((line) => `    ${line}`)]);
  return text;
}

// --- rigs -------------------------------------------------------------------------------

interface Rig {
  sb: Switchboard;
  nginx: Nginx;
  /** The Switchboard URL as clients see it: through nginx. */
  url: string;
}

/**
 * A Switchboard on port 0 behind an nginx running the documented configuration with
 * `changes`; both stop after the test. `onAppServer`: as in the doc's Node side, attached
 * to an app's own server on 127.0.0.1 (whose app answers every other request with 404),
 * instead of a server Switchboard creates.
 */
async function rig(t: TestContext, server: SwitchboardOptions, changes: Omit<ConfigChanges, 'upstreams'> = {}, onAppServer = false): Promise<Rig> {
  const { sb, port, stop } = onAppServer ? await startOnAppServer(server) : { ...(await startServer(server)), stop: undefined };
  t.after(async () => {
    await sb.close({ deadline: 10 });
    await stop?.();
  });
  const nginx = await Nginx.start({ http: (listen) => siteConfig(listen, { ...changes, upstreams: [port] }) });
  t.after(() => nginx.stop());
  return { sb, nginx, url: `${changes.tls ? 'wss' : 'ws'}://127.0.0.1:${nginx.port}/ws` };
}

async function startOnAppServer(options: SwitchboardOptions): Promise<{ sb: Switchboard; port: number; stop: () => Promise<void> }> {
  const http = createServer((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('app: no such page\n');
  });
  const sb = new Switchboard(http, options);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  return { sb, port: (http.address() as AddressInfo).port, stop };
}

/** `ws` for the SDK, from another loopback address and with extra request headers. */
function webSocketFrom(localAddress: string, headers: Record<string, string> = {}, ca?: string): WebSocketConstructor {
  return class WebSocketFrom extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { localAddress, headers, ...(ca ? { ca } : {}) });
    }
  };
}

function httpsJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    }).on('error', reject);
  });
}

/** An SDK client closed after the test, with every state change it went through. */
function client(t: TestContext, url: string, options: ClientOptions = {}): { client: SwitchboardClient; changes: StateChange[] } {
  const c = connect(url, { ...fastReconnect, ...options });
  t.after(() => c.close());
  const changes: StateChange[] = [];
  c.on('state', (change) => changes.push(change));
  return { client: c, changes };
}

function nextConnect(c: SwitchboardClient, ms = 5000): Promise<ConnectInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect within ${ms} ms (state ${c.state})`)), ms);
    c.once('connect', (info: ConnectInfo) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}

/** Every connection answers `shout` with an ack and an `echo` event. */
function serveShout(sb: Switchboard, seen: Socket[] = []): Socket[] {
  sb.on('connection', (socket) => {
    seen.push(socket);
    socket.on('shout', (text: string) => {
      socket.emit('echo', text.toUpperCase());
      return `got ${text}`;
    });
  });
  return seen;
}

/** An event and an ack round trip through the proxy. */
async function assertWorks(c: SwitchboardClient, text: string): Promise<void> {
  const echoed = new Promise((resolve) => c.once('echo', resolve));
  assert.equal(await c.emitWithAck('shout', text), `got ${text}`);
  assert.equal(await echoed, text.toUpperCase());
}

const log = (nginx: Nginx, pattern: RegExp): string[] => nginx.accessLog().filter((line) => pattern.test(line));

// --- WebSocket through the documented configuration -----------------------------------

describe('nginx with the documented configuration: WebSocket', { timeout: 30_000 }, () => {
  test('the WebSocket goes through (101) to Switchboard on the app\'s server: events and acks work, and trustProxy: 1 sees the address nginx saw, not the one the client wrote', async (t) => {
    const { sb, nginx, url } = await rig(t, { trustProxy: 1 }, {}, true);
    const seen = serveShout(sb);
    const { client: c } = client(t, url, { WebSocket: webSocketFrom('127.0.0.2', { 'X-Forwarded-For': '203.0.113.7' }) });
    await nextConnect(c);
    await assertWorks(c, 'hello through nginx');
    assert.equal(c.transport, 'websocket');
    const [socket] = seen;
    assert.ok(socket);
    assert.equal(socket.transport, 'websocket');
    assert.equal(socket.handshake.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.2', 'nginx appended the address it saw');
    assert.equal(socket.handshake.address, '127.0.0.2');
    c.close();
    await eventually(() => log(nginx, /^GET \/ws HTTP\/1\.1 101 /).length === 1, 'the access log line of the WebSocket (written when it closes)');
  });

  test('TLS terminated by nginx: wss:// to nginx, plain HTTP to Switchboard, X-Forwarded-Proto https', async (t) => {
    const pem = selfSignedCertificate();
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-nginx-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tls = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
    writeFileSync(tls.cert, pem.cert);
    writeFileSync(tls.key, pem.key);
    const { sb, nginx } = await rig(t, {}, { tls });
    const seen = serveShout(sb);
    const { client: c } = client(t, `wss://localhost:${nginx.port}/ws`, { WebSocket: webSocketFrom('127.0.0.1', {}, pem.cert) });
    await nextConnect(c);
    await assertWorks(c, 'secret');
    assert.equal(seen[0]?.handshake.headers['x-forwarded-proto'], 'https');
    assert.equal(seen[0]?.transport, 'websocket');
    // The fallback's endpoints answer on the same https origin.
    const opened = await httpsJson(`https://localhost:${nginx.port}/ws/poll`, pem.cert);
    assert.equal(opened.status, 200);
    assert.equal(typeof (opened.body as { cid?: unknown }).cid, 'string');
  });

  test(`an idle WebSocket outlives proxy_read_timeout (${READ_TIMEOUT_S}s) when heartbeats are more frequent: same connection, no reconnect`, async (t) => {
    const { sb, nginx, url } = await rig(t, { heartbeat: fastHeartbeat }, { readTimeout: `${READ_TIMEOUT_S}s` });
    serveShout(sb);
    const { client: c, changes } = client(t, url);
    await nextConnect(c);
    const id = c.id;
    const before = changes.length;
    await delay(IDLE_MS);
    assert.deepEqual(changes.slice(before), [], 'no state change while idle');
    assert.equal(c.id, id);
    await assertWorks(c, 'still here');
    assert.doesNotMatch(nginx.errorLog(), /timed out/);
    c.close();
    await eventually(() => log(nginx, /^GET \/ws /).length === 1, 'the access log line of the WebSocket');
    assert.match(log(nginx, /^GET \/ws /)[0] as string, / 101 /, 'one WebSocket for the whole test');
  });

  test('control (mistake 2): heartbeats slower than proxy_read_timeout — nginx cuts the idle WebSocket with 1006 and the client resumes', async (t) => {
    const { sb, nginx, url } = await rig(t, { heartbeat: slowHeartbeat }, { readTimeout: `${READ_TIMEOUT_S}s` });
    serveShout(sb);
    const { client: c } = client(t, url);
    await nextConnect(c);
    const id = c.id;
    const dropped = new Promise<{ reason: string; closeCode: number | undefined }>((resolve) =>
      c.once('disconnect', (reason, details) => resolve({ reason, closeCode: details.closeCode })),
    );
    const resumed = new Promise<ConnectInfo>((resolve) => dropped.then(() => c.once('connect', resolve)));
    const outcome = await Promise.race([dropped, delay(IDLE_MS + 2000).then(() => undefined)]);
    assert.ok(outcome, `nginx should have cut the connection after ${READ_TIMEOUT_S}s without data`);
    assert.deepEqual(outcome, { reason: 'transport_closed', closeCode: 1006 });
    assert.equal((await resumed).resumed, true);
    assert.equal(c.id, id);
    await assertWorks(c, 'back');
    assert.match(nginx.errorLog(), /upstream timed out .* while proxying upgraded connection/);
  });

  test('mistake 3: HTTP/1.0 to the upstream (no proxy_http_version) with the Upgrade headers still upgrades with Switchboard', async (t) => {
    const { sb, nginx, url } = await rig(t, {}, { drop: ['proxy_http_version 1.1;'] });
    serveShout(sb);
    const versions: string[] = [];
    sb.httpServer.prependListener('upgrade', (req) => versions.push(req.httpVersion));
    const { client: c } = client(t, url);
    await nextConnect(c);
    await assertWorks(c, 'old http');
    assert.equal(c.transport, 'websocket');
    assert.deepEqual(versions, ['1.0'], 'nginx spoke HTTP/1.0 to Switchboard');
    c.close();
    await eventually(() => log(nginx, /^GET \/ws HTTP\/1\.1 101 /).length === 1, 'the access log line of the WebSocket');
  });

  test('mistake 5: without "proxy_set_header Host" a browser page of the site is refused (close 1008 origin_not_allowed); with it, allowed', async (t) => {
    const page = { headers: { Host: 'chat.example.com' }, origin: 'https://chat.example.com' };
    const documented = await rig(t, {});
    const allowed = await attemptUpgrade(documented.url, page);
    allowed.ws?.terminate();
    assert.equal(allowed.status, 101);

    const noHost = await rig(t, {}, { drop: ['proxy_set_header Host $host;'] });
    const hosts: unknown[] = [];
    noHost.sb.httpServer.prependListener('upgrade', (req) => hosts.push(req.headers.host));
    const refusals: { code: string; message: string }[] = [];
    noHost.sb.on('connection_error', (error) => refusals.push(error));
    const refused = await attemptUpgrade(noHost.url, page);
    assert.deepEqual(hosts, ['switchboard'], 'nginx sent the upstream\'s name as Host');
    assert.equal(refused.status, 101, 'upgraded only to be closed, so that a browser page can read why');
    const [code, reason] = (await once(refused.ws as WebSocket, 'close')) as [number, Buffer];
    assert.equal(code, 1008);
    assert.match(reason.toString(), /^origin_not_allowed: /);
    assert.equal(refusals[0]?.code, 'origin_not_allowed', 'the server log says so too');
    assert.match(refusals[0]?.message ?? '', /chat\.example\.com/);
  });

  test('mistake 6: without trustProxy every client has nginx\'s address and they share one per-IP budget; trustProxy: 1 separates them', async (t) => {
    const onePerIp = { maxConnectionsPerIp: 1 };
    const plain = await rig(t, onePerIp);
    const seen = serveShout(plain.sb);
    const { client: c } = client(t, plain.url, { WebSocket: webSocketFrom('127.0.0.2') });
    await nextConnect(c);
    assert.equal(seen[0]?.handshake.address, '127.0.0.1');
    assert.equal(seen[0]?.handshake.headers['x-forwarded-for'], '127.0.0.2', 'the header was there, unused');
    const other = await attemptUpgrade(plain.url, { localAddress: '127.0.0.3' });
    other.ws?.terminate();
    assert.equal(other.status, 429, 'another user, refused: nginx\'s address holds its one connection');
    assert.match(other.body, /^too_many_connections: /);

    const trusting = await rig(t, { ...onePerIp, trustProxy: 1 });
    const first = await attemptUpgrade(trusting.url, { localAddress: '127.0.0.2' });
    const second = await attemptUpgrade(trusting.url, { localAddress: '127.0.0.3' });
    first.ws?.terminate();
    second.ws?.terminate();
    assert.deepEqual([first.status, second.status], [101, 101]);
  });

  test('mistake 6: trustProxy: true believes the leftmost X-Forwarded-For entry, which the client wrote', async (t) => {
    const { sb, url } = await rig(t, { trustProxy: true });
    const seen = serveShout(sb);
    const { client: c } = client(t, url, { WebSocket: webSocketFrom('127.0.0.2', { 'X-Forwarded-For': '203.0.113.7' }) });
    await nextConnect(c);
    assert.equal(seen[0]?.handshake.address, '203.0.113.7');
  });
});

// --- without the Upgrade and Connection headers: the fallback --------------------------

const NO_UPGRADE_HEADERS = ['proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection $connection_upgrade;'];

describe('nginx without the Upgrade/Connection headers (mistake 1)', { timeout: 30_000 }, () => {
  test('the upgrade reaches Switchboard as a plain GET: 426, and a WebSocket-only client cannot connect', async (t) => {
    const { nginx, url } = await rig(t, {}, { drop: NO_UPGRADE_HEADERS });
    const attempt = await attemptUpgrade(url);
    attempt.ws?.terminate();
    assert.equal(attempt.status, 426);
    const { client: c } = client(t, url, { transports: ['websocket'] });
    const failures: Error[] = [];
    c.on('connect_error', (error) => failures.push(error));
    await eventually(() => failures.length >= 2, 'the SDK to try twice');
    for (const failure of failures) assert.match(failure.message, /426/);
    assert.equal(c.connected, false);
    assert.ok(log(nginx, /^GET \/ws HTTP\/1\.1 426 /).length >= 3);
  });

  test('Switchboard on the app\'s own server: the app answers the plain GET /ws (404 here), and the SDK falls back the same way', async (t) => {
    const { sb, nginx, url } = await rig(t, {}, { drop: NO_UPGRADE_HEADERS }, true);
    serveShout(sb);
    const attempt = await attemptUpgrade(url);
    attempt.ws?.terminate();
    assert.equal(attempt.status, 404);
    assert.equal(attempt.body, 'app: no such page\n');
    const { client: c } = client(t, url);
    await nextConnect(c);
    assert.notEqual(c.transport, 'websocket');
    await assertWorks(c, 'past the app');
    assert.ok(log(nginx, /^GET \/ws HTTP\/1\.1 404 /).length >= 2);
  });

  for (const [name, drop] of [
    ['proxy_http_version 1.1 without the two headers', NO_UPGRADE_HEADERS],
    ['a bare proxy_pass (HTTP/1.0, no headers: mistake 3 too)', [...NO_UPGRADE_HEADERS, 'proxy_http_version 1.1;']],
  ] as const) {
    test(`${name}: the SDK falls back to HTTP and works — events, acks, the server sees the same transport`, async (t) => {
      const { sb, nginx, url } = await rig(t, { trustProxy: 1 }, { drop: [...drop] });
      const seen = serveShout(sb);
      const { client: c, changes } = client(t, url);
      await nextConnect(c);
      assert.notEqual(c.transport, 'websocket');
      assert.ok(c.transport === 'sse' || c.transport === 'polling', `transport ${String(c.transport)}`);
      await assertWorks(c, 'over http');
      const before = changes.length;
      // The first attempt's 426, then the background probe's: a failed probe changes nothing for the app.
      await eventually(() => log(nginx, /^GET \/ws HTTP\/1\.[01] 426 /).length >= 2, 'a WebSocket probe', 5000);
      await assertWorks(c, 'and again');
      assert.deepEqual(changes.slice(before), []);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.transport, c.transport);
      assert.equal(seen[0]?.handshake.address, '127.0.0.1');
      assert.deepEqual(log(nginx, / 101 /), [], 'no WebSocket ever opened');
      assert.ok(log(nginx, /^(GET \/ws\/(sse|poll)|POST \/ws\/send)/).length > 0, 'the fallback requests went through nginx');
    });
  }
});

// --- the HTTP transports through nginx ---------------------------------------------------

/** Server-sent events of a fetch response, as { event, data } in order of arrival. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}

/** Compression of event streams: nginx's gzip collects a buffered response's output until its buffer fills. */
const GZIP_EVENT_STREAMS = ['gzip on;', 'gzip_types text/event-stream;'];

describe('nginx with the documented configuration: HTTP transports', { timeout: 30_000 }, () => {
  test('SSE streams through nginx even with gzip on for event streams (X-Accel-Buffering: no): the open event and the welcome arrive as sent', async (t) => {
    const { nginx } = await rig(t, {}, { add: GZIP_EVENT_STREAMS });
    const base = `http://127.0.0.1:${nginx.port}/ws`;
    const abort = new AbortController();
    t.after(() => abort.abort());
    const response = await fetch(`${base}/sse`, { signal: abort.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(response.headers.get('content-encoding'), 'gzip', 'nginx compresses the stream');
    assert.ok(response.body);
    const events = sseEvents(response.body);
    const open = (await events.next()).value;
    assert.equal(open?.event, 'open');
    const { cid } = JSON.parse(open?.data ?? '{}') as { cid: string };
    const sent = await fetch(`${base}/send?cid=${encodeURIComponent(cid)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'hello', v: 1 }),
    });
    assert.equal(sent.status, 204);
    const welcome = (await events.next()).value;
    assert.equal(welcome?.event, 'message');
    assert.equal((JSON.parse(welcome?.data ?? '{}') as { type?: string }).type, 'welcome');
  });

  test(`an idle SSE connection outlives proxy_read_timeout (${READ_TIMEOUT_S}s) thanks to heartbeats`, async (t) => {
    const { sb, nginx, url } = await rig(t, { heartbeat: fastHeartbeat }, { readTimeout: `${READ_TIMEOUT_S}s` });
    serveShout(sb);
    const { client: c, changes } = client(t, url, { transports: ['sse'], upgrade: false });
    await nextConnect(c);
    assert.equal(c.transport, 'sse');
    const before = changes.length;
    await delay(IDLE_MS);
    assert.deepEqual(changes.slice(before), [], 'no state change while idle');
    await assertWorks(c, 'sse after idle');
    assert.equal(log(nginx, /^GET \/ws\/sse /).length, 0, 'the one stream is still open (its log line comes when it ends)');
    assert.doesNotMatch(nginx.errorLog(), /timed out/);
  });

  test('control (mistake 2): heartbeats slower than proxy_read_timeout — nginx ends the idle SSE stream and the client resumes', async (t) => {
    const { sb, nginx, url } = await rig(t, { heartbeat: slowHeartbeat }, { readTimeout: `${READ_TIMEOUT_S}s` });
    serveShout(sb);
    const { client: c } = client(t, url, { transports: ['sse'], upgrade: false });
    await nextConnect(c);
    const id = c.id;
    const dropped = new Promise<string>((resolve) => c.once('disconnect', (reason) => resolve(reason)));
    const resumed = new Promise<ConnectInfo>((resolve) => dropped.then(() => c.once('connect', resolve)));
    const outcome = await Promise.race([dropped, delay(IDLE_MS + 2000).then(() => undefined)]);
    assert.ok(outcome, `nginx should have ended the stream after ${READ_TIMEOUT_S}s without data`);
    assert.equal((await resumed).resumed, true);
    assert.equal(c.id, id);
    await assertWorks(c, 'back on sse');
    assert.match(nginx.errorLog(), /upstream timed out .* while reading upstream/);
  });

  test('mistake 4: gzip with X-Accel-Buffering ignored holds the event stream — SSE yields no welcome and the SDK falls back to long-polling', async (t) => {
    const { sb, url } = await rig(t, {}, { add: [...GZIP_EVENT_STREAMS, 'proxy_ignore_headers X-Accel-Buffering;'] });
    serveShout(sb);
    const { client: c } = client(t, url, { transports: ['sse', 'polling'], upgrade: false, connectTimeout: 1000 });
    await nextConnect(c);
    assert.equal(c.transport, 'polling');
    await assertWorks(c, 'polling instead');
  });

  test(`long-polling: holds (1 s) below proxy_read_timeout (${READ_TIMEOUT_S}s) keep an idle client connected, no 504`, async (t) => {
    const { sb, nginx, url } = await rig(t, { heartbeat: slowHeartbeat, polling: { hold: 1000 } }, { readTimeout: `${READ_TIMEOUT_S}s` });
    serveShout(sb);
    const { client: c, changes } = client(t, url, { transports: ['polling'], upgrade: false });
    await nextConnect(c);
    assert.equal(c.transport, 'polling');
    const before = changes.length;
    await delay(IDLE_MS);
    assert.deepEqual(changes.slice(before), [], 'no state change while idle');
    await assertWorks(c, 'polled');
    assert.ok(log(nginx, /^GET \/ws\/poll\?cid=\S+ HTTP\/1\.1 200 /).length >= 2, 'empty answers at the end of each hold');
    assert.deepEqual(log(nginx, / 504 /), []);
  });

  test('control (mistake 2): a long-poll hold above proxy_read_timeout — nginx answers 504 and the client resumes on a new connection', async (t) => {
    const { sb, nginx, url } = await rig(t, { heartbeat: slowHeartbeat, polling: { hold: 3 * READ_TIMEOUT_S * 1000 } }, { readTimeout: `${READ_TIMEOUT_S}s` });
    serveShout(sb);
    const { client: c } = client(t, url, { transports: ['polling'], upgrade: false });
    await nextConnect(c);
    const id = c.id;
    const dropped = new Promise<string>((resolve) => c.once('disconnect', (reason) => resolve(reason)));
    const resumed = new Promise<ConnectInfo>((resolve) => dropped.then(() => c.once('connect', resolve)));
    const outcome = await Promise.race([dropped, delay(IDLE_MS + 2000).then(() => undefined)]);
    assert.ok(outcome, `nginx should have answered the held poll with 504 after ${READ_TIMEOUT_S}s`);
    assert.equal((await resumed).resumed, true);
    assert.equal(c.id, id);
    await assertWorks(c, 'resumed');
    assert.ok(log(nginx, /^GET \/ws\/poll\?cid=\S+ HTTP\/1\.1 504 504$/).length >= 1);
    assert.match(nginx.errorLog(), /upstream timed out .* while reading response header from upstream/);
  });
});

// --- several nodes ------------------------------------------------------------------------

describe('several nodes behind one nginx', { timeout: 30_000 }, () => {
  async function twoNodes(t: TestContext, sticky: string | undefined): Promise<{ nodes: Switchboard[]; nginx: Nginx; url: string }> {
    const nodes: Switchboard[] = [];
    for (let i = 0; i < 2; i++) {
      const { sb } = await startServer({});
      t.after(() => sb.close({ deadline: 10 }));
      serveShout(sb);
      nodes.push(sb);
    }
    const nginx = await Nginx.start({ http: (listen) => siteConfig(listen, { upstreams: nodes.map((n) => n.port), ...(sticky ? { sticky } : {}) }) });
    t.after(() => nginx.stop());
    return { nodes, nginx, url: `ws://127.0.0.1:${nginx.port}/ws` };
  }

  for (const sticky of ['ip_hash;', 'hash $remote_addr consistent;']) {
    test(`with "${sticky}" a client on the HTTP fallback stays on one node and works`, async (t) => {
      const { nodes, nginx, url } = await twoNodes(t, sticky);
      const { client: c, changes } = client(t, url, { transports: ['polling'], upgrade: false });
      await nextConnect(c);
      const before = changes.length;
      for (let i = 0; i < 5; i++) await assertWorks(c, `message ${i}`);
      assert.deepEqual(changes.slice(before), []);
      assert.deepEqual(nodes.map((n) => n.sessionCount).sort(), [0, 1]);
      assert.deepEqual(log(nginx, / 404 /), []);
    });
  }

  for (const transport of ['sse', 'polling'] as const) {
    test(`round-robin without sticky routing: a client on ${transport} never connects, each attempt meets a node that does not know its connection (404 unknown_connection)`, async (t) => {
      const { nginx, url } = await twoNodes(t, undefined);
      const { client: c } = client(t, url, { transports: [transport], upgrade: false });
      let connects = 0;
      c.on('connect', () => connects++);
      const misses = (): string[] => log(nginx, /^(GET \/ws\/poll\?cid=|POST \/ws\/send\?cid=)\S+ HTTP\/1\.1 404 404$/);
      await eventually(() => misses().length >= 4, 'four attempts to miss their node', 5000);
      assert.equal(connects, 0);
      assert.equal(c.connected, false);
    });
  }

  test('round-robin without sticky routing: a WebSocket works, but its reconnect reaches the other node and gets a new session', async (t) => {
    const { nodes, url } = await twoNodes(t, undefined);
    const served = nodes.map(() => 0);
    nodes.forEach((node, i) => node.on('connection', () => (served[i] = (served[i] ?? 0) + 1)));
    // A network cut between the client and nginx: the client reconnects, and nginx routes the new upgrade to the next node.
    const network = await TcpProxy.start(Number(new URL(url).port));
    t.after(() => network.close());
    const { client: c } = client(t, network.url());
    await nextConnect(c);
    const first = c.id;
    await assertWorks(c, 'on the first node');
    const again = nextConnect(c);
    network.cutAll();
    assert.equal((await again).resumed, false);
    assert.notEqual(c.id, first);
    await assertWorks(c, 'on the second node');
    assert.deepEqual(served, [1, 1], 'one session on each node');
  });
});
