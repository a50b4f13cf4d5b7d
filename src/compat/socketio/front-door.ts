import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Transport, TransportRequestInfo } from '../../transport/transport.js';
import type { EngineHost } from './engine-ports.js';
import { EngineServer } from './engine-server.js';
import type { ResolvedSocketIoOptions } from './options.js';
import { RecoveryLedger } from './recovery-ledger.js';
import { type GatewayHost, SocketGateway } from './socket-gateway.js';

/** What the Socket.IO front door needs of the server: the native transports' checks, and where sessions start. */
export interface FrontDoorHost extends Omit<EngineHost, 'settings' | 'connection' | 'messageTooBig'> {
  /** A message over `maxPayload` closed a connection; `transport` is `socket.io/polling` or `socket.io/websocket`, as sessions name it. */
  messageTooBig?(transport: string, info: TransportRequestInfo): void;
  /** Start a session on a transport, as every front door does. */
  start(transport: Transport, info: TransportRequestInfo): void;
  /** Milliseconds a lost session is kept for its client to come back (`resume.ttl`). */
  readonly resumeTtl: number;
  /** Serve socket.io-client's browser bundles under the path (the server's `serveClient`). */
  readonly serveClient: boolean;
}

/**
 * The Socket.IO front door: an Engine.IO v4 server whose connections each get a Socket.IO
 * gateway, which maps namespaces onto Switchboard sessions. Nothing else in the server
 * knows Socket.IO; the server only routes requests and upgrades under `path` here.
 */
export class SocketIoFrontDoor implements GatewayHost {
  private readonly engine: EngineServer;
  readonly ledger: RecoveryLedger;

  constructor(
    private readonly host: FrontDoorHost,
    private readonly options: ResolvedSocketIoOptions,
  ) {
    // An entry outlives the session it is for by the time a dead link takes to be noticed.
    this.ledger = new RecoveryLedger(host.resumeTtl + 2 * (options.pingInterval + options.pingTimeout));
    const engineHost: EngineHost = {
      settings: options,
      admission: host.admission,
      closing: () => host.closing(),
      clientAddress: (req) => host.clientAddress(req),
      originAllowed: (origin, req, address) => host.originAllowed(origin, req, address),
      originRefusal: (origin) => host.originRefusal(origin),
      connection: (connection) => void new SocketGateway(connection, this),
      reportError: (err, context) => host.reportError(err, context),
      connectionError: (error) => host.connectionError(error),
      messageTooBig: (transport, info) => host.messageTooBig?.(`socket.io/${transport}`, info),
      cluster: host.cluster,
    };
    this.engine = new EngineServer(engineHost, { serveClient: host.serveClient });
  }

  get recovery(): boolean {
    return this.options.recovery;
  }

  get maxAttachments(): number {
    return this.options.maxAttachments;
  }

  /** Engine.IO connections open on this node. */
  get size(): number {
    return this.engine.size;
  }

  start(transport: Transport, info: TransportRequestInfo): void {
    this.host.start(transport, info);
  }

  /** Answer `req` if it is under the path; false (and `res` untouched) otherwise. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    return this.engine.handleRequest(req, res);
  }

  /** Take an upgrade under the path; false when it is not one. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.engine.handleUpgrade(req, socket, head);
  }

  /** A polling request another node forwarded here; undefined when it is not the front door's. */
  answerForwarded(request: unknown): Promise<unknown> | undefined {
    return this.engine.answerForwarded(request);
  }

  /** Shutdown: every connection is closed, so its client reconnects (to another node). */
  close(): void {
    this.engine.close();
  }
}
