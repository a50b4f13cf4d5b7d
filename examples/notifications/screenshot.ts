/**
 * Writes docs/notifications.png, the README's picture of the shop: a shop server on a free
 * port, the seller ada with a few orders (one read) and the worker's daily summary, a toast
 * for the latest order, and a 1200×600 screenshot of her page.
 *
 *   npx tsx examples/notifications/screenshot.ts [output.png]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { startShopServer } from './shop-server.js';
import { runWorker } from './worker.js';

const CHROMIUM = '/usr/bin/chromium';
const output = process.argv[2] ?? fileURLToPath(new URL('../../docs/notifications.png', import.meta.url));

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  process.exit(1);
}

const shop = await startShopServer({ port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${shop.port}/`;
let browser: Browser | undefined;

try {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const seller = await browser.newContext({ viewport: { width: 1200, height: 600 }, deviceScaleFactor: 1, locale: 'en-GB' });
  const buyers = await browser.newContext();
  await seller.request.post(`${url}api/session`, { data: { name: 'ada' } });
  const page = await seller.newPage();
  await page.goto(`${url}seller`);
  await page.locator('#connection-status[data-state="connected"]').waitFor();

  const order = async (buyer: string, productId: string, quantity: number): Promise<void> => {
    await buyers.request.post(`${url}api/session`, { data: { name: buyer } });
    await buyers.request.post(`${url}api/orders`, { data: { productId, quantity } });
  };
  await order('linus', 'tea-oolong', 1);
  await runWorker({ sellers: ['ada'], date: new Date().toISOString().slice(0, 10), shopUrl: url, apiKey: shop.apiKey, log: () => {} });
  await order('grace', 'tea-sencha', 3);
  await page.locator('[data-testid="notice"]').nth(2).waitFor();
  await page.locator('[data-testid="notice"] .mark-read').last().click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="notice"].unread').length === 2);
  await page.evaluate(() => document.querySelectorAll('[data-testid="toast"]').forEach((t) => t.remove()));
  await order('bob', 'tea-sencha', 2);
  await page.locator('[data-testid="toast"]', { hasText: 'bob' }).waitFor();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser?.close();
  await shop.close({ deadline: 100 });
}
