/**
 * The admin dashboard in real headless Chromium: the page asks for the token, shows the
 * server's numbers live over Switchboard, sees a Node client arrive, disconnects it with its
 * button (the client is told), shows the refusal of a wrong token, and says clearly what is
 * missing when the server does not serve the browser client. And it is never on by default:
 * a server without adminDashboard answers 404 on /admin.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { adminDashboard } from '../../src/admin/index.js';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { Switchboard } from '../../src/server/index.js';
import { type TestPage, useBrowser } from '../helpers/browser.js';
import { eventually } from '../helpers/server.js';
import { attemptUpgrade } from '../helpers/upgrade-attempt.js';
import type WebSocket from 'ws';

const browser = useBrowser();
const TOKEN = 'e2e-admin-token-0123456789abcdef';
/** Generous: CI runs this on two cores. */
const WAIT_MS = 15_000;
const SCREENSHOT = new URL('../../temp/admin-dashboard.png', import.meta.url);

/** Poll the page until `check` holds (bounded: this says how long a failing test waits, not how fast anything must be). */
async function pollPage(page: TestPage['page'], check: () => Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for the page to show ${what}`);
    await page.waitForTimeout(100);
  }
}

async function chipCount(page: TestPage['page'], transport: string): Promise<number> {
  const chip = page.locator(`#connections-by-transport .chip[data-transport="${transport}"] b`);
  return (await chip.count()) === 0 ? 0 : Number((await chip.innerText()).replace(/,/g, ''));
}

describe('the admin dashboard in Chromium', () => {
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function server(options: ConstructorParameters<typeof Switchboard>[1] = {}): Promise<Switchboard> {
    const sb = new Switchboard(0, options);
    closers.push(() => sb.close());
    await sb.ready();
    return sb;
  }

  function nodeClient(sb: Switchboard, auth?: unknown, transports?: ('websocket' | 'sse' | 'polling')[]): SwitchboardClient {
    const client = connect(`ws://127.0.0.1:${sb.port}/ws`, { reconnect: { delay: 50, maxDelay: 100 }, ...(auth === undefined ? {} : { auth }), ...(transports ? { transports } : {}) });
    closers.push(() => client.close());
    return client;
  }

  /** The page, signed in with the token and showing numbers. */
  async function signedIn(sb: Switchboard): Promise<TestPage> {
    const opened = await browser.newPage();
    await opened.page.setViewportSize({ width: 1280, height: 800 });
    await opened.page.goto(`http://127.0.0.1:${sb.port}/admin`);
    await opened.page.fill('#token', TOKEN);
    await opened.page.click('#login-form button[type=submit]');
    await opened.page.locator('#status.connected').waitFor({ timeout: WAIT_MS });
    return opened;
  }

  /**
   * A small chat: users in rooms of different sizes (seven on websocket, one on SSE), a few
   * of them talking (frames in, relayed to their room), and a ticker broadcast to the lobby
   * every 50 ms until the test ends.
   */
  async function chatScene(sb: Switchboard): Promise<{ lobbyMembers: number; websocketClients: number }> {
    const people: Array<[string, string[], ('websocket' | 'sse')[]?]> = [
      ['ada', ['lobby', 'support', 'dev']],
      ['grace', ['lobby', 'support', 'dev']],
      ['linus', ['lobby', 'dev']],
      ['margaret', ['lobby', 'support']],
      ['ken', ['lobby']],
      ['barbara', ['lobby', 'design']],
      ['alan', ['lobby']],
      ['edsger', ['lobby', 'design'], ['sse']],
    ];
    const rooms = new Map(people.map(([name, joined]) => [name, joined]));
    sb.use(async (socket) => {
      const name = (socket.handshake.auth as { name?: string } | undefined)?.name;
      if (name) socket.user = name;
    });
    sb.on('connection', (socket) => {
      socket.join(rooms.get(socket.user ?? '') ?? []);
      socket.on('say', (message: { room: string; text: string }) => {
        sb.to(message.room).emit('said', { from: socket.user, ...message });
      });
    });
    const clients = people.map(([name, , transports]) => nodeClient(sb, { name }, transports));
    await eventually(() => clients.every((c) => c.connected), 'the chat clients to connect', WAIT_MS);
    let n = 0;
    const ticker = setInterval(() => {
      n++;
      sb.to('lobby').emit('price', { symbol: 'SWB', value: 100 + Math.sin(n / 8) * 5 });
      // Someone says something every few ticks, in one of their rooms.
      if (n % 4 === 0) {
        const [name, joined] = people[n % 7] as [string, string[]];
        (clients[n % 7] as SwitchboardClient).emit('say', { room: joined[n % joined.length], text: `message ${n} from ${name}` });
      }
    }, 50);
    closers.push(() => clearInterval(ticker));
    return { lobbyMembers: people.length, websocketClients: people.length - 1 };
  }

  test('enter the token, see a client arrive, disconnect it from the page', async () => {
    const sb = await server();
    adminDashboard(sb, { token: TOKEN, interval: 200 });
    sb.use(async (socket) => {
      const name = (socket.handshake.auth as { name?: string } | undefined)?.name;
      if (name) socket.user = name;
    });
    sb.on('connection', (socket) => socket.join(['lobby', ...(socket.user === 'grace' ? ['ops'] : [])]));
    const { page, problems } = await browser.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`http://127.0.0.1:${sb.port}/admin`);
    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.locator('#status.connected').waitFor({ timeout: WAIT_MS });
    // The page's own connection is the one session so far.
    await page.locator('#sessions-connected', { hasText: /^1$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('switchboard.admin.token')), TOKEN, 'kept for this tab');
    assert.ok(!page.url().includes(TOKEN), 'the token is never in the URL');

    const ada = nodeClient(sb, { name: 'ada' });
    const grace = nodeClient(sb, { name: 'grace' });
    await eventually(() => ada.connected && grace.connected, 'the Node clients to connect');
    await page.locator('#sessions-connected', { hasText: /^3$/ }).waitFor({ timeout: WAIT_MS });
    const adaId = ada.id as string;
    const row = page.locator(`#session-list tr[data-id="${adaId}"]`);
    await row.waitFor({ timeout: WAIT_MS });
    assert.match(await row.innerText(), /ada/);

    let disconnected = false;
    ada.on('disconnect', () => {
      disconnected = true;
    });
    await row.locator('button.disconnect').click();
    await page.locator('#notice', { hasText: `Disconnected session ${adaId}` }).waitFor({ timeout: WAIT_MS });
    await eventually(() => disconnected, 'the client to see its disconnect', WAIT_MS);
    await row.waitFor({ state: 'detached', timeout: WAIT_MS });
    await page.locator('#sessions-connected', { hasText: /^2$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(ada.connected, false);
    assert.equal(grace.connected, true);
    assert.deepEqual(problems, []);
  });

  test('real numbers: the busiest room with its members, websocket connections, a message rate, the refusals', async () => {
    const sb = await server();
    adminDashboard(sb, { token: TOKEN, interval: 200 });
    const scene = await chatScene(sb);
    const { page, problems } = await signedIn(sb);

    // The busiest room is listed with its members (the page's own session is in no room).
    const lobby = page.locator('#room-list tr[data-room="lobby"][data-ns="/"]');
    await lobby.waitFor({ timeout: WAIT_MS });
    await page.locator('#room-list tr[data-room="lobby"] td.num', { hasText: new RegExp(`^${scene.lobbyMembers}$`) }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#room-list tr').first().getAttribute('data-room'), 'lobby', 'most members first');

    // Connections by transport: the Node clients and the page on websocket, one on SSE.
    await pollPage(page, async () => (await chipCount(page, 'websocket')) >= scene.websocketClients + 1, 'websocket ≥ its clients');
    await pollPage(page, async () => (await chipCount(page, 'sse')) === 1, 'one SSE connection');

    // The trickle of broadcasts shows as a rate above 0, in the label and in the chart's data.
    await pollPage(page, async () => parseFloat(await page.locator('#value-deliveries [data-series="deliveries"]').innerText()) > 0, 'a delivery rate above 0');
    await pollPage(page, async () => Number(await page.locator('#chart-deliveries canvas').getAttribute('data-points')) >= 2, 'a line in the chart');
    await pollPage(page, async () => parseFloat(await page.locator('#value-messages [data-series="messagesOut"]').innerText()) > 0, 'a message rate above 0');

    // Both kinds of refusal stats() keeps: a WebSocket from a page of another origin, a wrong admin token.
    // (The upgrade completes and is closed with 1008, so that a browser can read why.)
    const refused = await attemptUpgrade(`ws://127.0.0.1:${sb.port}/ws`, { origin: 'https://evil.example' });
    assert.equal(refused.status, 101);
    const [closeCode] = (await once(refused.ws as WebSocket, 'close')) as [number];
    assert.equal(closeCode, 1008);
    const intruder = connect(`ws://127.0.0.1:${sb.port}/ws`, { namespace: '/admin', auth: { token: 'guessed-token-guessed-token' }, reconnect: false });
    closers.push(() => intruder.close());
    const error = await new Promise<{ code: string }>((resolve) => intruder.on('connect_error', resolve));
    assert.equal(error.code, 'unauthorized');
    const originRow = page.locator('#refusal-list tr', { hasText: 'origin_not_allowed' });
    await originRow.waitFor({ timeout: WAIT_MS });
    assert.match(await originRow.innerText(), /websocket[\s\S]*127\.0\.0\.1[\s\S]*https:\/\/evil\.example/);
    const tokenRow = page.locator('#refusal-list tr', { hasText: 'unauthorized' });
    await tokenRow.waitFor({ timeout: WAIT_MS });
    assert.match(await tokenRow.innerText(), /\/admin/, 'the namespace that refused');

    // A picture for the docs (docs/admin.png is this file, checked and compressed): ~10 s of chart.
    await page.setViewportSize({ width: 1280, height: 800 });
    await pollPage(page, async () => Number(await page.locator('#chart-messages canvas').getAttribute('data-points')) >= 50, '50 points of chart', 60_000);
    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname });
    assert.deepEqual(problems, []);
  });

  test('a wrong token shows the refusal and the form again', async () => {
    const sb = await server();
    adminDashboard(sb, { token: TOKEN });
    const { page } = await browser.newPage();
    await page.goto(`http://127.0.0.1:${sb.port}/admin`);
    await page.fill('#token', 'not-the-admin-token-at-all');
    await page.click('#login-form button[type=submit]');
    const error = page.locator('#login-error', { hasText: 'unauthorized' });
    await error.waitFor({ timeout: WAIT_MS });
    assert.match(await error.innerText(), /Refused: unauthorized \(wrong or missing admin token\)/);
    assert.equal(await page.locator('#dashboard').isHidden(), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('switchboard.admin.token')), null, 'a refused token is not kept');
  });

  test('with serveClient: false the page says what is missing', async () => {
    const sb = await server({ serveClient: false });
    adminDashboard(sb, { token: TOKEN });
    const { page } = await browser.newPage();
    await page.goto(`http://127.0.0.1:${sb.port}/admin`);
    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error', { hasText: 'serveClient: false' }).waitFor({ timeout: WAIT_MS });
  });

  test('never on by default: without adminDashboard, /admin is not served', async () => {
    const sb = await server();
    const { page } = await browser.newPage();
    const answer = await page.goto(`http://127.0.0.1:${sb.port}/admin`);
    assert.equal(answer?.status(), 404);
    assert.equal((await fetch(`http://127.0.0.1:${sb.port}/admin/dashboard.js`)).status, 404);
  });
});
