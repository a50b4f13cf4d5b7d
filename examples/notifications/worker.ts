/**
 * A backend process with no clients: it sends each seller a "daily summary" notification.
 *
 *   SHOP_URL=http://localhost:3000/ SHOP_API_KEY=… npx tsx examples/notifications/worker.ts
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/notifications/worker.ts
 *
 * Without REDIS_URL it publishes through the shop's publish HTTP API (`POST
 * /api/switchboard/publish`, what a backend in any language would do), with an idempotency
 * key per seller and day: it retries a request that failed or timed out, and running it
 * twice the same day delivers once. With REDIS_URL (and REDIS_PREFIX, default 'shop') it
 * publishes through the Redis `Emitter` straight into the cluster instead; the Emitter has
 * no idempotency key, so there the notification id alone lets the page drop a repeat.
 *
 * SELLERS (comma-separated, default the catalog's sellers) and SUMMARY_DATE (YYYY-MM-DD,
 * default today, UTC) choose what to send. Exits 0 once every seller's notification was
 * taken, 1 otherwise.
 */
import { pathToFileURL } from 'node:url';
import { Emitter } from '../../src/cluster/redis/index.js';
import { SELLERS } from './catalog.js';
import { HTTP_API_PATH, type Notice, NoticeEvent, USER_CHANNEL_LIMITS } from './notices.js';

export interface WorkerOptions {
  sellers: readonly string[];
  date: string;
  /** HTTP API mode: the shop's URL and key. */
  shopUrl?: string;
  apiKey?: string;
  /** Emitter mode. */
  redisUrl?: string;
  redisPrefix?: string;
  log?: (line: string) => void;
}

/** What one publication through the HTTP API answered. */
export interface Published {
  seller: string;
  status: number;
  body: unknown;
}

const ATTEMPTS = 3;
const REQUEST_TIMEOUT_MS = 5000;

/**
 * The same seller and day give the same notification, to the byte: a retry with its
 * idempotency key must send the same body (the API refuses a key reused for another body).
 */
export function summaryFor(seller: string, date: string): Notice {
  return {
    id: `summary:${seller}:${date}`,
    kind: 'summary',
    title: 'Daily summary',
    text: `Your sales report for ${date} is ready.`,
    at: Date.parse(`${date}T18:00:00Z`),
  };
}

/** Send every seller their summary; resolves with what each publication answered. */
export async function runWorker(options: WorkerOptions): Promise<Published[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.redisUrl) {
    const emitter = new Emitter(options.redisUrl, { prefix: options.redisPrefix ?? 'shop' }).durableUsers(USER_CHANNEL_LIMITS);
    try {
      const results: Published[] = [];
      for (const seller of options.sellers) {
        const position = await emitter.toUser(seller).publish(NoticeEvent.Notice, summaryFor(seller, options.date));
        log(`${seller}: published at ${position.epoch}:${position.offset} (Emitter)`);
        results.push({ seller, status: 200, body: { position } });
      }
      return results;
    } finally {
      await emitter.close();
    }
  }
  if (!options.shopUrl || !options.apiKey) throw new Error('set SHOP_URL and SHOP_API_KEY (the HTTP API), or REDIS_URL (the Emitter)');
  const endpoint = new URL(`${HTTP_API_PATH.slice(1)}/publish`, options.shopUrl);
  const results: Published[] = [];
  for (const seller of options.sellers) {
    const notice = summaryFor(seller, options.date);
    const result = await publishWithRetries(endpoint, options.apiKey, { user: seller, event: NoticeEvent.Notice, data: notice, idempotencyKey: notice.id });
    log(`${seller}: ${result.status} ${JSON.stringify(result.body)}`);
    results.push({ seller, ...result });
  }
  return results;
}

/**
 * POST with the same idempotency key until the API answers: a request that timed out may
 * have been published, and the key makes the retry answer with that publication instead
 * of a second one. 4xx answers are final (a bad key, a bad body), except
 * `idempotency_in_flight`: the first attempt is still running, so ask again.
 */
async function publishWithRetries(endpoint: URL, apiKey: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  let failure: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const answer = await fetch(endpoint, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const parsed = (await answer.json().catch(() => null)) as unknown;
      // idempotency_in_flight: the first attempt with this key is still running somewhere; its answer will come.
      const inFlight = answer.status === 409 && (parsed as { code?: string } | null)?.code === 'idempotency_in_flight';
      if (answer.status < 500 && !inFlight) return { status: answer.status, body: parsed };
      failure = new Error(`HTTP ${answer.status}: ${JSON.stringify(parsed)}`);
    } catch (err) {
      failure = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
  }
  throw failure;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const date = process.env.SUMMARY_DATE || new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) {
    console.error(`worker: SUMMARY_DATE must be YYYY-MM-DD, got "${date}"`);
    process.exit(1);
  }
  const sellers = process.env.SELLERS ? process.env.SELLERS.split(',').map((s) => s.trim()).filter(Boolean) : SELLERS;
  try {
    const results = await runWorker({
      sellers,
      date,
      shopUrl: process.env.SHOP_URL || 'http://localhost:3000/',
      apiKey: process.env.SHOP_API_KEY || undefined,
      redisUrl: process.env.REDIS_URL || undefined,
      redisPrefix: process.env.REDIS_PREFIX || undefined,
    });
    process.exit(results.every((r) => r.status === 200) ? 0 : 1);
  } catch (err) {
    console.error(`worker: ${(err as Error).message}`);
    process.exit(1);
  }
}
