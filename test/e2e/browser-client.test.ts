/**
 * The browser build of the SDK in real headless Chromium: a page imports it from
 * /switchboard/client.js (served by a Switchboard attached to the test's HTTP server),
 * connects, and lives through the network going away and coming back.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { Switchboard } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';

/**
 * The page under test. It connects to `?url=` (default: its own server's /ws) with
 * `?delay=` as the first backoff window and `?maxDelay=` as the longest (also the offline
 * probe's period), and records what the client reports in
 * `window.rec` for the test to read with page.evaluate.
 */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>switchboard browser test</title></head>
<body>
<script type="module">
  import { connect } from '/switchboard/client.js';
  const params = new URLSearchParams(location.search);
  const url = params.get('url') ?? \`ws://\${location.host}/ws\`;
  const reconnect = params.has('delay') || params.has('maxDelay')
    ? { ...(params.has('delay') && { delay: Number(params.get('delay')) }), ...(params.has('maxDelay') && { maxDelay: Number(params.get('maxDelay')) }) }
    : true;
  const rec = { states: [], errors: [], reconnecting: 0, events: [] };
  const client = connect(url, { reconnect });
  client.on('state', (s) => rec.states.push(s.error ? { state: s.state, previous: s.previous, reason: s.reason, code: s.error.code } : { state: s.state, previous: s.previous, reason: s.reason }));
  client.on('connect_error', (e) => rec.errors.push({ code: e.code, message: e.message }));
  client.on('reconnecting', () => rec.reconnecting++);
  client.on('news', (data, meta) => rec.events.push({ event: 'news', data, room: meta.room }));
  client.on('said', (data, meta) => rec.events.push({ event: 'said', data, room: meta.room }));
  Object.assign(window, { client, rec });
</script>
</body></html>`;

interface Recorded {
  states: Array<{ state: string; previous: string; reason: string; code?: string }>;
  errors: Array<{ code: string; message: string }>;
  reconnecting: number;
  events: Array<{ event: string; data: unknown; room?: string }>;
}

declare global {
  interface Window {
    rec: Recorded;
    client: import('../../src/client/index.js').SwitchboardClient;
  }
}

const browser = useBrowser();

/** The app: its page on "/", 404 elsewhere; Switchboard attached to the same server. */
let http: Server;
let sb: Switchboard;
let base: string;
/** Texts of `say` events in the order the server handled them. */
const said: string[] = [];

before(async () => {
  http = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  sb = new Switchboard(http);
  sb.on('connection', (socket) => {
    socket.on('say', (msg: { room: string; text: string }) => {
      said.push(msg.text);
      sb.to(msg.room).emit('said', { text: msg.text });
      return { n: said.length, text: msg.text };
    });
    socket.on('reverse', (bytes: Uint8Array) => (bytes instanceof Uint8Array ? bytes.slice().reverse() : 'not binary'));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(async () => {
  await sb.close();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

describe('the browser client', () => {
  test('imports from /switchboard/client.js, connects, gets an ack and room broadcasts', async () => {
    const { page, problems } = await browser.newPage();
    await page.goto(`${base}/`);
    await page.waitForFunction(() => window.client?.connected, undefined, { timeout: 5000 });

    const ack = await page.evaluate(async () => {
      await window.client.join('lobby');
      return window.client.emitWithAck('say', { room: 'lobby', text: 'hello from chromium' });
    });
    assert.deepEqual(ack, { n: said.length, text: 'hello from chromium' });
    assert.equal(said.at(-1), 'hello from chromium');

    sb.to('lobby').emit('news', { headline: 'pushed by the server' });
    sb.to('elsewhere').emit('news', { headline: 'not for this page' });
    await page.waitForFunction(() => window.rec.events.length >= 2, undefined, { timeout: 3000 });
    const rec = await page.evaluate(() => window.rec);
    assert.deepEqual(rec.events, [
      { event: 'said', data: { text: 'hello from chromium' }, room: 'lobby' },
      { event: 'news', data: { headline: 'pushed by the server' }, room: 'lobby' },
    ]);
    assert.deepEqual(rec.states, [{ state: 'connected', previous: 'connecting', reason: 'handshake_ok' }]);
    assert.deepEqual(problems, []);
  });

  test('binary data: a Uint8Array goes up and comes back as binary WebSocket messages; a Blob is refused', async () => {
    const { page, problems } = await browser.newPage();
    const frames: { direction: string; binary: boolean }[] = [];
    page.on('websocket', (ws) => {
      ws.on('framesent', ({ payload }) => frames.push({ direction: 'sent', binary: typeof payload !== 'string' }));
      ws.on('framereceived', ({ payload }) => frames.push({ direction: 'received', binary: typeof payload !== 'string' }));
    });
    await page.goto(`${base}/`);
    await page.waitForFunction(() => window.client?.connected, undefined, { timeout: 5000 });
    const reply = await page.evaluate(async () => {
      const back = (await window.client.emitWithAck('reverse', new Uint8Array([1, 2, 3, 250]))) as unknown;
      return { isUint8Array: back instanceof Uint8Array, bytes: [...(back as Uint8Array)] };
    });
    assert.deepEqual(reply, { isUint8Array: true, bytes: [250, 3, 2, 1] });
    assert.deepEqual(
      frames.filter((f) => f.binary),
      [
        { direction: 'sent', binary: true },
        { direction: 'received', binary: true },
      ],
    );

    await page.evaluate(() => window.client.join('pictures'));
    sb.to('pictures').emit('news', { picture: Uint8Array.of(9, 8, 7) });
    await page.waitForFunction(() => window.rec.events.some((e) => e.event === 'news'), undefined, { timeout: 3000 });
    const pushed = await page.evaluate(() => {
      const data = window.rec.events.find((e) => e.event === 'news')?.data as { picture: Uint8Array };
      return { isUint8Array: data.picture instanceof Uint8Array, bytes: [...data.picture] };
    });
    assert.deepEqual(pushed, { isUint8Array: true, bytes: [9, 8, 7] });

    const refused = await page.evaluate(() => {
      try {
        window.client.emit('say', { file: new Blob(['x']) });
        return 'sent';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    });
    assert.equal(refused, 'unserializable');
    assert.deepEqual(problems, []);
  });

  test('offline: state connecting with network_offline and no retries; online: reconnects at once and delivers what was emitted meanwhile, in order', async () => {
    const { page, context, problems } = await browser.newPage();
    // The page's timers on a clock the test can move (it flows as usual until then).
    await page.clock.install();
    // The offline probe ten minutes away: whatever reconnects within the test's wait is the `online` event.
    await page.goto(`${base}/?maxDelay=600000`);
    await page.waitForFunction(() => window.client?.connected, undefined, { timeout: 5000 });
    await page.evaluate(() => window.client.emitWithAck('say', { room: 'r', text: 'before' }));

    await context.setOffline(true);
    await page.waitForFunction(() => window.rec.states.at(-1)?.reason === 'network_offline', undefined, { timeout: 3000 });
    assert.deepEqual(await page.evaluate(() => [window.client.state, navigator.onLine, window.rec.states.at(-1)]), [
      'connecting',
      false,
      { state: 'connecting', previous: 'connected', reason: 'network_offline' },
    ]);
    const offlineAck = page.evaluate(() => {
      window.client.emit('say', { room: 'r', text: 'while offline 1' });
      return window.client.emitWithAck('say', { room: 'r', text: 'while offline 2' });
    });
    // Past the first backoff windows (1 s, 2 s by default), short of the 10 s ack timeout: a counted retry would have shown.
    await page.clock.runFor(5_000);
    assert.equal(await page.evaluate(() => window.rec.reconnecting), 0, 'no backoff attempts while offline');
    assert.equal(await page.evaluate(() => window.client.state), 'connecting');

    await context.setOffline(false);
    // The offline probe is ten minutes away and no backoff attempt was counted: only `online` brings it back.
    await page.waitForFunction(() => window.client.connected, undefined, { timeout: 30_000 });
    assert.deepEqual(await offlineAck, { n: said.length, text: 'while offline 2' });
    assert.deepEqual(said.slice(-3), ['before', 'while offline 1', 'while offline 2']);
    const rec = await page.evaluate(() => window.rec);
    assert.deepEqual(
      rec.states.map((s) => `${s.previous}->${s.state} ${s.reason}`),
      ['connecting->connected handshake_ok', 'connected->connecting network_offline', 'connecting->connected handshake_ok'],
    );
    assert.equal(rec.reconnecting, 0);
    assert.deepEqual(problems.filter((p) => !p.includes('ERR_INTERNET_DISCONNECTED')), []);
  });

  test('a server speaking another protocol version: an error that says what to upgrade, and no retry', async () => {
    // A future server: answers every hello with unsupported_version and close 4003.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.on('message', () => {
        ws.send(
          JSON.stringify({
            type: 'error',
            code: 'unsupported_version',
            message: 'the client speaks switchboard protocol v1 and this server speaks v2: upgrade the client',
          }),
        );
        ws.close(4003, 'unsupported version');
      });
    });
    try {
      const { page } = await browser.newPage();
      await page.clock.install();
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
      await page.goto(`${base}/?delay=20&url=${encodeURIComponent(url)}`);
      await page.waitForFunction(() => window.client?.state === 'disconnected', undefined, { timeout: 5000 });
      // Five seconds on the page's clock: with a 20 ms backoff, a retry would have come many times over.
      await page.clock.runFor(5_000);
      const rec = await page.evaluate(() => window.rec);
      assert.equal(connections, 1, 'the client does not retry');
      assert.equal(rec.reconnecting, 0);
      assert.deepEqual(rec.states.at(-1), { state: 'disconnected', previous: 'connecting', reason: 'unsupported_version', code: 'unsupported_version' });
      assert.equal(rec.errors.length, 1);
      assert.equal(rec.errors[0]?.code, 'unsupported_version');
      assert.match(rec.errors[0]?.message ?? '', /upgrade the client/);
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });
});
