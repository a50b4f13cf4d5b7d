import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode } from '../protocol/close-codes.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { rejectUpgrade } from '../transport/http-reject.js';
import type { Transport, TransportRequestInfo } from '../transport/transport.js';
import { WebSocketEndpoint } from '../transport/websocket.js';
import type { Admission } from './admission.js';
import { type ConnectionError, refuseFull, UpgradeRefusals, withOrigin } from './connection-refusals.js';
import type { ResolvedOptions } from './options.js';

/** What the gate needs of the server. */
export interface UpgradeGateHost {
  readonly options: ResolvedOptions;
  readonly httpServer: HttpServer;
  readonly admission: Admission;
  closing(): boolean;
  /** The client's IP of a request (`trustProxy`). */
  clientAddress(req: IncomingMessage): string;
  /** Whether a page from `origin` may connect (`allowedOrigins`), and why not. */
  originAllowed(origin: string, req: IncomingMessage, address: string): boolean;
  originRefusal(origin: string): string;
  /** A WebSocket that passed every check: its session starts. */
  start(transport: Transport, info: TransportRequestInfo): void;
  /** The server's `connection_error` event. */
  report(error: ConnectionError): void;
  /** A connection that passed sent a message over `maxMessageBytes` (closed with 1009): for the server's count of refusals. */
  tooBig(transport: Transport, info: TransportRequestInfo): void;
}

/**
 * Every WebSocket upgrade passes here first, in the order that costs least: the path, the
 * transport being offered, the server not closing, the page's origin, the per-IP limits,
 * and — once upgraded — room under `maxConnections`. A refusal is answered so the client
 * can read why, and reported to `connection_error`.
 */
export class UpgradeGate {
  private readonly refusals: UpgradeRefusals;
  /** Connections upgraded only to be told `server_full` or `origin_not_allowed`, until their socket closes: they do not count against maxConnections. */
  private readonly uncounted = new Set<Transport>();

  /** Where upgrades that pass become WebSocket transports. */
  readonly endpoint: WebSocketEndpoint;

  constructor(private readonly host: UpgradeGateHost) {
    this.endpoint = new WebSocketEndpoint({
      maxMessageBytes: host.options.maxMessageBytes,
      perMessageDeflate: host.options.perMessageDeflate,
      // Upgraded: a connection counts until its socket closes, whatever becomes of its session.
      onClosed: (transport, info) => host.admission.closed(info.remoteAddress, this.closed(transport)),
      onTooBig: (transport, info) => host.tooBig(transport, info),
    });
    const endpoint = this.endpoint;
    this.refusals = new UpgradeRefusals({
      upgrade: (...args) => endpoint.upgrade(...args),
      connectionsFrom: (address) => host.admission.connectionsFrom(address),
      maxConnectionsPerIp: host.options.maxConnectionsPerIp,
      openUncounted: (transport, address) => {
        host.admission.open(address, false);
        this.uncounted.add(transport);
      },
      report: (error) => host.report(error),
    });
  }

  /** An upgraded connection's socket closed: whether it counted against maxConnections. */
  closed(transport: Transport): boolean {
    return !this.uncounted.delete(transport);
  }

  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const { host } = this;
    const { options } = host;
    const pathname = (req.url ?? '/').split('?', 1)[0];
    if (pathname !== options.path) {
      // Another upgrade listener (the app's own WebSocket server) may own this path.
      if (host.httpServer.listenerCount('upgrade') > 1) return;
      rejectUpgrade(socket, 404, 'Not Found', `No WebSocket endpoint at ${pathname}; Switchboard listens on ${options.path}.`);
      return;
    }
    if (!options.transports.includes('websocket')) {
      const message = `this server does not offer WebSocket (option transports: ${options.transports.join(', ')})`;
      this.refusals.reject(socket, req, host.clientAddress(req), { status: 403, statusText: 'Forbidden', code: ErrorCode.TransportDisabled, message });
      return;
    }
    if (host.closing()) {
      rejectUpgrade(socket, 503, 'Service Unavailable', 'Switchboard is shutting down; reconnect to another server.');
      return;
    }
    const address = host.clientAddress(req);
    const origin = req.headers.origin;
    if (origin !== undefined && !host.originAllowed(origin, req, address)) {
      this.refusals.refuseOrigin(req, socket, head, address, origin, host.originRefusal(origin));
      return;
    }
    const refused = host.admission.check(address);
    if (refused) {
      this.refusals.reject(socket, req, address, refused);
      return;
    }
    this.endpoint.upgrade(req, socket, head, address, (transport, info) => {
      const accepted = !host.admission.isFull();
      host.admission.open(info.remoteAddress, accepted);
      if (!accepted) {
        this.uncounted.add(transport);
        refuseFull(transport, options.maxConnections);
        const message = 'the server holds its maximum of connections (option maxConnections)';
        host.report(withOrigin({ code: ErrorCode.ServerFull, message, transport: 'websocket', address, closeCode: CloseCode.TryAgainLater }, req));
        return;
      }
      host.start(transport, info);
    });
  };
}
