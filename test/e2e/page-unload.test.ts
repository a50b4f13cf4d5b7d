/**
 * A browser tab closed while its session runs on SSE or long-polling leaves at once, as it
 * does over WebSocket (issue 13): the SDK's `pagehide` beacon to `POST {path}/close` ends
 * the session (`client_disconnect`, presence `leave`) instead of leaving it to wait out the
 * resume TTL. A page that goes into the back/forward cache keeps its session.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { type Socket, Switchboard } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';

/**
 * The page: imports the SDK from the Switchboard server given by `?sb=` (its own origin by
 * default), connects with the one transport `?transport=` as user `?user=`, joins room:1.
 */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>switchboard unload test</title></head>
<body>
<script type="module">
  const params = new URLSearchParams(location.search);
  const sb = params.get('sb') ?? location.origin;
  const { connect } = await import(sb + '/switchboard/client.js');
  const client = connect(sb.replace('http', 'ws') + '/ws', { transports: [params.get('transport')], auth: { user: params.get('user') } });
  client.on('connect', () => client.join('room:1').then(() => { window.joined = true; }));
  Object.assign(window, { client });
</script>
</body></html>`;

interface PageGlobals {
  joined?: boolean;
  client: import('../../src/client/index.js').SwitchboardClient;
}

const browser = useBrowser();
/** Serves the page on its own origin (another port): the beacon goes cross-origin. */
let pageServer: Server;
let pageOrigin: string;
/** The app's server, with Switchboard on it; it serves the page too, same-origin. */
let http: Server;
let sb: Switchboard;
let sbOrigin: string;
/** `user reason` of every server-side disconnect. */
const disconnects: string[] = [];

const answerPage = (_req: unknown, res: import('node:http').ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(PAGE);
};

async function listen(server: Server, host: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  pageServer = createServer(answerPage);
  // "localhost" and "127.0.0.1" are different origins to the browser.
  pageOrigin = await listen(pageServer, 'localhost');
  http = createServer((req, res) => answerPage(req, res));
  sbOrigin = await listen(http, '127.0.0.1');
  sb = new Switchboard(http, { allowedOrigins: [pageOrigin, sbOrigin] });
  sb.trackPresence(/^room/, { user: (s: Socket) => (s.handshake.auth as { user: string }).user });
  sb.on('connection', (socket) => {
    socket.on('disconnect', (reason) => disconnects.push(`${(socket.handshake.auth as { user: string }).user} ${reason}`));
    socket.on('hi', () => 'hello');
  });
});

beforeEach(() => {
  disconnects.length = 0;
});

after(async () => {
  await sb.close({ deadline: 100 });
  http.closeAllConnections();
  pageServer.closeAllConnections();
  await Promise.all([new Promise((resolve) => http.close(resolve)), new Promise((resolve) => pageServer.close(resolve))]);
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const present = async (): Promise<string[]> => (await sb.presence('room:1')).map((m) => m.user);

/** Open the page as `user` on `transport`, wait until it is in room:1. */
async function openPage(user: string, transport: 'sse' | 'polling', crossOrigin: boolean): Promise<import('playwright-core').Page> {
  const { page, problems } = await browser.newPage();
  const origin = crossOrigin ? pageOrigin : sbOrigin;
  await page.goto(`${origin}/?transport=${transport}&user=${user}&sb=${encodeURIComponent(sbOrigin)}`);
  await until(() => page.evaluate(() => (window as unknown as PageGlobals).joined === true), `${user} to join room:1 (${problems.join('; ')})`);
  assert.equal(await page.evaluate(() => (window as unknown as PageGlobals).client.transport), transport);
  assert.ok((await present()).includes(user));
  return page;
}

// The resume TTL is 2 minutes: without the beacon, these waits (15 s at most) time out.
for (const [transport, crossOrigin] of [
  ['sse', true],
  ['polling', false],
] as const) {
  test(`a page on ${transport}${crossOrigin ? ' (cross-origin)' : ''} that is closed leaves at once: client_disconnect and a presence leave`, { timeout: 60_000 }, async () => {
    const user = `${transport}-closed`;
    const page = await openPage(user, transport, crossOrigin);
    await page.close({ runBeforeUnload: true });
    await until(() => disconnects.includes(`${user} client_disconnect`), `the server to see ${user} leave (seen: ${disconnects.join(', ') || 'nothing'})`);
    assert.deepEqual(await present(), []);
  });
}

test('a page that navigates away on sse leaves at once too', { timeout: 60_000 }, async () => {
  const page = await openPage('navigated', 'sse', false);
  await page.goto('about:blank');
  await until(() => disconnects.includes('navigated client_disconnect'), `the server to see the page leave (seen: ${disconnects.join(', ') || 'nothing'})`);
  assert.deepEqual(await present(), []);
});

test('a pagehide that may come back from the bfcache (persisted) keeps the session', { timeout: 60_000 }, async () => {
  const page = await openPage('cached', 'sse', true);
  const id = await page.evaluate(() => (window as unknown as PageGlobals).client.id);
  await page.evaluate(() => {
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
  });
  // Requests after the event still reach the same session on the same connection.
  for (let i = 0; i < 3; i++) assert.equal(await page.evaluate(() => (window as unknown as PageGlobals).client.emitWithAck('hi')), 'hello');
  assert.equal(await page.evaluate(() => (window as unknown as PageGlobals).client.id), id);
  assert.equal(disconnects.length, 0, disconnects.join(', '));
  assert.deepEqual(await present(), ['cached']);
  await page.close();
  await until(() => disconnects.includes('cached client_disconnect'), 'the page to leave when closed for real');
});
