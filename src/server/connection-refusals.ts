import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode } from '../protocol/close-codes.js';
import { encodeFrame } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { rejectUpgrade } from '../transport/http-reject.js';
import type { Transport, TransportRequestInfo } from '../transport/transport.js';
import type { TransportName } from './options.js';

/**
 * A connection refused before any session existed: what the server's `connection_error`
 * event reports. Nothing of the request's credentials is in it — no header other than
 * the Origin, no URL (a token may ride in its query), no auth payload.
 */
export interface ConnectionError {
  /** The error code of docs/ERRORS.md: `origin_not_allowed`, `rate_limited`, `too_many_connections`, `server_full`, `transport_disabled`. */
  code: ErrorCode;
  /** What was wrong and what to change, as the client was told. */
  message: string;
  /** The transport the client tried. */
  transport: TransportName;
  /** The client's IP (after `trustProxy`). */
  address: string;
  /** The page's `Origin` header, when the request had one. */
  origin?: string;
  /** The HTTP status of the refusal; absent for a WebSocket upgraded only to be closed (see `closeCode`). */
  status?: number;
  /** The WebSocket close code, for a WebSocket upgraded only to be closed with it (1008 for an origin, 1013 for `server_full`). */
  closeCode?: number;
}

/** The close reason a refused page's WebSocket gets: the code first, then the remedy, within the 123 bytes a reason may have. */
export const ORIGIN_CLOSE_REASON = `${ErrorCode.OriginNotAllowed}: add this page's origin to the server's allowedOrigins option`;

/** Milliseconds a refused peer gets to answer the close before it is dropped. */
const CLOSE_GRACE_MS = 1000;

/** What refusing upgrades needs of the server. */
export interface UpgradeRefusalsHost {
  /** Completes a WebSocket upgrade (WebSocketEndpoint.upgrade). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, address: string, accept: (transport: Transport, info: TransportRequestInfo) => void): void;
  /** Connections open from an IP, and the most it may hold (`maxConnectionsPerIp`). */
  connectionsFrom(address: string): number;
  readonly maxConnectionsPerIp: number;
  /** Count an upgraded connection for its IP only, not against maxConnections, until its socket closes. */
  openUncounted(transport: Transport, address: string): void;
  /** The server's `connection_error` event. */
  report(error: ConnectionError): void;
}

/**
 * Refusals of WebSocket upgrades that the client can read and the app can log. Most are
 * HTTP answers before any WebSocket exists; a refused origin is the exception, because a
 * browser hides the status of a refused upgrade from the page (it sees only 1006).
 */
export class UpgradeRefusals {
  constructor(private readonly host: UpgradeRefusalsHost) {}

  /** Answer the upgrade with an HTTP error whose body starts with the code, and report it. */
  reject(socket: Duplex, req: IncomingMessage, address: string, refusal: { status: number; statusText: string; code: ErrorCode; message: string; headers?: Record<string, string> }): void {
    rejectUpgrade(socket, refusal.status, refusal.statusText, `${refusal.code}: ${refusal.message}`, refusal.headers);
    this.host.report(withOrigin({ code: refusal.code, message: refusal.message, transport: 'websocket', address, status: refusal.status }, req));
  }

  /**
   * A page on a refused origin: complete the upgrade only to close it at once with 1008
   * and `origin_not_allowed: …` as the reason, which the page can read. Safe against
   * cross-site WebSocket hijacking: no session exists and none is made, no frame is sent
   * before the close, and frames the peer sends meanwhile are dropped unread (no session
   * to hand them to). The per-IP limit still applies, so refused upgrades cannot pile up.
   */
  refuseOrigin(req: IncomingMessage, socket: Duplex, head: Buffer, address: string, origin: string, message: string): void {
    const { host } = this;
    if (host.connectionsFrom(address) >= host.maxConnectionsPerIp) {
      this.reject(socket, req, address, {
        status: 429,
        statusText: 'Too Many Requests',
        code: ErrorCode.TooManyConnections,
        message: `${address} already holds its most connections (option maxConnectionsPerIp); close one first`,
        headers: { 'Retry-After': '10' },
      });
      return;
    }
    host.upgrade(req, socket, head, address, (transport) => {
      host.openUncounted(transport, address);
      closeAtOnce(transport, CloseCode.PolicyViolation, ORIGIN_CLOSE_REASON);
      host.report({ code: ErrorCode.OriginNotAllowed, message, transport: 'websocket', address, origin, closeCode: CloseCode.PolicyViolation });
    });
  }
}

/**
 * Close a connection nobody will use, reading nothing from it; drop it if the peer does not
 * answer the close. `lastFrame`, when given, is the one frame sent before the close.
 */
export function closeAtOnce(transport: Transport, code: number, reason: string, lastFrame?: string): void {
  const timer = setTimeout(() => transport.terminate(), CLOSE_GRACE_MS);
  transport.attach({ onFrame: () => {}, onPong: () => {}, onClose: () => clearTimeout(timer) });
  if (lastFrame !== undefined) transport.send(lastFrame);
  transport.close(code, reason);
}

/**
 * Over `maxConnections`: the WebSocket is opened only to say so in a way every client can
 * read (a browser sees no HTTP status), then closed with 1013 so the client retries after
 * a backoff.
 */
export function refuseFull(transport: Transport, maxConnections: number): void {
  const message = `the server holds its maximum of ${maxConnections} connections (option maxConnections); try again later`;
  closeAtOnce(transport, CloseCode.TryAgainLater, ErrorCode.ServerFull, encodeFrame({ type: 'error', code: ErrorCode.ServerFull, message }));
}

/** The error with the request's Origin, when it had one. */
export function withOrigin(error: ConnectionError, req: IncomingMessage): ConnectionError {
  const origin = req.headers.origin;
  return origin === undefined ? error : { ...error, origin };
}
