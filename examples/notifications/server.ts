/**
 * What `npm run start:notifications` runs: the shop on PORT (default 3000). In memory by
 * default; with REDIS_URL (and REDIS_PREFIX, default 'shop') several processes on different
 * PORTs serve one shop — give them the same SHOP_SECRET (signs the session cookies) and
 * SHOP_API_KEY. SIGINT/SIGTERM shut down gracefully, as for the chat.
 */
import { closeOnSignals, shutdownDeadline } from '../shared/graceful-shutdown.js';
import { failedToStart, portFromEnv } from '../shared/start-port.js';
import { HTTP_API_PATH } from './notices.js';
import { startShopServer } from './shop-server.js';

const port = portFromEnv();

try {
  const deadline = shutdownDeadline();
  if (process.env.REDIS_URL && !process.env.SHOP_SECRET) console.warn('REDIS_URL without SHOP_SECRET: each process signs cookies with its own random secret, so a page signed in on one is refused by the others');
  const shop = await startShopServer({
    port,
    apiKey: process.env.SHOP_API_KEY || undefined,
    secret: process.env.SHOP_SECRET || undefined,
    redisUrl: process.env.REDIS_URL || undefined,
    redisPrefix: process.env.REDIS_PREFIX || undefined,
  });
  const where = process.env.REDIS_URL ? `user channels in Redis at ${process.env.REDIS_URL}` : 'in memory';
  console.log(`Switchboard shop: ${shop.url}  (${where}; sellers: ${shop.url}seller, buyers: ${shop.url}buyer)`);
  console.log(`Publish HTTP API: ${shop.url.slice(0, -1)}${HTTP_API_PATH}`);
  if (!process.env.SHOP_API_KEY) {
    // A key made up for this run: the worker needs it. Set SHOP_API_KEY to choose your own (and keep it out of logs).
    console.log(`The worker: SHOP_URL=${shop.url} SHOP_API_KEY=${shop.apiKey} npx tsx examples/notifications/worker.ts`);
  }
  closeOnSignals({ deadline, close: (ms) => shop.close({ deadline: ms }) });
} catch (err) {
  failedToStart(err, port, 'npm run start:notifications');
}
