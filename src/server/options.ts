import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { ClusterAdapter } from '../cluster/adapter.js';
import type { StreamStore } from '../delivery/stream-store.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_PATH,
} from '../protocol/constants.js';
import type { OptionNames } from '../protocol/option-names.js';
import type { Logger } from './logger.js';
import { checkOptionNames } from './unknown-options.js';
import { type ResolvedSocketIoOptions, resolveSocketIoOptions, type SocketIoOptions } from '../compat/socketio/options.js';

/** How a client may reach the server: a WebSocket, Server-Sent Events down with POSTs up, or HTTP long-polling. */
export type TransportName = 'websocket' | 'sse' | 'polling';

export const TRANSPORT_NAMES: readonly TransportName[] = ['websocket', 'sse', 'polling'];

export interface SwitchboardOptions {
  /** HTTP path of the WebSocket endpoint; the HTTP transports answer under it (`/ws/poll`, `/ws/sse`, ...). Default `/ws`. */
  path?: string;
  /** Transports clients may use; an unlisted one is refused with 403 `transport_disabled`. Default `['websocket', 'sse', 'polling']`. */
  transports?: readonly TransportName[];
  polling?: {
    /** Milliseconds a poll waits for frames before it is answered empty; keep it below the read timeout of proxies (nginx: 60 s). Default 25000. */
    hold?: number;
    /** Bytes of frames one poll response carries at most (a larger single frame goes alone). Default 1048576. */
    maxResponseBytes?: number;
  };
  heartbeat?: {
    /** Milliseconds between pings. Default 25000. */
    interval?: number;
    /** Extra silence tolerated after `interval` before a peer is dropped. Default 20000. */
    timeout?: number;
  };
  /** Largest incoming frame in bytes; larger ones close the connection with 1009. Default 65536. */
  maxMessageBytes?: number;
  /** Milliseconds a new connection has to send its hello. Default 10000. */
  handshakeTimeout?: number;
  /** Default timeout of `emitWithAck` to clients, in milliseconds. Default 10000. */
  ackTimeout?: number;
  /** Frames a connection may queue behind a pending handshake, connect or join. Default 256. */
  maxQueuedFrames?: number;
  /** Enable permessage-deflate. Default false: it costs hundreds of KiB per connection. */
  perMessageDeflate?: boolean;
  /**
   * Serve the browser client at `/switchboard/client.js` and `/switchboard/client-<version>.js`
   * (with source maps), so pages can import it with no build step. Default true.
   */
  serveClient?: boolean;
  /**
   * Unsent bytes a connection may hold while it is in a durable room; past it the
   * connection is closed with 4009 and the client recovers from history. Default 1 MiB.
   */
  maxBufferedBytes?: number;
  /** Where durable rooms keep their streams. Default: in this process's memory (lost on restart). Not with `adapter`, which brings its own. */
  streams?: StreamStore;
  /**
   * How this node shares broadcasts, durable streams, presence and queries with others:
   * `new RedisAdapter(...)` from `switchboard/redis`. Default: a cluster of one, in memory.
   * The server closes it when it closes.
   */
  adapter?: ClusterAdapter;
  /** Milliseconds cluster-wide queries (fetchSockets, socketsJoin, ...) wait for every node before rejecting with `timeout`. Default 5000. */
  clusterTimeout?: number;
  /**
   * Session resume: a connection that drops without a close (network loss, missed
   * heartbeats) keeps its session — id, namespaces, rooms, pending replies — for `ttl` ms,
   * and a client that comes back with its resume token and its count of received frames
   * gets every frame after that count again (`resumed: true`). `false` turns resume off.
   * What a waiting session missed is kept by time, not by count: broadcasts (room events,
   * durable publications, presence) once per node in a log of at most `maxLogBytes`, and
   * the frames sent to the session alone up to `maxUnackedFrames` / `maxUnackedBytes`,
   * which also bound what a connected client may leave unacknowledged.
   * Defaults: ttl 120000, 1000 frames, 1 MiB, log 64 MiB, silentTtl 10000.
   */
  resume?:
    | {
        ttl?: number;
        maxUnackedFrames?: number;
        maxUnackedBytes?: number;
        /** Bytes of broadcasts this node keeps for all its waiting sessions together. Default 64 MiB. */
        maxLogBytes?: number;
        /** Milliseconds a session is kept whose client sent nothing after its hello (an abandoned connection). Default 10000 (at most `ttl`). */
        silentTtl?: number;
      }
    | false;
  /** Reliable publishes remembered per session for deduplication. Default 1000. */
  dedupeWindow?: number;
  /**
   * Origins (`scheme://host[:port]`) whose pages may open a connection, checked against the
   * request's `Origin` header (a refused page's WebSocket is closed with 1008
   * `origin_not_allowed`, its HTTP requests get 403), or a function deciding alone.
   * Default: the server's own origin (the `Host` header), plus `localhost`, `127.0.0.1` and
   * `[::1]` on any port unless NODE_ENV is `production`. A list keeps the server's own
   * origin (`'self'`, which may be written) and drops the localhost rule. `'*'` allows every origin.
   * Requests without an Origin header (non-browser clients) are not checked.
   */
  allowedOrigins?: readonly string[] | '*' | ((origin: string, request: OriginRequest) => boolean);
  /**
   * Take the client's IP from `X-Forwarded-For` — only when the connection comes from a
   * trusted proxy: `true` (any), a number of proxy hops, or a list of proxy addresses.
   * Default false: the socket's own address.
   */
  trustProxy?: boolean | number | readonly string[];
  /** Open connections the server accepts; one more gets `server_full` and close 1013. Default 50000. */
  maxConnections?: number;
  /** Open connections per client IP; one more gets HTTP 429 `too_many_connections`. Default 100. */
  maxConnectionsPerIp?: number;
  /** WebSocket handshakes per client IP (token bucket); faster ones get HTTP 429 `rate_limited`. Default 20/s, burst 100. */
  handshakeRate?: { perSecond?: number; burst?: number } | false;
  /** Frames per connection (token bucket); frames over it are answered `rate_limited`. Default 100/s, burst 200. */
  frameRate?: { perSecond?: number; burst?: number } | false;
  /** Rooms one socket may be in (its private room not counted); one more join gets `too_many_rooms`. Default 1000. */
  maxRoomsPerSocket?: number;
  /** Client requests of one session whose handlers may run at once; one more gets `too_many_pending`. Default 100. */
  maxPendingRequests?: number;
  /** Milliseconds a client has to answer a `reauth` request with credentials the middleware accepts. Default 10000. */
  reauthTimeout?: number;
  /** Serve wss:// and https:// when the server creates its own HTTP server (from a port): key and certificate. */
  tls?: SecureContextOptions & TlsOptions;
  /**
   * The Socket.IO front door: Engine.IO v4 and Socket.IO v5 under `/socket.io/`, so an
   * unchanged `socket.io-client` connects beside native clients, in the same namespaces and
   * rooms. `true` for the defaults. Off by default. See docs/SOCKET-IO.md.
   */
  socketIo?: boolean | SocketIoOptions;
  /**
   * Where the server logs (pino's shape: `(fields, message)`; a pino logger is passed as is,
   * `console` is accepted too). Default none: nothing is logged but app handler errors
   * without an `error` listener and Redis trouble, on stderr. Tokens are never logged.
   */
  logger?: Logger;
  /**
   * Trace every frame of a session, in and out, to `logger.debug` (stderr without a logger),
   * tokens redacted: `true` for every session, or a function deciding per session at its
   * hello. Default false; `DEBUG=switchboard:frames` turns it on for every session too.
   */
  traceFrames?: boolean | ((session: TracedSession) => boolean);
}

/** What a `traceFrames` function sees of a session, once, at its hello. */
export interface TracedSession {
  id: string;
  /** The namespace of its hello. */
  namespace: string;
  /** `websocket`, `sse`, `polling`, `socket.io/websocket`, `socket.io/polling`. */
  transport: string | undefined;
  /** The client's IP (after `trustProxy`). */
  address: string;
}

/** What an `allowedOrigins` function sees of the upgrade request. */
export interface OriginRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  url: string;
  /** The client's IP (after `trustProxy`). */
  address: string;
}

/** A token bucket: `perSecond` tokens are added each second, up to `burst`. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface ResolvedOptions {
  path: string;
  transports: readonly TransportName[];
  polling: { hold: number; maxResponseBytes: number };
  heartbeat: { interval: number; timeout: number };
  maxMessageBytes: number;
  handshakeTimeout: number;
  ackTimeout: number;
  maxQueuedFrames: number;
  perMessageDeflate: boolean;
  serveClient: boolean;
  maxBufferedBytes: number;
  /** ttl 0: resume is off. */
  resume: { ttl: number; maxUnackedFrames: number; maxUnackedBytes: number; maxLogBytes: number; silentTtl: number };
  dedupeWindow: number;
  allowedOrigins: readonly string[] | '*' | ((origin: string, request: OriginRequest) => boolean) | undefined;
  trustProxy: boolean | number | readonly string[];
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** undefined: no limit. */
  handshakeRate: RateLimit | undefined;
  /** undefined: no limit. */
  frameRate: RateLimit | undefined;
  maxRoomsPerSocket: number;
  maxPendingRequests: number;
  reauthTimeout: number;
  clusterTimeout: number;
  tls: (SecureContextOptions & TlsOptions) | undefined;
  /** undefined: the Socket.IO front door is off. */
  socketIo: ResolvedSocketIoOptions | undefined;
}

export function resolveOptions(options: SwitchboardOptions = {}): ResolvedOptions {
  checkOptionNames(options, OPTION_NAMES);
  const resolved: ResolvedOptions = {
    path: options.path ?? DEFAULT_PATH,
    transports: resolveTransports(options.transports),
    polling: {
      hold: options.polling?.hold ?? 25_000,
      maxResponseBytes: options.polling?.maxResponseBytes ?? 1024 * 1024,
    },
    heartbeat: {
      interval: options.heartbeat?.interval ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      timeout: options.heartbeat?.timeout ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    },
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    handshakeTimeout: options.handshakeTimeout ?? 10_000,
    ackTimeout: options.ackTimeout ?? 10_000,
    maxQueuedFrames: options.maxQueuedFrames ?? 256,
    perMessageDeflate: options.perMessageDeflate ?? false,
    serveClient: options.serveClient ?? true,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    resume: {
      ttl: options.resume === false ? 0 : (options.resume?.ttl ?? 120_000),
      maxUnackedFrames: (options.resume || undefined)?.maxUnackedFrames ?? 1000,
      maxUnackedBytes: (options.resume || undefined)?.maxUnackedBytes ?? 1024 * 1024,
      maxLogBytes: (options.resume || undefined)?.maxLogBytes ?? 64 * 1024 * 1024,
      silentTtl: (options.resume || undefined)?.silentTtl ?? 10_000,
    },
    dedupeWindow: options.dedupeWindow ?? 1000,
    allowedOrigins: options.allowedOrigins,
    trustProxy: options.trustProxy ?? false,
    maxConnections: options.maxConnections ?? 50_000,
    maxConnectionsPerIp: options.maxConnectionsPerIp ?? 100,
    handshakeRate: resolveRate(options.handshakeRate, { perSecond: 20, burst: 100 }),
    frameRate: resolveRate(options.frameRate, { perSecond: 100, burst: 200 }),
    maxRoomsPerSocket: options.maxRoomsPerSocket ?? 1000,
    maxPendingRequests: options.maxPendingRequests ?? 100,
    reauthTimeout: options.reauthTimeout ?? 10_000,
    clusterTimeout: options.clusterTimeout ?? 5000,
    tls: options.tls,
    socketIo: undefined,
  };
  const positive: [string, number][] = [
    ['heartbeat.interval', resolved.heartbeat.interval],
    ['heartbeat.timeout', resolved.heartbeat.timeout],
    ['maxMessageBytes', resolved.maxMessageBytes],
    ['handshakeTimeout', resolved.handshakeTimeout],
    ['ackTimeout', resolved.ackTimeout],
    ['maxQueuedFrames', resolved.maxQueuedFrames],
    ['maxBufferedBytes', resolved.maxBufferedBytes],
    ['resume.maxUnackedFrames', resolved.resume.maxUnackedFrames],
    ['resume.maxUnackedBytes', resolved.resume.maxUnackedBytes],
    ['resume.maxLogBytes', resolved.resume.maxLogBytes],
    ['resume.silentTtl', resolved.resume.silentTtl],
    ['dedupeWindow', resolved.dedupeWindow],
    ['maxConnections', resolved.maxConnections],
    ['maxConnectionsPerIp', resolved.maxConnectionsPerIp],
    ['maxRoomsPerSocket', resolved.maxRoomsPerSocket],
    ['maxPendingRequests', resolved.maxPendingRequests],
    ['reauthTimeout', resolved.reauthTimeout],
    ['clusterTimeout', resolved.clusterTimeout],
    ['polling.hold', resolved.polling.hold],
    ['polling.maxResponseBytes', resolved.polling.maxResponseBytes],
    ...(resolved.handshakeRate ? ([['handshakeRate.perSecond', resolved.handshakeRate.perSecond], ['handshakeRate.burst', resolved.handshakeRate.burst]] as [string, number][]) : []),
    ...(resolved.frameRate ? ([['frameRate.perSecond', resolved.frameRate.perSecond], ['frameRate.burst', resolved.frameRate.burst]] as [string, number][]) : []),
  ];
  for (const [name, value] of positive) {
    const finite = Number.isFinite(value) || (value === Number.POSITIVE_INFINITY && UNBOUNDED_ALLOWED.has(name));
    if (!finite || value <= 0) throw new RangeError(`Switchboard option ${name} must be a positive number, got ${value}`);
  }
  if (!(resolved.resume.ttl >= 0) || !Number.isFinite(resolved.resume.ttl)) {
    throw new RangeError(`Switchboard option resume.ttl must be 0 (off) or a positive number, got ${resolved.resume.ttl}`);
  }
  if (!resolved.path.startsWith('/')) throw new RangeError(`Switchboard option path must start with "/", got "${resolved.path}"`);
  resolved.socketIo = resolveSocketIoOptions(options.socketIo, resolved);
  return resolved;
}

/** Every option; `satisfies` makes typecheck fail when SwitchboardOptions gains one not listed here. `tls` is Node's: its fields are not checked. */
const OPTION_NAMES = {
  path: true,
  transports: true,
  polling: ['hold', 'maxResponseBytes'],
  heartbeat: ['interval', 'timeout'],
  maxMessageBytes: true,
  handshakeTimeout: true,
  ackTimeout: true,
  maxQueuedFrames: true,
  perMessageDeflate: true,
  serveClient: true,
  maxBufferedBytes: true,
  streams: true,
  adapter: true,
  clusterTimeout: true,
  resume: ['ttl', 'maxUnackedFrames', 'maxUnackedBytes', 'maxLogBytes', 'silentTtl'],
  dedupeWindow: true,
  allowedOrigins: true,
  trustProxy: true,
  maxConnections: true,
  maxConnectionsPerIp: true,
  handshakeRate: ['perSecond', 'burst'],
  frameRate: ['perSecond', 'burst'],
  maxRoomsPerSocket: true,
  maxPendingRequests: true,
  reauthTimeout: true,
  tls: true,
  logger: true,
  traceFrames: true,
  socketIo: ['path', 'transports', 'pingInterval', 'pingTimeout', 'maxPayload', 'upgradeTimeout', 'maxAttachments', 'recovery'],
} as const satisfies Record<keyof SwitchboardOptions, true | readonly string[]> & OptionNames;

/** Limits that may be turned off with Infinity (never handed to a timer). */
const UNBOUNDED_ALLOWED: ReadonlySet<string> = new Set([
  'maxConnections',
  'maxConnectionsPerIp',
  'maxRoomsPerSocket',
  'maxPendingRequests',
  'handshakeRate.perSecond',
  'handshakeRate.burst',
  'frameRate.perSecond',
  'frameRate.burst',
]);

function resolveRate(option: { perSecond?: number; burst?: number } | false | undefined, defaults: RateLimit): RateLimit | undefined {
  if (option === false) return undefined;
  return { perSecond: option?.perSecond ?? defaults.perSecond, burst: option?.burst ?? defaults.burst };
}

function resolveTransports(option: readonly TransportName[] | undefined): readonly TransportName[] {
  if (option === undefined) return TRANSPORT_NAMES;
  const unknown = Array.isArray(option) ? option.filter((name) => !TRANSPORT_NAMES.includes(name)) : [option];
  if (unknown.length > 0 || option.length === 0) {
    throw new TypeError(`Switchboard option transports must be a non-empty list of ${TRANSPORT_NAMES.map((n) => `'${n}'`).join(', ')}, got ${JSON.stringify(option)}`);
  }
  return [...new Set(option)];
}
