/**
 * A checked ServeConfig made into a running server: an HTTP(S) server of its own, with
 * Switchboard attached, the publish HTTP API, metrics and the admin dashboard mounted with
 * `route()`, the static folder as the fallback for every other path, JWT auth, Redis, and
 * the durable and presence rules. The server logs to serve's log itself (its `logger`
 * option): refusals, handler errors, Redis trouble, traced frames.
 *
 * The HTTP server is made here rather than by `new Switchboard(port)` because that one
 * listens on every interface (serve has `host`). The static folder stays this server's
 * request listener, behind Switchboard's paths and routes, rather than a `route('/')`, so
 * that the WebSocket path is not the folder's: a plain GET of it gets Switchboard's own 426
 * (answerUnclaimed), whose text says how the request arrived. `switchboard doctor` reads
 * that text to tell a proxy that dropped the upgrade; any other 426 it can only call lost.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IdempotencyStore } from '../../delivery/idempotency-store.js';
import { HttpApi } from '../../http-api/index.js';
import { type ClusterAdapter, Switchboard, type SwitchboardOptions } from '../../server/index.js';
// serve is a composition root: it answers as the server Switchboard makes from a port would.
import { answerUnclaimed } from '../../server/plain-answers.js';
import { ConfigError, redactedUrl } from './config-reader.js';
import { loadMetrics, type Mount, mountPages } from './http-mounts.js';
import { roomPattern } from './room-patterns.js';
import type { ServeConfig } from './serve-config.js';
import type { ServeLog } from './serve-log.js';
import { jwtOptions, SocketAuth } from './socket-auth.js';
import { staticFolder } from './static-files.js';

/** The server could not start for a reason that is not the configuration's (port in use, Redis away, a package missing): exit 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** The same limits against slow clients as the server Switchboard makes from a port (docs/API.md). */
const HTTP_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 };
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface StandaloneServer {
  sb: Switchboard;
  httpServer: Server;
  /** What is on and what is listening, one line each, for the startup log; the last is `listening on <ws URL>`. */
  summary(): { message: string; fields: Record<string, unknown> }[];
  /** Graceful shutdown: Switchboard's close() (clients get 1001 and reconnect elsewhere), then the HTTP server. */
  close(deadline?: number): Promise<void>;
}

export async function startStandaloneServer(config: ServeConfig, log: ServeLog): Promise<StandaloneServer> {
  if (config.auth?.jwt || config.api?.jwt) await requireJose(config.auth?.jwt ? 'auth.jwt' : 'api.jwt');
  const metricsModule = await loadMetrics(config);
  const socketAuth = config.auth && new SocketAuth(config.auth);
  await socketAuth?.ready().catch((err: unknown) => {
    throw new ConfigError('auth.jwt', `"auth.jwt": ${(err as Error).message}`, { cause: err });
  });

  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    const cluster = config.redis && (await redisCluster(config.redis));
    if (cluster) cleanups.push(() => cluster.adapter.close(), () => cluster.idempotency.close());

    let sb: Switchboard | undefined;
    const fallback = requestFallback(config, () => sb as Switchboard);
    const httpServer = config.tls
      ? createHttpsServer({ handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS, ...HTTP_TIMEOUTS, cert: config.tls.cert, key: config.tls.key, ...(config.tls.ca && { ca: config.tls.ca }), ...(config.tls.passphrase && { passphrase: config.tls.passphrase }) }, fallback)
      : createServer(HTTP_TIMEOUTS, fallback);

    try {
      sb = new Switchboard(httpServer, serverOptions(config, cluster?.adapter, log));
    } catch (err) {
      // Switchboard checks the options it was handed (`server`, origins, trustProxy, socketIo) and names the bad one.
      if (err instanceof TypeError || err instanceof RangeError) throw new ConfigError('server', err.message, { cause: err });
      throw err;
    }
    // From here sb.close() closes the adapter; the idempotency store is ours to close.
    cleanups.length = 0;
    if (cluster) cleanups.push(() => cluster.idempotency.close());
    cleanups.push(() => sb.close({ deadline: 0 }));

    for (const rule of config.durable) sb.durable(roomPattern(rule.pattern), limits(rule));
    if (config.durableUsers) sb.durableUsers(limits(config.durableUsers));
    for (const pattern of config.presence) sb.trackPresence(roomPattern(pattern));
    if (socketAuth) {
      sb.use(socketAuth.middleware);
      const authorizer = socketAuth.joinAuthorizer;
      if (authorizer) sb.sockets.authorizeJoin(authorizer);
    }

    let api: HttpApi | undefined;
    if (config.api) {
      api = new HttpApi(sb, {
        keys: config.api.keys,
        path: config.api.path,
        ...(config.api.jwt && { jwt: jwtOptions(config.api.jwt) }),
        ...(cluster && { idempotency: { store: cluster.idempotency } }),
      });
      await api.ready().catch((err: unknown) => {
        throw new ConfigError('api.jwt', `"api.jwt": ${(err as Error).message}`, { cause: err });
      });
      const mounted = api;
      sb.route(mounted.path, (req, res) => void (mounted.handle(req, res) || res.writeHead(404).end()));
    }
    const mounts = mountPages(sb, config, metricsModule);

    await listen(httpServer, config.port, config.host);
    try {
      await sb.ready();
    } catch (err) {
      throw new StartupError(`the cluster did not start (${config.redis ? redactedUrl(config.redis.url) : 'memory'}): ${(err as Error).message}`);
    }
    return {
      sb,
      httpServer,
      summary: () => summary(config, httpServer, api, mounts),
      async close(deadline = 5000) {
        for (const mount of mounts) mount.close();
        await sb.close({ deadline });
        await cluster?.idempotency.close();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
      },
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

function limits(l: { maxMessages?: number; maxAge?: number }): { maxMessages?: number; maxAge?: number } {
  return { ...(l.maxMessages !== undefined && { maxMessages: l.maxMessages }), ...(l.maxAge !== undefined && { maxAge: l.maxAge }) };
}

function serverOptions(config: ServeConfig, adapter: ClusterAdapter | undefined, logger: ServeLog): SwitchboardOptions {
  return {
    ...(config.server as SwitchboardOptions),
    logger,
    ...(config.log.traceFrames && { traceFrames: true }),
    path: config.path,
    ...(config.allowedOrigins !== undefined && { allowedOrigins: config.allowedOrigins }),
    ...(config.trustProxy !== undefined && { trustProxy: config.trustProxy }),
    ...(adapter && { adapter }),
    ...(config.socketIo !== false && { socketIo: config.socketIo as SwitchboardOptions['socketIo'] }),
    ...(config.heartbeat && { heartbeat: config.heartbeat }),
    ...(config.maxMessageBytes !== undefined && { maxMessageBytes: config.maxMessageBytes }),
  };
}

/**
 * Every request Switchboard and the routes did not take: the static folder, or 404 — and on
 * the WebSocket path Switchboard's own 426. Switchboard is made after the HTTP server (it
 * needs it), so its options come through `switchboard()` once it exists.
 */
function requestFallback(config: ServeConfig, switchboard: () => Switchboard): RequestListener {
  const files = config.static === undefined ? undefined : staticFolder(config.static);
  return (req: IncomingMessage, res: ServerResponse) => {
    const pathname = (req.url ?? '/').split('?', 1)[0];
    if (pathname === config.path) {
      answerUnclaimed(req, res, switchboard().options);
      return;
    }
    if (files) {
      files(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 not found\n');
  };
}

async function requireJose(key: string): Promise<void> {
  try {
    await import('jose');
  } catch {
    throw new StartupError(`"${key}" needs the jose package to verify tokens: npm install jose`);
  }
}

async function redisCluster(redis: { url: string; prefix: string }): Promise<{ adapter: ClusterAdapter; idempotency: IdempotencyStore & { close(): Promise<void> } }> {
  let module: typeof import('../../cluster/redis/index.js');
  try {
    module = await import('../../cluster/redis/index.js');
  } catch (err) {
    throw new StartupError(`"redis" needs the ioredis package: npm install ioredis (${(err as Error).message})`);
  }
  // Its trouble goes to the server's logger (serve's log), once per outage.
  const adapter = new module.RedisAdapter(redis.url, { prefix: redis.prefix });
  // Retries of the HTTP API are deduplicated on every node of the cluster.
  return { adapter, idempotency: new module.RedisIdempotencyStore(redis.url, { prefix: redis.prefix }) };
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? `port ${port} is in use` : err.code === 'EACCES' ? `no permission to listen on port ${port}` : err.message;
      reject(new StartupError(`cannot listen on ${host ?? 'all interfaces'}:${port}: ${why}`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** A URL clients can use: the real port (port 0 picks one), and `localhost` for a wildcard host. */
function origin(server: Server, config: ServeConfig, scheme: 'ws' | 'http'): string {
  const { port } = server.address() as AddressInfo;
  const host = config.host === undefined || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${scheme}${config.tls ? 's' : ''}://${host}:${port}`;
}

function summary(config: ServeConfig, server: Server, api: HttpApi | undefined, mounts: readonly Mount[]): { message: string; fields: Record<string, unknown> }[] {
  const http = origin(server, config, 'http');
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  if (config.socketIo !== false) {
    const path = (typeof config.socketIo === 'object' && typeof config.socketIo.path === 'string' ? config.socketIo.path : '/socket.io').replace(/\/?$/, '/');
    lines.push({ message: `Socket.IO clients on ${http}${path}`, fields: { url: `${http}${path}` } });
  }
  if (api && config.api) {
    const credentials = [config.api.keys.length > 0 && `${config.api.keys.length} API key${config.api.keys.length === 1 ? '' : 's'}`, config.api.jwt && 'JWTs'].filter(Boolean).join(' and ');
    lines.push({ message: `HTTP API on ${http}${api.path} (${credentials})`, fields: { url: `${http}${api.path}` } });
  }
  for (const mount of mounts) lines.push({ message: `${mount.label} on ${http}${mount.path}`, fields: { url: `${http}${mount.path}` } });
  if (config.static !== undefined) lines.push({ message: `static folder ${config.static} on ${http}/`, fields: { url: `${http}/`, folder: config.static } });
  const auth = config.auth?.jwt
    ? `auth: JWT (${config.auth.jwt.secret ? 'shared secret' : config.auth.jwt.publicKey ? `public key ${config.auth.jwt.publicKeyFile}` : `JWKS ${redactedUrl(config.auth.jwt.jwksUrl ?? '')}`}), ${config.auth.anonymous ? 'anonymous clients admitted' : 'anonymous clients refused'}${config.auth.rooms ? `, rooms: claim "${config.auth.rooms.claim}" + ${config.auth.rooms.public.length} public pattern(s)` : ''}`
    : 'auth: none (every client is admitted, anonymously)';
  lines.push({ message: auth, fields: {} });
  lines.push({ message: config.redis ? `cluster: redis ${redactedUrl(config.redis.url)} prefix "${config.redis.prefix}"` : 'cluster: none (this process only, in memory)', fields: {} });
  const durable = [...config.durable.map((r) => r.pattern), ...(config.durableUsers ? ['user rooms'] : [])];
  if (durable.length > 0) lines.push({ message: `durable: ${durable.join(', ')}`, fields: {} });
  if (config.presence.length > 0) lines.push({ message: `presence: ${config.presence.join(', ')}`, fields: {} });
  // Last: a script waiting for "listening on" finds everything above already done.
  const ws = `${origin(server, config, 'ws')}${config.path}`;
  lines.push({ message: `listening on ${ws}`, fields: { url: ws, port: (server.address() as AddressInfo).port } });
  return lines;
}
