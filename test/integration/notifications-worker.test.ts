/**
 * The shop's worker (examples/notifications/worker.ts) as a separate process against the
 * shop server: through the publish HTTP API (an API key, an idempotency key per seller and
 * day: two runs deliver once; a wrong key publishes nothing and exits 1), and through the
 * Redis Emitter into a shop on Redis; and the Python block of docs/NOTIFICATIONS.md, run as
 * written. A seller's SDK client, signed in with the shop's cookie, receives each live.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect, type SwitchboardClient, type WebSocketConstructor } from '../../src/client/node.js';
import type { Notice } from '../../examples/notifications/notices.js';
import { type ShopServer, startShopServer } from '../../examples/notifications/shop-server.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { eventually } from '../helpers/server.js';

/** Run the worker to its end; resolves with its exit code and output. */
async function runWorker(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/notifications/worker.ts'], {
    env: { ...process.env, REDIS_URL: '', SHOP_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}

/** A seller's client, signed in the way the page is: with the cookie the shop issues. */
async function sellerClient(shop: ShopServer, name: string): Promise<{ client: SwitchboardClient; notices: Notice[] }> {
  const answer = await fetch(`${shop.url}api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
  const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0] as string;
  class WithCookie extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  }
  const client = connect(`ws://127.0.0.1:${shop.port}/ws`, { WebSocket: WithCookie as unknown as WebSocketConstructor, transports: ['websocket'] });
  const notices: Notice[] = [];
  client.on('notice', (notice: Notice) => void notices.push(notice));
  await eventually(() => client.connected, 'the seller connected');
  assert.equal(client.user, name, 'the server says who the cookie names');
  return { client, notices };
}

const summaries = async (shop: ShopServer, seller: string): Promise<string[]> =>
  (await shop.sb.history(`#user:${seller}`)).publications.filter((p) => p.event === 'notice').map((p) => (p.data as Notice).id);

describe('the worker through the publish HTTP API', () => {
  test('each seller gets the summary once, however often it runs the same day; a wrong key publishes nothing', async () => {
    const shop = await startShopServer({ port: 0, host: '127.0.0.1' });
    const { client, notices } = await sellerClient(shop, 'ada');
    try {
      const env = { SHOP_URL: shop.url.replace('localhost', '127.0.0.1'), SHOP_API_KEY: shop.apiKey, SUMMARY_DATE: '2026-12-05' };
      for (let run = 0; run < 2; run++) {
        const { code, output } = await runWorker(env);
        assert.equal(code, 0, output);
      }
      assert.deepEqual(await summaries(shop, 'ada'), ['summary:ada:2026-12-05']);
      assert.deepEqual(await summaries(shop, 'grace'), ['summary:grace:2026-12-05']);
      await eventually(() => notices.length === 1, 'the live summary');
      assert.equal(notices[0]?.title, 'Daily summary');

      const refused = await runWorker({ ...env, SHOP_API_KEY: 'not-the-key', SUMMARY_DATE: '2026-12-06' });
      assert.equal(refused.code, 1);
      assert.match(refused.output, /401/);
      assert.deepEqual(await summaries(shop, 'ada'), ['summary:ada:2026-12-05']);
    } finally {
      client.close();
      await shop.close({ deadline: 100 });
    }
  });
});

describe('the Python example of docs/NOTIFICATIONS.md', () => {
  test('publishes to the seller with the standard library, once under a retry with its key', async () => {
    const guide = readFileSync(new URL('../../docs/NOTIFICATIONS.md', import.meta.url), 'utf8');
    const block = /```python\n([\s\S]*?)```/.exec(guide)?.[1];
    assert.ok(block, 'the guide has a Python block');
    const shop = await startShopServer({ port: 0, host: '127.0.0.1' });
    const { client, notices } = await sellerClient(shop, 'ada');
    try {
      for (let run = 0; run < 2; run++) {
        const python = spawn('python3', ['-c', block], { env: { ...process.env, SHOP_URL: `http://127.0.0.1:${shop.port}/`, SHOP_API_KEY: shop.apiKey }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        python.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        python.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const [code] = (await once(python, 'exit')) as [number];
        assert.equal(code, 0, output);
        assert.match(output, /'position': \{'epoch': '[^']+', 'offset': 1\}/, 'the same position both times');
      }
      await eventually(() => notices.length === 1, 'the shipping notice');
      assert.equal(notices[0]?.id, 'shipping:order-1');
      assert.equal((await shop.sb.history('#user:ada')).publications.length, 1);
    } finally {
      client.close();
      await shop.close({ deadline: 100 });
    }
  });
});

describe('the worker through the Redis Emitter', () => {
  const keys = useRedisKeys();

  test('publishes into a shop on Redis: in the seller’s history and live at the seller', async () => {
    const prefix = keys.prefix('shop-worker');
    const shop = await startShopServer({ port: 0, host: '127.0.0.1', redisUrl: REDIS_URL, redisPrefix: prefix });
    const { client, notices } = await sellerClient(shop, 'grace');
    try {
      const { code, output } = await runWorker({ REDIS_URL, REDIS_PREFIX: prefix, SELLERS: 'grace', SUMMARY_DATE: '2026-12-07' });
      assert.equal(code, 0, output);
      assert.match(output, /grace: published at/);
      await eventually(() => notices.length === 1, 'the live summary');
      assert.equal(notices[0]?.id, 'summary:grace:2026-12-07');
      assert.deepEqual(await summaries(shop, 'grace'), ['summary:grace:2026-12-07']);
    } finally {
      client.close();
      await shop.close({ deadline: 100 });
    }
  });
});
