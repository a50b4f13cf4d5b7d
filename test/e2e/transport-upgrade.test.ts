/**
 * The browser build of the SDK in real headless Chromium, on a network where WebSocket
 * does not work at first (the Upgrade is answered with an HTTP error, as by a proxy that
 * does not pass it): the session starts on long-polling, and when WebSocket starts to
 * work it moves there mid-conversation, while numbered events flow both ways.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type Socket, Switchboard } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';

/**
 * The page: WebSocket goes to a path nobody answers (404 on the Upgrade) until the test sets
 * `window.allowWebSocket`; the client may use WebSocket and long-polling. It emits `up`
 * with 1, 2, 3… every 20 ms while `window.flowing`, and records every `down` it receives.
 */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>switchboard upgrade test</title></head>
<body>
<script type="module">
  const RealWebSocket = window.WebSocket;
  window.allowWebSocket = false;
  window.WebSocket = class extends RealWebSocket {
    constructor(url, protocols) {
      super(window.allowWebSocket ? url : url.replace('/ws', '/no-websocket-here'), protocols);
    }
  };
  const { connect } = await import('/switchboard/client.js');
  const rec = { down: [], sent: 0, states: [], transports: [], failures: [] };
  const client = connect(\`ws://\${location.host}/ws\`, { transports: ['websocket', 'polling'] });
  client.on('state', (s) => rec.states.push(s.state));
  client.on('connect_error', (e) => rec.failures.push({ code: e.code, message: e.message }));
  client.on('down', (n) => rec.down.push(n));
  window.flowing = true;
  const timer = setInterval(() => {
    if (!window.flowing) return clearInterval(timer);
    if (client.connected) client.emit('up', ++rec.sent);
    if (rec.transports.at(-1) !== client.transport) rec.transports.push(client.transport);
  }, 20);
  Object.assign(window, { client, rec });
</script>
</body></html>`;

interface Recorded {
  down: number[];
  sent: number;
  states: string[];
  transports: (string | undefined)[];
  /** What connect_error reported. */
  failures: { code: string; message: string }[];
}

/** What the page puts on `window` (not declared globally: other test files declare their own). */
interface PageGlobals {
  rec: Recorded;
  allowWebSocket: boolean;
  flowing: boolean;
  client: import('../../src/client/index.js').SwitchboardClient;
}

const browser = useBrowser();
let http: Server;
let sb: Switchboard;
let base: string;

before(async () => {
  http = createServer((req, res) => {
    res.writeHead((req.url ?? '/') === '/' ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end((req.url ?? '/') === '/' ? PAGE : 'not found');
  });
  sb = new Switchboard(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
});

after(async () => {
  await sb.close({ deadline: 100 });
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

async function until(check: () => boolean | Promise<boolean>, what: string | (() => string), timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sorted = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

// First: the next test's connection handler would serve this test's connection too.
test('a fallback chunk that cannot be loaded: connect_error naming it; once it loads, long-polling carries the session', { timeout: 60_000 }, async () => {
  const { page } = await browser.newPage();
  let chunkReachable = false;
  const chunkRequests: string[] = [];
  await page.route('**/switchboard/chunks/**', (route) => {
    chunkRequests.push(route.request().url());
    return chunkReachable ? route.continue() : route.abort('connectionrefused');
  });
  await page.goto(base);
  let seen: Recorded['failures'] = [];
  const failures = async (): Promise<Recorded['failures']> => (seen = await page.evaluate(() => (window as unknown as PageGlobals).rec?.failures ?? []));
  await until(async () => (await failures()).some((f) => /could not load/.test(f.message)), () => `a failure to load the chunk (failures: ${JSON.stringify(seen)}; chunk requests: ${chunkRequests.join(' ')})`);
  const failure = (await failures()).find((f) => /could not load/.test(f.message)) as Recorded['failures'][number];
  assert.equal(failure.code, 'disconnected');
  assert.match(failure.message, /^could not open a WebSocket to ws:\/\/.*; tried polling \(could not load the SSE and long-polling transports, which the client imports from chunks\/fallback-<hash>\.js beside itself: .*\) too$/);
  assert.match(failure.message, /\/switchboard\/chunks\/fallback-[\w-]+\.js/, 'the browser names the chunk');
  assert.ok(chunkRequests.length >= 1);

  chunkReachable = true;
  await until(() => page.evaluate(() => (window as unknown as PageGlobals).client?.connected === true), 'the client to connect once the chunk loads');
  assert.equal(await page.evaluate(() => (window as unknown as PageGlobals).client.transport), 'polling');
});

test('starts on long-polling, upgrades to WebSocket mid-conversation: nothing lost, nothing repeated, order kept', { timeout: 60_000 }, async () => {
  const up: number[] = [];
  const disconnects: string[] = [];
  let server: Socket | undefined;
  let sentDown = 0;
  let downTimer: NodeJS.Timeout | undefined;
  sb.on('connection', (socket) => {
    server = socket;
    socket.on('up', (n: number) => {
      up.push(n);
    });
    socket.on('disconnect', (reason) => disconnects.push(reason));
    downTimer = setInterval(() => socket.emit('down', ++sentDown), 20);
  });
  const { page, problems } = await browser.newPage();
  try {
    await page.goto(base);
    await until(() => page.evaluate(() => (window as unknown as PageGlobals).client?.connected === true), 'the client to connect');
    assert.equal(await page.evaluate(() => (window as unknown as PageGlobals).client.transport), 'polling', 'WebSocket fails: long-polling carries the session');
    assert.equal(server?.transport, 'polling');
    const id = await page.evaluate(() => (window as unknown as PageGlobals).client.id);
    await until(() => up.length >= 10 && sentDown >= 10, 'events to flow both ways on long-polling');

    await page.evaluate(() => {
      (window as unknown as PageGlobals).allowWebSocket = true;
    });
    await until(() => page.evaluate(() => (window as unknown as PageGlobals).client.transport === 'websocket'), 'the client to move to WebSocket', 30_000);
    assert.equal(server?.transport, 'websocket', 'the server sees the same socket on a WebSocket now');
    const atUpgrade = up.length;
    await until(() => up.length >= atUpgrade + 10, 'events to keep flowing on the WebSocket');

    // Stop both sides, then let everything in flight arrive.
    await page.evaluate(() => {
      (window as unknown as PageGlobals).flowing = false;
    });
    clearInterval(downTimer);
    const sent = await page.evaluate(() => (window as unknown as PageGlobals).rec.sent);
    await until(() => up.length >= sent, () => `every up event at the server (sent ${sent}, got ${up.length}, missing ${sorted(sent).filter((n) => !up.includes(n)).join(' ')}; page problems: ${problems.join(' | ') || 'none'})`);
    await until(() => page.evaluate((n) => (window as unknown as PageGlobals).rec.down.length >= n, sentDown), 'every down event in the page');
    await new Promise((resolve) => setTimeout(resolve, 200));

    assert.deepEqual(up, sorted(sent), 'the server got every up event once, in order');
    assert.deepEqual(await page.evaluate(() => (window as unknown as PageGlobals).rec.down), sorted(sentDown), 'the page got every down event once, in order');
    assert.equal(await page.evaluate(() => (window as unknown as PageGlobals).client.id), id, 'the same session');
    assert.deepEqual(disconnects, [], 'the server socket never disconnected');
    const rec = await page.evaluate(() => (window as unknown as PageGlobals).rec);
    assert.deepEqual(rec.transports.filter((t) => t !== undefined), ['polling', 'websocket']);
    assert.deepEqual(rec.states.slice(rec.states.indexOf('connected') + 1), [], `the app saw no reconnect: ${rec.states.join(', ')}`);
    // Chromium logs the refused WebSocket attempts itself: that is the test's doing.
    assert.deepEqual(problems.filter((text) => !/WebSocket connection to '.*' failed/.test(text)), []);
  } finally {
    clearInterval(downTimer);
  }
});
