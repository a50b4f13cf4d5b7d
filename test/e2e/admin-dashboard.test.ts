/**
 * The admin dashboard in real headless Chromium: the page asks for the token, shows the
 * server's numbers live over Switchboard, sees a Node client arrive, disconnects it with its
 * button (the client is told), shows the refusal of a wrong token, and says clearly what is
 * missing when the server does not serve the browser client. And it is never on by default:
 * a server without adminDashboard answers 404 on /admin.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { adminDashboard } from '../../src/admin/index.js';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { Switchboard } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';
import { eventually } from '../helpers/server.js';

const browser = useBrowser();
const TOKEN = 'e2e-admin-token-0123456789abcdef';
/** Generous: CI runs this on two cores. */
const WAIT_MS = 15_000;
const SCREENSHOT = new URL('../../temp/admin-dashboard.png', import.meta.url);

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

  function nodeClient(sb: Switchboard, auth?: unknown): SwitchboardClient {
    const client = connect(`ws://127.0.0.1:${sb.port}/ws`, { reconnect: { delay: 50, maxDelay: 100 }, ...(auth === undefined ? {} : { auth }) });
    closers.push(() => client.close());
    return client;
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
    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });

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
