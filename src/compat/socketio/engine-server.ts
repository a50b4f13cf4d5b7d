/**
 * The Engine.IO v4 server of the Socket.IO front door: handshakes, long-polling,
 * WebSocket, upgrades, heartbeats and close, behind the same checks as the native
 * transports (origin, admission, shutdown) and with engine.io's answers. Each connection
 * that completes its handshake goes to `EngineHost.connection()`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../../protocol/error-codes.js';
import { withOrigin } from '../../server/connection-refusals.js';
import { Cors } from '../../server/cors.js';
import type { AnswerTarget } from '../../transport/http-answer.js';
import { RequestInfoRecorder } from '../../transport/request-info.js';
import { WebSocketEndpoint, type WebSocketTransport } from '../../transport/websocket.js';
import { SocketIoClientBundle } from './engine-client-bundle.js';
import { EngineSocket, type EngineSocketHost } from './engine-connection.js';
import { answerEngineError, engineRefusal, EngineErrorCode, rejectEngineUpgrade, type EngineRefusal } from './engine-errors.js';
import { GLOBAL_TIMERS, type EngineTimers } from './engine-heartbeat.js';
import { answerPoll, readPostBody } from './engine-polling.js';
import type { EngineHost, EngineTransportName } from './engine-ports.js';
import { EngineRelay, isForwardedEngineRequest, type SidRequest } from './engine-relay.js';

/** Random bytes of a sid after the node id: 15, so 20 base64url characters, like engine.io's ids and as unguessable. */
const SID_BYTES = 15;
const METHODS = ['GET', 'POST'] as const;

export interface EngineServerOptions {
  /** Timers for heartbeats and upgrades (tests pass a clock). Default: the global timers. */
  timers?: EngineTimers;
  /** Serve socket.io-client's browser bundles under the path. Default true, as socket.io's `serveClient`. */
  serveClient?: boolean;
}

/** The parts of the query that matter, read once. */
interface EngineQuery {
  eio: string | null;
  transport: string | null;
  sid: string | null;
}

export class EngineServer {
  private readonly sockets = new Map<string, EngineSocket>();
  private openCount = 0;
  private closed = false;
  private readonly endpoint: WebSocketEndpoint;
  private readonly cors: Cors;
  private readonly requests = new RequestInfoRecorder();
  private readonly relay: EngineRelay;
  private readonly bundle: SocketIoClientBundle | undefined;
  private readonly timers: EngineTimers;

  constructor(
    private readonly host: EngineHost,
    options: EngineServerOptions = {},
  ) {
    const { settings } = host;
    this.timers = options.timers ?? GLOBAL_TIMERS;
    // A separate endpoint: its own message limit (maxPayload); socket.io-client offers no subprotocol.
    this.endpoint = new WebSocketEndpoint({
      maxMessageBytes: settings.maxPayload,
      perMessageDeflate: false,
      onTooBig: (_transport, info) => host.messageTooBig?.('websocket', info),
    });
    // Refusals are readable, as on the native HTTP transports: a refused page gets its 403 and nothing else.
    this.cors = new Cors({ allowsAny: false, allows: (origin, req) => host.originAllowed(origin, req), refusal: (origin) => host.originRefusal(origin) }, true);
    this.relay = new EngineRelay({
      cluster: host.cluster,
      longestPoll: settings.pingInterval + settings.pingTimeout,
      maxPayload: settings.maxPayload,
      serve: (request, res) => this.serve(request, res),
      lost: (sid) => this.sockets.get(sid)?.pollLost(),
    });
    if (options.serveClient !== false) {
      const bundleCors = new Cors({ allowsAny: false, allows: (origin, req) => host.originAllowed(origin, req), refusal: (origin) => host.originRefusal(origin) });
      this.bundle = new SocketIoClientBundle({ path: settings.path, cors: bundleCors });
    }
  }

  /** Open connections (those whose close packet still waits for a poll not counted). */
  get size(): number {
    return this.openCount;
  }

  /** Answer `req` if it is under the path; false (and `res` untouched) otherwise. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    const { path } = this.host.settings;
    if (!url.startsWith(path)) return false;
    if (this.bundle?.handle(req, res)) return true;
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    const origin = req.headers.origin;
    const allowed = origin === undefined || this.host.originAllowed(origin, req);
    if (this.cors.handle(req, res, METHODS, allowed)) return true;
    if (!allowed) {
      this.refuse(req, res, 'polling', engineRefusal(EngineErrorCode.Forbidden, { code: ErrorCode.OriginNotAllowed, message: this.host.originRefusal(origin as string) }));
      return true;
    }
    if (pathname !== path) {
      answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest, { code: ErrorCode.BadRequest, message: `nothing is served at ${pathname}; the Engine.IO endpoint is ${path}` }, 404));
      return true;
    }
    const query = readQuery(queryAt === -1 ? '' : url.slice(queryAt + 1));
    const transport = this.transportRefusal(query.transport);
    if (transport) {
      this.refuse(req, res, 'polling', transport);
      return true;
    }
    if (query.sid !== null) {
      if (req.method !== 'GET' && req.method !== 'POST') {
        answerEngineError(res, { ...engineRefusal(EngineErrorCode.BadHandshakeMethod), headers: { Allow: 'GET, POST, OPTIONS' } });
        return true;
      }
      const request: SidRequest = { sid: query.sid, eio: query.eio, transport: query.transport as string, method: req.method };
      const node = this.relay.otherNode(query.sid);
      if (node !== undefined) this.settle(this.relay.relay(node, request, req, res), res);
      else if (request.method === 'GET') this.serve(request, res);
      else this.settle(this.post(request, req, res), res);
      return true;
    }
    if (req.method !== 'GET') {
      answerEngineError(res, engineRefusal(EngineErrorCode.BadHandshakeMethod));
      return true;
    }
    if (query.transport === 'websocket') {
      // A WebSocket handshake must be an upgrade (engine.io: TRANSPORT_HANDSHAKE_ERROR).
      answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest));
      return true;
    }
    const refusal = this.openingRefusal(query, req);
    if (refusal) this.refuse(req, res, 'polling', refusal.refusal, refusal.address);
    else this.openPolling(req, res);
    return true;
  }

  /** Take an upgrade under the path; false when it is not for this path (another listener may own it). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    if ((queryAt === -1 ? url : url.slice(0, queryAt)) !== this.host.settings.path) return false;
    const origin = req.headers.origin;
    if (origin !== undefined && !this.host.originAllowed(origin, req)) {
      this.refuseUpgrade(req, socket, engineRefusal(EngineErrorCode.Forbidden, { code: ErrorCode.OriginNotAllowed, message: this.host.originRefusal(origin) }));
      return true;
    }
    const query = readQuery(queryAt === -1 ? '' : url.slice(queryAt + 1));
    const transport = this.transportRefusal(query.transport);
    if (transport) {
      this.refuseUpgrade(req, socket, transport);
      return true;
    }
    if (query.transport !== 'websocket') {
      // Polling does not take upgraded requests.
      rejectEngineUpgrade(socket, engineRefusal(EngineErrorCode.BadRequest));
      return true;
    }
    if (query.sid !== null) {
      this.upgradeExisting(query, req, socket, head);
      return true;
    }
    const refusal = this.openingRefusal(query, req);
    if (refusal) {
      this.refuseUpgrade(req, socket, refusal.refusal, refusal.address);
      return true;
    }
    const address = this.host.clientAddress(req);
    this.endpoint.upgrade(req, socket, head, address, (ws, info) => {
      if (this.closed) {
        ws.close(1001, 'server shutting down');
        return;
      }
      this.host.admission.open(address, true);
      const engine = this.add(new EngineSocket(this.newSid(), info, ws as WebSocketTransport, this.socketHost(address)));
      (ws as WebSocketTransport).send(this.openPacket(engine, []));
      this.host.connection(engine);
    });
    return true;
  }

  /** A request another node forwarded here; undefined when it is not an Engine.IO request. */
  answerForwarded(request: unknown): Promise<unknown> | undefined {
    return isForwardedEngineRequest(request) ? this.relay.answer(request) : undefined;
  }

  /** Shutdown: every connection gets a close packet and closes; no new ones are taken. */
  close(): void {
    this.closed = true;
    for (const socket of [...this.sockets.values()]) socket.shutdown();
    this.relay.close();
    this.endpoint.close();
  }

  private upgradeExisting(query: EngineQuery, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const engine = this.sockets.get(query.sid as string);
    if (engine === undefined || !engine.isOpen) {
      rejectEngineUpgrade(socket, engineRefusal(EngineErrorCode.UnknownSid));
      return;
    }
    if (query.eio !== '4') {
      rejectEngineUpgrade(socket, engineRefusal(EngineErrorCode.UnsupportedProtocolVersion));
      return;
    }
    if (!engine.upgradable) {
      // Upgraded already, or upgrading: engine.io closes such a WebSocket.
      rejectEngineUpgrade(socket, engineRefusal(EngineErrorCode.BadRequest));
      return;
    }
    this.endpoint.upgrade(req, socket, head, engine.info.remoteAddress, (ws) => {
      if (!engine.beginUpgrade(ws as WebSocketTransport)) ws.close(1000, '');
    });
  }

  /** A polling request for an existing connection of this node (arrived here, or relayed). */
  private serve(request: SidRequest, res: AnswerTarget): void {
    const engine = this.sockets.get(request.sid);
    if (engine === undefined) {
      answerEngineError(res, engineRefusal(EngineErrorCode.UnknownSid));
      return;
    }
    if (request.eio !== '4') {
      answerEngineError(res, engineRefusal(EngineErrorCode.UnsupportedProtocolVersion));
      return;
    }
    if (engine.transport !== 'polling' || request.transport !== 'polling') {
      // engine.io: TRANSPORT_MISMATCH — this connection is carried by WebSocket now.
      answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest));
      return;
    }
    if (request.method === 'GET') engine.pollRequest(res);
    else if (!engine.startReceiving()) this.overlappingPost(engine, res);
    else engine.postRequest(request.body ?? { kind: 'aborted' }, res);
  }

  /** A POST that arrived here: checked, then read, then handed to its connection. */
  private async post(request: SidRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const engine = this.sockets.get(request.sid);
    if (engine === undefined || request.eio !== '4' || engine.transport !== 'polling' || request.transport !== 'polling') {
      this.serve(request, res);
      return;
    }
    if (!engine.startReceiving()) {
      this.overlappingPost(engine, res);
      return;
    }
    engine.postRequest(await readPostBody(req, this.host.settings.maxPayload), res);
  }

  /** engine.io: "data request overlap from client" — a transport error. */
  private overlappingPost(engine: EngineSocket, res: AnswerTarget): void {
    answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest, { code: ErrorCode.BadRequest, message: 'a POST is pending on this connection already; POSTs must not overlap' }));
    engine.pollLost();
  }

  private openPolling(req: IncomingMessage, res: ServerResponse): void {
    const address = this.host.clientAddress(req);
    this.host.admission.open(address, true);
    const info = this.requests.record(req.url ?? '/', req.headers, address);
    const engine = this.add(new EngineSocket(this.newSid(), info, undefined, this.socketHost(address)));
    const { transports } = this.host.settings;
    answerPoll(res, this.openPacket(engine, transports.includes('websocket') ? ['websocket'] : []));
    this.host.connection(engine);
  }

  /** Why an opening request (no sid) is refused, in the order of the native transports' checks; undefined when it may open. */
  private openingRefusal(query: EngineQuery, req: IncomingMessage): { refusal: EngineRefusal; address?: string } | undefined {
    if (query.eio !== '4') return { refusal: engineRefusal(EngineErrorCode.UnsupportedProtocolVersion) };
    if (this.closed || this.host.closing()) {
      return { refusal: engineRefusal(EngineErrorCode.Forbidden, { code: ErrorCode.ShuttingDown, message: 'Switchboard is shutting down; reconnect to another server.' }, 503) };
    }
    const address = this.host.clientAddress(req);
    const refused = this.host.admission.check(address);
    if (refused) return { refusal: { ...engineRefusal(EngineErrorCode.Forbidden, { code: refused.code, message: refused.message }, refused.status), headers: refused.headers }, address };
    if (this.host.admission.isFull()) {
      const message = 'the server holds its maximum of connections (option maxConnections); try again later';
      return { refusal: engineRefusal(EngineErrorCode.Forbidden, { code: ErrorCode.ServerFull, message }, 503), address };
    }
    return undefined;
  }

  /** Code 0 for a transport engine.io does not know, or one this server does not offer. */
  private transportRefusal(transport: string | null): EngineRefusal | undefined {
    if (transport !== 'polling' && transport !== 'websocket') return engineRefusal(EngineErrorCode.UnknownTransport);
    const { transports } = this.host.settings;
    if (transports.includes(transport)) return undefined;
    const message = `this server does not offer ${transport} (option socketIo.transports: ${transports.join(', ')})`;
    return engineRefusal(EngineErrorCode.UnknownTransport, { code: ErrorCode.TransportDisabled, message });
  }

  /** Answer a refusal, and report it to `connection_error` when Switchboard has a reason of its own. */
  private refuse(req: IncomingMessage, res: ServerResponse, transport: EngineTransportName, refusal: EngineRefusal, address?: string): void {
    answerEngineError(res, refusal);
    this.report(req, transport, refusal, address);
  }

  private refuseUpgrade(req: IncomingMessage, socket: Duplex, refusal: EngineRefusal, address?: string): void {
    rejectEngineUpgrade(socket, refusal);
    this.report(req, 'websocket', refusal, address);
  }

  private report(req: IncomingMessage, transport: EngineTransportName, refusal: EngineRefusal, address?: string): void {
    const { context } = refusal;
    if (context === undefined || context.code === ErrorCode.ShuttingDown) return;
    const error = { code: context.code, message: context.message, transport, address: address ?? this.host.clientAddress(req), status: refusal.status };
    this.host.connectionError(withOrigin(error, req));
  }

  /** A bug while handling a request is reported, and the request answered, never left hanging. */
  private settle(handling: Promise<void>, res: ServerResponse): void {
    handling.catch((err: unknown) => {
      this.host.reportError(err, { phase: 'engine.io request' });
      answerEngineError(res, { status: 500, code: EngineErrorCode.BadRequest });
    });
  }

  private add(engine: EngineSocket): EngineSocket {
    this.sockets.set(engine.id, engine);
    this.openCount++;
    return engine;
  }

  private socketHost(address: string): EngineSocketHost {
    let counted = true;
    return {
      settings: this.host.settings,
      timers: this.timers,
      reportError: (err, context) => this.host.reportError(err, context),
      tooBig: (engine) => this.host.messageTooBig?.('polling', engine.info),
      closed: () => {
        this.openCount--;
      },
      ended: (engine) => {
        if (this.sockets.get(engine.id) === engine) this.sockets.delete(engine.id);
        if (counted) this.host.admission.closed(address, true);
        counted = false;
      },
    };
  }

  private openPacket(engine: EngineSocket, upgrades: string[]): string {
    const { pingInterval, pingTimeout, maxPayload } = this.host.settings;
    return `0${JSON.stringify({ sid: engine.id, upgrades, pingInterval, pingTimeout, maxPayload })}`;
  }

  /** `<node>.<random>`: the node part routes a request that reached another node (see engine-relay.ts). */
  private newSid(): string {
    return `${this.host.cluster.nodeId}.${randomBytes(SID_BYTES).toString('base64url')}`;
  }
}

function readQuery(search: string): EngineQuery {
  const params = new URLSearchParams(search);
  return { eio: params.get('EIO'), transport: params.get('transport'), sid: params.get('sid') };
}
