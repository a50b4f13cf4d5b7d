/**
 * The shop example (examples/notifications) in real headless Chromium: an order placed on
 * the buyer page rings the seller's bell; a seller whose page was closed during three
 * orders finds all three, once, on return; marking read in one tab updates the other; the
 * worker's publication (through the publish HTTP API) arrives; and the bare EventSource
 * client (public/bare-sse-client.js) receives what is pushed to its user across a dropped
 * stream and across a closed page, nothing lost or repeated. Then two server processes on
 * Redis: an order taken by one reaches the seller's page on the other.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { type ShopServer, startShopServer } from '../../examples/notifications/shop-server.js';
import { type TestPage, useBrowser } from '../helpers/browser.js';
import { freePort } from '../helpers/cluster-processes.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';

const browser = useBrowser();
/** Generous: CI runs this on two cores. */
const WAIT_MS = 15_000;

interface SellerView {
  unread(): number;
  ids(): string[];
  transport(): string | undefined;
  position(): { epoch: string; offset: number } | undefined;
}

let shop: ShopServer;
let url: string;

/** Sign `name` in on the page's context (the server sets its cookie). */
async function signIn(context: BrowserContext, name: string): Promise<void> {
  const answer = await context.request.post(`${url}api/session`, { data: { name } });
  assert.equal(answer.status(), 200);
}

/** A seller page of the context's user, connected and caught up with its channel. */
async function openSeller(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}seller`);
  await page.locator('#connection-status[data-state="connected"]').waitFor({ timeout: WAIT_MS });
  await until(page, () => (window as unknown as WithSeller).sellerPage?.position() !== undefined, 'the page to know its channel’s position');
  return page;
}

/** The seller page's own view of its state (evaluated in the page: name it inline there). It is set once the page knows who is signed in, after the page loaded: `until` checks read it with `?.`. */
type WithSeller = { sellerPage: SellerView };

async function until(page: Page, check: () => boolean, what: string): Promise<void> {
  await page.waitForFunction(check, undefined, { timeout: WAIT_MS }).catch((err: Error) => assert.fail(`timed out waiting for ${what}: ${err.message}`));
}

async function placeOrder(context: BrowserContext, productId: string): Promise<string> {
  const answer = await context.request.post(`${url}api/orders`, { data: { productId, quantity: 1 } });
  assert.equal(answer.status(), 201);
  return ((await answer.json()) as { order: { id: string } }).order.id;
}

function noProblems(...pages: TestPage[]): void {
  for (const p of pages) assert.deepEqual(p.problems.filter((text) => !/Failed to load resource|net::ERR_/.test(text)), [], 'no errors in the page');
}

/** A shop of its own per test of the block: the sellers' channels start empty. */
function useShop(): void {
  beforeEach(async () => {
    shop = await startShopServer({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${shop.port}/`;
  });
  afterEach(() => shop.close({ deadline: 100 }));
}

describe('the shop in the browser', () => {
  useShop();
  test('an order placed on the buyer page shows as a toast and in the list of the seller, who listens over SSE', async () => {
    const seller = await browser.newPage();
    await seller.page.goto(`${url}seller`);
    await seller.page.fill('#name-input', 'Ada');
    await seller.page.click('#name-submit');
    await seller.page.locator('#connection-status[data-state="connected"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await seller.page.evaluate(() => (window as unknown as WithSeller).sellerPage.transport()), 'sse');

    const buyer = await browser.newPage();
    await buyer.page.goto(`${url}buyer`);
    await buyer.page.fill('#name-input', 'bob');
    await buyer.page.click('#name-submit');
    await buyer.page.locator('[data-testid="product"][data-id="tea-sencha"] button').click();
    await buyer.page.locator('[data-testid="placed"]', { hasText: 'ada has been told' }).waitFor({ timeout: WAIT_MS });

    const toast = seller.page.locator('[data-testid="toast"]', { hasText: 'New order from bob' });
    await toast.waitFor({ timeout: WAIT_MS });
    assert.match(await toast.innerText(), /1 × Sencha, 100 g, €12\.50/);
    assert.equal(await seller.page.locator('#bell-count').innerText(), '1');
    assert.equal(await seller.page.locator('[data-testid="notice"].unread').count(), 1);
    noProblems(seller, buyer);
  });

  test('a seller whose page was closed during three orders sees all three once on return', async () => {
    const seller = await browser.newPage();
    await signIn(seller.context, 'ada');
    const before = await openSeller(seller.context);
    assert.equal(await before.evaluate(() => (window as unknown as WithSeller).sellerPage.unread()), 0);
    await before.close();

    const buyer = await browser.newPage();
    await signIn(buyer.context, 'bob');
    const missed = [await placeOrder(buyer.context, 'tea-sencha'), await placeOrder(buyer.context, 'tea-oolong'), await placeOrder(buyer.context, 'tea-sencha')];

    const back = await openSeller(seller.context);
    await until(back, () => (window as unknown as WithSeller).sellerPage?.ids().length >= 3, 'the three missed orders');
    assert.deepEqual([...(await back.evaluate(() => (window as unknown as WithSeller).sellerPage.ids()))].sort(), [...missed].sort(), 'each order once');
    assert.equal(await back.evaluate(() => (window as unknown as WithSeller).sellerPage.unread()), 3);
    assert.equal(await back.locator('#bell-count').innerText(), '3');
    assert.equal(await back.locator('[data-testid="notice"]').count(), 3);
    // Once more: a reload replays nothing twice.
    await back.reload();
    await back.locator('#connection-status[data-state="connected"]').waitFor({ timeout: WAIT_MS });
    await until(back, () => (window as unknown as WithSeller).sellerPage?.position()?.offset === 3, 'caught up');
    assert.equal(await back.locator('[data-testid="notice"]').count(), 3);
    assert.equal(await back.locator('#bell-count').innerText(), '3');
    noProblems(seller, buyer);
  });

  test('marking a notification read in one tab updates the seller’s other tab', async () => {
    const seller = await browser.newPage();
    await signIn(seller.context, 'grace');
    const one = await openSeller(seller.context);
    const two = await openSeller(seller.context);
    const buyer = await browser.newPage();
    await signIn(buyer.context, 'bob');
    const a = await placeOrder(buyer.context, 'mug-blue');
    const b = await placeOrder(buyer.context, 'teapot-cast');
    for (const page of [one, two]) await until(page, () => (window as unknown as WithSeller).sellerPage?.unread() === 2, 'two unread in each tab');

    await one.locator(`[data-testid="notice"][data-id="${a}"] .mark-read`).click();
    await until(two, () => (window as unknown as WithSeller).sellerPage?.unread() === 1, 'the other tab to count one unread');
    assert.equal(await two.locator(`[data-testid="notice"][data-id="${a}"]`).getAttribute('class'), 'notice notice-order');
    assert.match((await two.locator(`[data-testid="notice"][data-id="${b}"]`).getAttribute('class')) ?? '', /unread/);
    assert.equal(await two.locator('#bell-count').innerText(), '1');

    await two.locator('#mark-all').click();
    await until(one, () => (window as unknown as WithSeller).sellerPage?.unread() === 0, 'all read in the first tab');
    assert.equal(await one.locator('#bell-count').isHidden(), true);
    noProblems(seller, buyer);
  });

  test('signing out in one tab closes every page of the seller (disconnectUser): the other tab says so and does not reconnect', async () => {
    const seller = await browser.newPage();
    await signIn(seller.context, 'ada');
    const one = await openSeller(seller.context);
    const two = await openSeller(seller.context);
    await one.click('#sign-out');
    // The tab that signed out starts over; the other is closed by the server (4010) and stays so.
    await one.locator('#sign-in').waitFor({ state: 'visible', timeout: WAIT_MS });
    await two.locator('#connection-status[data-state="disconnected"]', { hasText: 'signed out' }).waitFor({ timeout: WAIT_MS });
    const me = await seller.context.request.get(`${url}api/me`);
    assert.equal(me.status(), 401, 'the cookie is gone');
    noProblems(seller);
  });

  test('the worker’s daily summary (through the publish HTTP API) reaches the seller; a second run the same day delivers nothing more', async () => {
    const seller = await browser.newPage();
    await signIn(seller.context, 'ada');
    const page = await openSeller(seller.context);
    for (let run = 0; run < 2; run++) {
      const worker = spawn(process.execPath, ['--import', 'tsx', 'examples/notifications/worker.ts'], {
        env: { ...process.env, SHOP_URL: url, SHOP_API_KEY: shop.apiKey, SELLERS: 'ada', SUMMARY_DATE: '2026-12-05', REDIS_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const [code] = (await once(worker, 'exit')) as [number];
      assert.equal(code, 0);
    }
    await page.locator('[data-testid="toast"]', { hasText: 'Daily summary' }).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await page.evaluate(() => (window as unknown as WithSeller).sellerPage.ids()), ['summary:ada:2026-12-05']);
    const history = await shop.sb.history('#user:ada');
    assert.equal(history.publications.length, 1, 'one publication for two runs');
    noProblems(seller);
  });
});

describe('the bare EventSource client', () => {
  useShop();
  interface BareView {
    events: { event: string; data: { id: string }; position?: { offset: number } }[];
    statuses: string[];
  }
  const bareIds = (): string[] => (window as unknown as { bare: BareView }).bare.events.map((e) => e.data.id);
  const bareOffsets = (): number[] => (window as unknown as { bare: BareView }).bare.events.map((e) => e.position?.offset ?? -1);

  test('receives what is pushed to its user, across a dropped stream (resumed) and a closed page (joined with since): nothing lost or repeated', async () => {
    const seller = await browser.newPage();
    await signIn(seller.context, 'ada');
    const buyer = await browser.newPage();
    await signIn(buyer.context, 'bob');
    const page = await seller.context.newPage();
    await page.goto(`${url}bare`);
    await until(page, () => (window as unknown as { bare?: BareView }).bare?.statuses.includes('live') === true, 'live');

    const placed = [await placeOrder(buyer.context, 'tea-sencha'), await placeOrder(buyer.context, 'tea-oolong')];
    await until(page, () => (window as unknown as { bare: BareView }).bare.events.length === 2, 'two events');

    // Cut every connection of the server without a close: EventSource reconnects by itself, the client resumes.
    shop.sb.httpServer.closeAllConnections();
    placed.push(await placeOrder(buyer.context, 'tea-sencha'), await placeOrder(buyer.context, 'tea-oolong'));
    await until(page, () => (window as unknown as { bare: BareView }).bare.events.length >= 4, 'four events');
    assert.ok((await page.evaluate(() => (window as unknown as { bare: BareView }).bare.statuses)).includes('live (resumed)'), 'the session resumed');
    assert.deepEqual(await page.evaluate(bareIds), placed, 'each once, in order');
    assert.deepEqual(await page.evaluate(bareOffsets), [1, 2, 3, 4]);

    // A closed page ends its session (its beacon); the next one is a new session that joins with since.
    await page.close();
    placed.push(await placeOrder(buyer.context, 'tea-oolong'), await placeOrder(buyer.context, 'tea-sencha'));
    const again = await seller.context.newPage();
    await again.goto(`${url}bare`);
    await until(again, () => (window as unknown as { bare: BareView }).bare.events.length >= 2, 'the two missed');
    placed.push(await placeOrder(buyer.context, 'tea-oolong'));
    await until(again, () => (window as unknown as { bare: BareView }).bare.events.length >= 3, 'the live one after');

    assert.deepEqual(await again.evaluate(bareIds), placed.slice(4), 'the missed ones once, then the live one');
    assert.deepEqual(await again.evaluate(bareOffsets), [5, 6, 7]);
    noProblems(seller, buyer);
  });
});

describe('the shop on two server processes sharing Redis', () => {
  const servers: ChildProcess[] = [];
  const urls: string[] = [];

  before(async () => {
    const prefix = keys.prefix('shop-e2e');
    for (const name of ['one', 'two']) {
      // freePort() closes the port it found: another test file may take it meanwhile, so a port in use is tried again.
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const started = await startProcess(name, port, prefix);
        if (started === 'port in use' && attempt < 3) continue;
        if (started === 'port in use') throw new Error(`shop server ${name}: no free port after ${attempt} attempts`);
        urls.push(`http://127.0.0.1:${port}/`);
        break;
      }
    }
  });

  /** Start examples/notifications/server.ts on `port`; resolves once it listens, or with 'port in use'. */
  async function startProcess(name: string, port: number, prefix: string): Promise<'started' | 'port in use'> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/notifications/server.ts'], {
      env: { ...process.env, PORT: String(port), REDIS_URL, REDIS_PREFIX: prefix, SHOP_SECRET: 'e2e-secret', SHOP_API_KEY: 'e2e-key' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    servers.push(child); // stopped by after() whatever becomes of it
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`shop server ${name} did not start: ${output}`)), 60_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Switchboard shop:')) {
          clearTimeout(timer);
          resolve('started');
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (/is in use/.test(output)) resolve('port in use');
        else reject(new Error(`shop server ${name} exited (${code}): ${output}`));
      });
    });
  }

  after(async () => {
    await Promise.all(
      servers.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
  });
  // Registered after the hook above, so its keys are dropped once the processes have stopped (they save their sessions as they go).
  const keys = useRedisKeys();

  test('an order placed on one process rings the seller’s page on the other; a seller page opened on the process that took it finds it in the history', async () => {
    const [one, two] = urls as [string, string];
    const seller = await browser.newPage();
    assert.equal((await seller.context.request.post(`${one}api/session`, { data: { name: 'ada' } })).status(), 200);
    const page = await seller.context.newPage();
    await page.goto(`${one}seller`);
    await page.locator('#connection-status[data-state="connected"]').waitFor({ timeout: WAIT_MS });

    const buyer = await browser.newPage();
    assert.equal((await buyer.context.request.post(`${two}api/session`, { data: { name: 'bob' } })).status(), 200, 'the cookie is signed alike on both');
    const answer = await buyer.context.request.post(`${two}api/orders`, { data: { productId: 'tea-sencha', quantity: 2 } });
    assert.equal(answer.status(), 201);
    const { order } = (await answer.json()) as { order: { id: string } };
    await page.locator('[data-testid="toast"]', { hasText: 'New order from bob' }).waitFor({ timeout: WAIT_MS });

    const elsewhere = await seller.context.newPage();
    await elsewhere.goto(`${two}seller`);
    await until(elsewhere, () => (window as unknown as WithSeller).sellerPage?.ids().length === 1, 'the order from the history, on the other process');
    assert.deepEqual(await elsewhere.evaluate(() => (window as unknown as WithSeller).sellerPage.ids()), [order.id]);
    noProblems(seller, buyer);
  });
});
