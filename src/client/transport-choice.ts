import { CloseCode } from '../protocol/close-codes.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload } from '../protocol/frames.js';
import type { CloseOutcome } from './close-outcome.js';
import { type ClientTransport, type HttpTransportOptions, TRANSPORT_KINDS, type TransportClosed, type TransportHandlers, type TransportKind } from './client-transport.js';
import type { FallbackTransports } from './fallback-loader.js';
import type { WebSocketConstructor } from './websocket-like.js';
import { WebSocketTransport } from './websocket-transport.js';

/**
 * The transport that last delivered a welcome, per server URL, for the page's lifetime:
 * later connections and reconnects try it first, so a page behind a proxy that breaks
 * WebSocket does not wait for a failed upgrade every time.
 */
const remembered = new Map<string, TransportKind>();

/** Forget every remembered transport (tests start from a clean page). */
export function forgetRememberedTransports(): void {
  remembered.clear();
}

export function rememberedTransport(url: string): TransportKind | undefined {
  return remembered.get(url);
}

/**
 * Which transport the next attempt uses. An attempt starts a round: the remembered
 * transport first, then the others in the order of preference. A failure that another
 * transport may not share (see isTransportFailure) moves to the next one at once, without
 * a backoff wait; the round ends when one gets a welcome, one fails for a reason the server
 * gave, or none is left.
 */
export class TransportChoice {
  private order: readonly TransportKind[];
  private step = 0;
  /** The outcome of the round's first failure, and how each later one failed. */
  private first: CloseOutcome | undefined;
  private others: string[] = [];

  constructor(
    private readonly url: string,
    private readonly kinds: readonly TransportKind[],
  ) {
    this.order = kinds;
  }

  /** Start a round; returns its first transport. */
  begin(): TransportKind {
    const preferred = remembered.get(this.url);
    this.order = preferred !== undefined && this.kinds.includes(preferred) ? [preferred, ...this.kinds.filter((k) => k !== preferred)] : this.kinds;
    this.step = 0;
    this.first = undefined;
    this.others = [];
    return this.current;
  }

  get current(): TransportKind {
    return this.order[this.step] as TransportKind;
  }

  /** A transport carried a welcome: try it first from now on. */
  succeeded(kind: TransportKind): void {
    remembered.set(this.url, kind);
  }

  /**
   * The current transport failed before the welcome in a way the next may not (`why` says
   * how). True when there is a next one to try now; false when the round is over, and
   * roundOutcome() says what to report.
   */
  fallBack(outcome: CloseOutcome, why: string): boolean {
    if (this.first === undefined) this.first = outcome;
    else this.others.push(`${this.current} (${why})`);
    if (this.step + 1 >= this.order.length) return false;
    this.step++;
    return true;
  }

  /** The fallback transports could not be loaded: the HTTP transports after the current one would fail the same way, so this round skips them. */
  skipHttpTransports(): void {
    this.order = [...this.order.slice(0, this.step + 1), ...this.order.slice(this.step + 1).filter((kind) => kind === 'websocket')];
  }

  /**
   * What to report for the round. A failure the server explained stands for itself; when
   * every transport failed on its own, the first (preferred) one's failure is reported and
   * its error names how the others failed.
   */
  roundOutcome(last: CloseOutcome, lastWasFallback: boolean): CloseOutcome {
    const first = this.first;
    if (!lastWasFallback || first === undefined || this.others.length === 0) return last;
    const error = first.connectError ?? first.details.error;
    if (!error) return first;
    const combined = new SwitchboardError(error.code, `${error.message}; tried ${this.others.join(', ')} too`, { cause: error });
    return { ...first, details: { ...first.details, error: combined }, connectError: combined };
  }
}

/**
 * Whether an attempt that ended before the welcome failed because of the transport (a
 * proxy refusing the upgrade, a reset, an HTTP error without the server's word) rather than
 * because the server refused: only the first is worth another transport.
 */
export function isTransportFailure(closed: TransportClosed, lastError: ErrorPayload | undefined): boolean {
  if (lastError !== undefined) return false;
  if (!closed.opened) return closed.refusal === undefined || closed.refusal.code === ErrorCode.TransportDisabled;
  return closed.code === CloseCode.Abnormal;
}

/** How a failed attempt failed, in a few words. */
export function failureText(closed: TransportClosed): string {
  if (closed.refusal) return `${closed.refusal.code}: ${closed.refusal.message}`;
  if (closed.errorMessage) return closed.errorMessage;
  return closed.opened ? `closed with code ${closed.code} before the welcome` : `could not open (code ${closed.code})`;
}

/**
 * Open a connection of `kind`. Throws when the URL cannot be used. SSE and long-polling come
 * from `fallback`, the lazily loaded fallback transports (see fallback-loader.ts): the caller
 * loads them first.
 */
export function openTransport(
  kind: TransportKind,
  client: { url: string; WebSocket: WebSocketConstructor | undefined; connectTimeout: number },
  handlers: TransportHandlers,
  maxBatchBytes: () => number | undefined,
  resumeToken?: () => string | undefined,
  fallback?: FallbackTransports,
): ClientTransport {
  if (kind === 'websocket') {
    if (!client.WebSocket) throw new TypeError('no WebSocket implementation');
    return new WebSocketTransport(client.WebSocket, client.url, handlers);
  }
  if (!fallback) throw new TypeError(`the ${kind} transport is not loaded`);
  const options: HttpTransportOptions = { maxBatchBytes, openTimeoutMs: Math.min(client.connectTimeout, HTTP_OPEN_TIMEOUT_MS) };
  if (resumeToken) options.resumeToken = resumeToken;
  return fallback.openHttpTransport(kind, client.url, handlers, options);
}

/**
 * The server answers an HTTP transport's opening request at once, so one that has not
 * opened after this is stuck: an event stream a proxy buffers, or a request the runtime
 * never fails (Node's fetch can hang on a connection closed as it is accepted). Past it
 * the next transport is tried, well before connectTimeout.
 */
const HTTP_OPEN_TIMEOUT_MS = 5000;

/**
 * The transports a client may use, in order: those asked for that this environment has
 * (WebSocket needs an implementation; SSE and polling need fetch and streams).
 */
export function usableTransports(asked: unknown, WebSocketImpl: WebSocketConstructor | undefined): TransportKind[] {
  const list = asked ?? TRANSPORT_KINDS;
  if (!Array.isArray(list) || list.length === 0 || list.some((kind) => !TRANSPORT_KINDS.includes(kind as TransportKind))) {
    throw new TypeError(`switchboard: transports must be a non-empty list of ${TRANSPORT_KINDS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(asked)}`);
  }
  const kinds = [...new Set(list as TransportKind[])];
  const hasHttp = typeof globalThis.fetch === 'function' && typeof AbortController === 'function' && typeof TextDecoder === 'function';
  const usable = kinds.filter((kind) => (kind === 'websocket' ? WebSocketImpl !== undefined : hasHttp));
  if (usable.length > 0) return usable;
  if (kinds.includes('websocket') && WebSocketImpl === undefined) {
    throw new TypeError(
      'switchboard: no WebSocket implementation found. Pass options.WebSocket, or in Node import the client from "switchboard/client" (its Node entry uses the ws package).',
    );
  }
  throw new TypeError('switchboard: the SSE and polling transports need fetch, AbortController and TextDecoder, which this environment lacks');
}
