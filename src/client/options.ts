import { MAX_NAME_LENGTH, ROOT_NAMESPACE } from '../protocol/constants.js';
import { type BufferLimit, DEFAULT_BUFFER_LIMIT } from './emit-buffer.js';
import { browserNetwork, type NetworkEnvironment } from './network-watch.js';
import { DEFAULT_OUTBOX_LIMIT, MAX_OUTBOX_COUNT, type OutboxLimit } from './reliable-outbox.js';
import type { TransportKind } from './client-transport.js';
import { usableTransports } from './transport-choice.js';
import { checkClientOptionNames } from './option-names.js';
import type { WebSocketConstructor } from './websocket-like.js';

/**
 * The auth payload sent in `hello.auth` (or `connect.auth`). A function is called before
 * every connect and reconnect, so it can hand out a fresh token each time.
 */
export type AuthOption = unknown | (() => unknown);

export interface ReconnectOptions {
  /** Backoff window of the first retry, in ms (default 1000): a restarted server's clients come back spread over it. */
  delay?: number;
  /** Largest backoff window, in ms (default 5000): a client is back at most this long after its server or network is. */
  maxDelay?: number;
  /** Consecutive failed attempts before giving up with reason `reconnect_exhausted` (default Infinity). */
  maxAttempts?: number;
}

/** Default `reconnect.delay`. */
export const DEFAULT_BASE_MS = 1000;
/** Default `reconnect.maxDelay`. */
export const DEFAULT_CAP_MS = 5000;

export interface ClientOptions {
  /** Auth payload or a (possibly async) function returning it; see AuthOption. Default: none. */
  auth?: AuthOption;
  /** Namespace of the handle connect() returns, sent as `hello.ns` (default "/"). */
  namespace?: string;
  /** Reconnect with full-jitter exponential backoff (default true); `false` disables it. */
  reconnect?: boolean | ReconnectOptions;
  /** Default timeout of emitWithAck(), join() and leave(), in ms (default 10000). */
  ackTimeout?: number;
  /** How long an attempt may take from opening the socket to the welcome, in ms (default 20000). */
  connectTimeout?: number;
  /**
   * Caps on emits buffered per namespace (default 100 frames, 1 MiB): while not connected,
   * and while connected those held back to stay under the server's rate. Past them emit throws `buffer_full`.
   */
  bufferLimit?: Partial<BufferLimit>;
  /**
   * Caps on reliable publishes (client.reliable.emit) awaiting the server's acknowledgement,
   * over all namespaces of the client (default 100 publishes, 1 MiB). `count` is at most
   * 999: the server remembers the last 1000 sequence numbers (its default dedupe window).
   */
  outboxLimit?: Partial<OutboxLimit>;
  /** WebSocket implementation (default globalThis.WebSocket; the Node entry defaults to `ws`). */
  WebSocket?: WebSocketConstructor;
  /**
   * Transports to try, in order of preference (default all three: 'websocket', 'sse',
   * 'polling'). One that fails before the welcome on its own makes the next attempt use
   * the next; the one that delivered a welcome is tried first by later connections to the URL.
   */
  transports?: readonly TransportKind[];
  /** While on SSE or long-polling, probe WebSocket and move the session onto it once it works (default true). */
  upgrade?: boolean;
  /**
   * Network and wake signals: react to offline/online and to the page waking up. Default: the
   * browser's (window events and navigator.onLine), none in Node; `false` turns it off.
   * Only used while reconnecting is enabled.
   */
  network?: NetworkEnvironment | false;
}

/** Options of a namespace handle created with of(). */
export interface NamespaceOptions {
  /** Auth for this namespace's `connect` frame; omitted means the server reuses the hello's auth. */
  auth?: AuthOption;
}

export interface ResolvedReconnect {
  enabled: boolean;
  delay: number;
  maxDelay: number;
  maxAttempts: number;
}

export interface ResolvedOptions {
  url: string;
  namespace: string;
  auth: AuthOption;
  reconnect: ResolvedReconnect;
  ackTimeout: number;
  connectTimeout: number;
  bufferLimit: BufferLimit;
  outboxLimit: OutboxLimit;
  /** Undefined when none exists: the other transports are used. */
  WebSocket: WebSocketConstructor | undefined;
  /** The transports asked for that this environment has, in order of preference. */
  transports: TransportKind[];
  upgrade: boolean;
  network: NetworkEnvironment | undefined;
}

export function resolveOptions(url: string, options: ClientOptions): ResolvedOptions {
  checkClientOptionNames(options);
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const transports = usableTransports(options.transports, WebSocketImpl);
  const namespace = options.namespace ?? ROOT_NAMESPACE;
  assertNamespace(namespace);
  const reconnect = options.reconnect ?? true;
  const tuning = typeof reconnect === 'object' ? reconnect : {};
  const resolved: ResolvedOptions = {
    url,
    namespace,
    auth: options.auth,
    reconnect: {
      enabled: reconnect !== false,
      delay: tuning.delay ?? DEFAULT_BASE_MS,
      // Not 30 s: a phone whose network came back without an `online` event would stay away for up to the cap.
      maxDelay: tuning.maxDelay ?? DEFAULT_CAP_MS,
      maxAttempts: tuning.maxAttempts ?? Number.POSITIVE_INFINITY,
    },
    ackTimeout: options.ackTimeout ?? 10_000,
    connectTimeout: options.connectTimeout ?? 20_000,
    bufferLimit: { ...DEFAULT_BUFFER_LIMIT, ...options.bufferLimit },
    outboxLimit: { ...DEFAULT_OUTBOX_LIMIT, ...options.outboxLimit },
    WebSocket: WebSocketImpl,
    transports,
    upgrade: (options.upgrade ?? true) && transports.includes('websocket'),
    network: options.network === false ? undefined : (options.network ?? browserNetwork()),
  };
  const { reconnect: r, bufferLimit: b } = resolved;
  const checks: [string, number, boolean][] = [
    ['ackTimeout', resolved.ackTimeout, true],
    ['connectTimeout', resolved.connectTimeout, true],
    ['reconnect.delay', r.delay, false],
    ['reconnect.maxDelay', r.maxDelay, false],
    ['bufferLimit.count', b.count, true],
    ['bufferLimit.bytes', b.bytes, true],
    ['outboxLimit.count', resolved.outboxLimit.count, false],
    ['outboxLimit.bytes', resolved.outboxLimit.bytes, true],
  ];
  for (const [name, value, infinityAllowed] of checks) assertPositive(name, value, infinityAllowed);
  const { count } = resolved.outboxLimit;
  if (!Number.isInteger(count) || count > MAX_OUTBOX_COUNT) {
    throw new RangeError(
      `switchboard: outboxLimit.count must be an integer of at most ${MAX_OUTBOX_COUNT} (below the server's dedupe window of 1000 publishes), got ${count}`,
    );
  }
  if (!(r.maxAttempts >= 0)) throw new RangeError(`switchboard: reconnect.maxAttempts must be 0 or more, got ${r.maxAttempts}`);
  return resolved;
}

/** A bad timing option fails at connect(), not as a 1 ms timer or a NaN delay later. */
function assertPositive(name: string, value: number, infinityAllowed: boolean): void {
  const ok = typeof value === 'number' && value > 0 && (infinityAllowed || Number.isFinite(value));
  if (!ok) throw new RangeError(`switchboard: ${name} must be a positive number${infinityAllowed ? ' (Infinity: no limit)' : ''}, got ${value}`);
}

/** Namespaces are paths: "/" or "/admin". Checked early so a typo fails at the call, not in a server error frame. */
export function assertNamespace(ns: string): void {
  if (typeof ns !== 'string' || ns[0] !== '/' || ns.length > MAX_NAME_LENGTH) {
    throw new TypeError(`switchboard: namespace must be a string starting with "/" of at most ${MAX_NAME_LENGTH} characters, got ${JSON.stringify(ns)}`);
  }
}

/** Call the auth function, or return the value as is. */
export async function resolveAuth(auth: AuthOption): Promise<unknown> {
  return typeof auth === 'function' ? await (auth as () => unknown)() : auth;
}
