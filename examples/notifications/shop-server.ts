import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { RedisAdapter, RedisIdempotencyStore } from '../../src/cluster/redis/index.js';
import { HttpApi } from '../../src/http-api/index.js';
import { ReplyError, Switchboard } from '../../src/server/index.js';
import { HTTP_API_PATH, MARK_READ, NoticeEvent, type ShopClientEvents, type ShopServerEvents, USER_CHANNEL_LIMITS } from './notices.js';
import { closeHttp, listen, requestListener, serveSite, type StaticFiles } from '../shared/http-server.js';
import { bundlePages } from '../shared/page-bundle.js';
import { shopApi, type ShopSwitchboard } from './shop-api.js';
import { SESSION_COOKIE, SessionCookies } from './sign-in.js';

export interface ShopServerOptions {
  /** Port to listen on; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default: all of them. */
  host?: string;
  /** The key backends publish with (`Authorization: Bearer <key>`). Default: a random one, see `apiKey` of the result. */
  apiKey?: string;
  /** Signs the session cookies; every process of one shop needs the same. Default: a random one (one process). */
  secret?: string;
  /** A Redis URL: the server joins the cluster of every shop server on it (the Redis adapter), user channels live in Redis. */
  redisUrl?: string;
  /** Prefix of the Redis keys and channels. Default 'shop'. */
  redisPrefix?: string;
}

export interface ShopServer {
  readonly http: HttpServer;
  readonly sb: ShopSwitchboard;
  readonly api: HttpApi;
  readonly port: number;
  /** e.g. http://localhost:3000/ */
  readonly url: string;
  /** The API key of the publish HTTP API at `${url}api/switchboard`. */
  readonly apiKey: string;
  close(options?: { deadline?: number }): Promise<void>;
}

const publicDir = new URL('./public/', import.meta.url);
/** The seller and buyer pages, each with the client SDK: served at /seller.js and /buyer.js. */
const PAGES = {
  seller: fileURLToPath(new URL('./page/seller.ts', import.meta.url)),
  buyer: fileURLToPath(new URL('./page/buyer.ts', import.meta.url)),
};

const HTML = 'text/html; charset=utf-8';
const STATIC_FILES: StaticFiles = {
  '/': { file: 'index.html', type: HTML },
  '/seller': { file: 'seller.html', type: HTML },
  '/buyer': { file: 'buyer.html', type: HTML },
  '/bare': { file: 'bare.html', type: HTML },
  '/styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/bare-sse-client.js': { file: 'bare-sse-client.js', type: 'text/javascript; charset=utf-8' },
  '/bare-page.js': { file: 'bare-page.js', type: 'text/javascript; charset=utf-8' },
};

/**
 * The shop: pages, the shop's JSON API, the publish HTTP API for backends and Switchboard,
 * on one HTTP server. Resolves once it listens.
 */
export async function startShopServer(options: ShopServerOptions = {}): Promise<ShopServer> {
  const site = serveSite({ publicDir, files: STATIC_FILES, scripts: await bundlePages(PAGES) });
  const cookies = new SessionCookies(options.secret);
  const apiKey = options.apiKey ?? randomBytes(24).toString('base64url');
  // The Switchboard paths (/ws/..., /switchboard/client.js) are answered before this handler runs.
  const http = createServer(
    requestListener(async (req, res) => {
      if (api.handle(req, res)) return;
      if (await shop(req, res)) return;
      await site(req, res);
    }),
  );
  const sb: ShopSwitchboard = new Switchboard<ShopClientEvents, ShopServerEvents>(
    http,
    options.redisUrl ? { adapter: new RedisAdapter(options.redisUrl, { prefix: options.redisPrefix ?? 'shop' }) } : {},
  );
  // Each user's channel keeps a week of notifications: a seller away for days still catches up.
  sb.durableUsers(USER_CHANNEL_LIMITS);

  // The server decides who a connection is, from the cookie it signed: never from a name the page sends.
  sb.use((socket, next) => {
    const user = cookies.verify(socket.handshake.cookies[SESSION_COOKIE]);
    if (!user) return next(new ReplyError('unauthorized', 'sign in first'));
    socket.user = user;
    next();
  });

  sb.on('connection', (socket) => {
    // Marking read goes through the server so that every tab of the user hears of it (and a
    // page opened later finds it in the channel's history).
    socket.on(MARK_READ, async ({ ids }) => {
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100 || !ids.every((id) => typeof id === 'string' && id.length <= 200)) {
        throw new ReplyError('bad_request', 'ids: 1 to 100 notification ids');
      }
      await sb.toUser(socket.user as string).publish(NoticeEvent.Read, { ids });
      return { ok: true as const };
    });
  });

  // On several processes a retry may reach another one: the idempotency keys live in Redis then.
  const idempotencyStore = options.redisUrl ? new RedisIdempotencyStore(options.redisUrl, { prefix: options.redisPrefix ?? 'shop' }) : undefined;
  const api = new HttpApi(sb, { keys: [apiKey], path: HTTP_API_PATH, ...(idempotencyStore && { idempotency: { store: idempotencyStore } }) });
  const shop = shopApi(sb, cookies);

  const port = await listen(http, options.port ?? 3000, options.host);
  await sb.ready();

  let closing: Promise<void> | undefined;
  return {
    http,
    sb,
    api,
    port,
    url: `http://localhost:${port}/`,
    apiKey,
    close({ deadline = 2000 } = {}) {
      closing ??= (async () => {
        await sb.close({ deadline });
        await idempotencyStore?.close();
        await closeHttp(http);
      })();
      return closing;
    },
  };
}
