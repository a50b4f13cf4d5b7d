import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { assertEmittable } from '../protocol/event-names.js';
import type { AnyEvents, EventData, EventMap, EventNames } from '../protocol/event-map.js';
import type { ClusterAdapter } from '../cluster/adapter.js';
import { MemoryAdapter } from '../cluster/memory-adapter.js';
import type { RoomMatcher } from '../delivery/durable-rooms.js';
import { RoomSequencer } from '../delivery/room-sequencer.js';
import type { HistoryLimits } from '../delivery/stream-store.js';
import type { HistoryReply, PresenceMember, StreamPosition } from '../protocol/frames.js';
import type { PresenceRule } from './room-presence.js';
import { Admission } from './admission.js';
import { checkServerArgument, whenListening } from './attached-server.js';
import type { BroadcastOperator, DeliveryStreams, SocketInfo } from './broadcast.js';
import type { ClusterLink } from './cluster-link.js';
import { clientAddressResolver, type AddressedRequest } from './client-address.js';
import { CLIENT_PATH, ClientBundle } from './client-bundle.js';
import type { ConnectionError } from './connection-refusals.js';
import { Cors } from './cors.js';
import { openNodeParts } from './node-parts.js';
import { ResumeLog } from './resume-log.js';
import { HeartbeatSweeper } from './heartbeat.js';
import type { HttpTransports } from './http-transports.js';
import type { Middleware } from './middleware.js';
import { Namespace, type NamespaceHost } from './namespace.js';
import { resolveOptions, type ResolvedOptions, type SwitchboardOptions } from './options.js';
import { OriginPolicy } from './origins.js';
import { createOwnServer } from './own-server.js';
import { PlainRequests } from './plain-requests.js';
import type { SessionRegistry } from './session-registry.js';
import { UpgradeGate } from './upgrade-gate.js';
import type { Socket } from './socket.js';
import type { SocketIoFrontDoor } from '../compat/socketio/front-door.js';
import { openFrontDoors } from './front-doors.js';
import { HttpRoutes, type RouteHandler } from './http-routes.js';
import type { CheckedSchemas, EventSchemas, ValidatedEvents } from './validation.js';
import type { ServerStats, StatsOptions } from './server-stats.js';
import { FrameTracer } from './frame-trace.js';
import { ServerCounters } from './server-counters.js';
import { ServerLog } from './server-log.js';
import { collectStats } from './stats-collector.js';

export interface CloseOptions {
  /** Milliseconds in-flight request handlers get to reply before connections close. Default 5000. */
  deadline?: number;
}

/** Milliseconds peers get to answer the closing handshake before they are dropped. */
const CLOSE_GRACE_MS = 1000;

/**
 * The server: attaches to an HTTP server (or creates one on a port), accepts WebSocket
 * upgrades on its path and hands clients to namespaces. Methods for the root namespace
 * ("/") are available on the server itself, as in Socket.IO.
 *
 * Events: `error` (err, context) for failures in app handlers; without a listener they go
 * to the `logger`, else stderr. `connection_error` (ConnectionError) for clients refused before
 * a session existed (origin, limits, disabled transport), for the app's log.
 */
export class Switchboard<CE extends EventMap = AnyEvents, SE extends EventMap = AnyEvents, SD = Record<string, unknown>> extends EventEmitter {
  /** @internal The options with their defaults, for the parts of the server. */
  readonly options: ResolvedOptions;
  readonly httpServer: HttpServer;
  private readonly ownsHttpServer: boolean;
  private readonly namespaces = new Map<string, Namespace<CE, SE, SD>>();
  /** This node's sessions, and what they and the namespaces need of the server: private, none of it is API. */
  private readonly sessions: SessionRegistry;
  private readonly namespaceHost: NamespaceHost;
  private readonly heartbeat: HeartbeatSweeper;
  /** @internal Streams of durable rooms, and the per-stream ordering of publications and joins. */
  readonly streams: DeliveryStreams;
  /** The other nodes: broadcasts, durable streams, presence and queries across them (`adapter`). */
  readonly cluster: ClusterAdapter;
  private listening: Promise<void>;
  private closePromise: Promise<void> | undefined;
  private readonly clientBundle: ClientBundle | undefined;
  /** Plain HTTP requests: routes, the client bundle, the HTTP transports, the Socket.IO front door. */
  private readonly plain: PlainRequests;
  /** Which pages may connect (`allowedOrigins`), for upgrades and CORS. */
  private readonly origins: OriginPolicy;
  /** The client's IP of a request (`trustProxy`). */
  private readonly clientAddress: (req: AddressedRequest) => string;
  /** Connection counts and handshake rates per IP, and the global connection count. */
  private readonly admission: Admission;
  /** Long-polling and Server-Sent Events under the WebSocket path. */
  private readonly httpTransports: HttpTransports;
  /** Plain HTTP paths the app mounted (`route`). */
  private readonly routes = new HttpRoutes((err, context) => this.reportError(err, context));
  /** Where every WebSocket upgrade is checked (path, transport, origin, limits) and refused readably. */
  private readonly gate: UpgradeGate;
  /** The Socket.IO front door (option `socketIo`); undefined when it is off. */
  private readonly socketIo: SocketIoFrontDoor | undefined;
  /** The server's `upgrade` listener: the front door's path first, then the native gate. */
  private readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** What this node does for the other nodes: their broadcasts, queries, server events and presence changes. */
  private readonly clusterLink: ClusterLink;
  /** The `logger` option (quiet without one). */
  private readonly log: ServerLog;
  /** What this node has done, counted where it happens (stats()). */
  private readonly counters: ServerCounters;

  /**
   * Attach to `server` (http or https), or listen on `port` (0 picks a free one), or on
   * PORT / 3000; with the `tls` option the server it creates is https (and wss).
   */
  constructor(server?: HttpServer | number, options: SwitchboardOptions = {}) {
    super();
    checkServerArgument(server);
    this.options = resolveOptions(options);
    this.log = new ServerLog(options.logger);
    this.counters = new ServerCounters(this.log);
    const tracer = FrameTracer.fromOptions(options.traceFrames, process.env.DEBUG, this.log);
    this.origins = new OriginPolicy(this.options.allowedOrigins);
    this.clientAddress = clientAddressResolver(this.options.trustProxy);
    if (options.adapter && options.streams) throw new TypeError('Switchboard options adapter and streams exclude each other: the adapter brings its stream store');
    this.cluster = options.adapter ?? new MemoryAdapter(options.streams);
    this.admission = new Admission(this.options);
    const cors = new Cors({ allowsAny: this.origins.allowsAny, allows: (origin, req) => this.originAllowed(origin, req), refusal: (origin) => this.origins.refusal(origin) });
    const bundleWarning = (message: string): void => (this.log.active ? this.log.warn({ reason: message }, 'client bundle cannot be served') : console.error(`[switchboard] ${message}`));
    this.clientBundle = this.options.serveClient ? new ClientBundle({ warn: bundleWarning, cors }) : undefined;
    const { httpTransports, socketIo } = openFrontDoors({
      options: this.options,
      admission: this.admission,
      closing: () => this.closing,
      clientAddress: this.clientAddress,
      originAllowed: (origin, req, address) => this.originAllowed(origin, req, address),
      originRefusal: (origin) => this.origins.refusal(origin),
      start: (transport, info) => this.sessions.start(transport, info),
      endSessionByToken: (token, code, reason) => this.sessions.endByToken(token, code, reason),
      reportError: (err, context) => this.reportError(err, context),
      connectionError: (error, countedAs) => this.connectionError(error, countedAs),
      messageTooBig: (transport, info) => this.counters.refusedIn({ transportKind: transport, requestInfo: info }, ErrorCode.MessageTooBig),
      cluster: this.cluster,
    });
    this.httpTransports = httpTransports;
    this.socketIo = socketIo;
    this.plain = new PlainRequests({ options: this.options, routes: this.routes, clientBundle: this.clientBundle, httpTransports, socketIo });
    if (server === undefined || typeof server === 'number') {
      const own = createOwnServer(server ?? Number(process.env.PORT ?? 3000), this.options.tls, (req, res) => this.plain.answer(req, res));
      this.httpServer = own.server;
      this.ownsHttpServer = true;
      this.listening = own.listening;
    } else {
      if (this.options.tls) {
        throw new TypeError('Switchboard option tls applies only to a server Switchboard creates from a port; create your own server with https.createServer({ key, cert }) instead');
      }
      this.httpServer = server;
      this.ownsHttpServer = false;
      // The app's listeners would answer the bundle's and the HTTP transports' paths too (with a 404, say): Switchboard goes in front of them.
      if (this.clientBundle || this.options.transports.some((name) => name !== 'websocket') || socketIo) this.plain.intercept(server);
      // ready() waits for it to listen (whenListening): from here it would wait unbounded, and unawaited.
      this.listening = Promise.resolve();
    }
    this.gate = new UpgradeGate({
      options: this.options,
      httpServer: this.httpServer,
      admission: this.admission,
      closing: () => this.closing,
      clientAddress: this.clientAddress,
      originAllowed: (origin, req, address) => this.originAllowed(origin, req, address),
      originRefusal: (origin) => this.origins.refusal(origin),
      start: (transport, info) => this.sessions.start(transport, info),
      report: (error) => this.connectionError(error),
      tooBig: (transport, info) => this.counters.refusedIn({ transportKind: transport.kind, requestInfo: info }, ErrorCode.MessageTooBig),
    });
    this.onUpgrade = socketIo ? (req, socket, head) => void (socketIo.handleUpgrade(req, socket, head) || this.gate.onUpgrade(req, socket, head)) : this.gate.onUpgrade;
    this.httpServer.on('upgrade', this.onUpgrade);
    this.streams = { store: this.cluster.streams, sequencer: new RoomSequencer() };
    // This node's broadcasts, kept once for every session waiting to be resumed.
    const resumeLog = new ResumeLog(this.options.resume.maxLogBytes);
    this.namespaceHost = {
      cluster: this.cluster,
      streams: this.streams,
      resumeLog,
      clusterTimeout: this.options.clusterTimeout,
      hasSession: (id) => this.sessions.hasSession(id),
      reportError: (err, context) => this.reportError(err, context),
      counters: this.counters,
    };
    this.namespaces.set(ROOT_NAMESPACE, new Namespace<CE, SE, SD>(ROOT_NAMESPACE, this.namespaceHost));
    const parts = openNodeParts({
      options: this.options,
      cluster: this.cluster,
      admission: this.admission,
      streams: this.streams,
      resumeLog,
      namespaces: this.namespaces,
      counters: this.counters,
      log: this.log,
      tracer,
      closing: () => this.closing,
      reportError: (err, context) => this.reportError(err, context),
      forwarded: (request) => this.socketIo?.answerForwarded(request) ?? this.httpTransports.answerForwarded(request),
    });
    ({ sessions: this.sessions, clusterLink: this.clusterLink } = parts);
    this.listening = Promise.all([this.listening, parts.joined]).then(() => {
      const store = this.cluster.sessions;
      if (store && this.options.resume.ttl > 0) this.sessions.keepSnapshotsIn(store);
      // Users of a crashed node, expired by whichever node cleaned up: their rooms are told here.
      this.cluster.presence.onExpired((changes) => this.clusterLink.presenceChanged(changes));
    });
    this.heartbeat = new HeartbeatSweeper({ [Symbol.iterator]: () => this.sessions.values() }, this.options.heartbeat.interval, this.options.heartbeat.timeout);
    this.heartbeat.start();
  }

  /** Resolves once the HTTP server listens; rejects when a server of the app's is not listening within 10 s of the call. */
  ready(): Promise<void> {
    return this.ownsHttpServer ? this.listening : Promise.all([whenListening(this.httpServer), this.listening]).then(() => {});
  }

  /** The port the HTTP server listens on. */
  get port(): number {
    return (this.httpServer.address() as AddressInfo | null)?.port ?? 0;
  }

  /**
   * Where pages import the browser client from: `path` is revalidated on every load,
   * `versionedPath` (`/switchboard/client-<version>.js`) is cached for a year. Undefined with `serveClient: false`.
   */
  get clientPaths(): { path: string; versionedPath: string | undefined } | undefined {
    return this.clientBundle && { path: CLIENT_PATH, versionedPath: this.clientBundle.versionedPath };
  }

  get closing(): boolean {
    return this.closePromise !== undefined;
  }

  /** Number of open client connections (sessions waiting to be resumed have none). */
  get connectionCount(): number {
    return this.sessions.connectionCount;
  }

  /** Number of sessions, including those waiting to be resumed. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** This node's numbers — connections, traffic, refusals, latency (see ServerStats); read by switchboard/metrics and the admin dashboard. */
  stats(options: StatsOptions = {}): ServerStats {
    return collectStats(this.counters, this.sessions.values(), this.namespaces.values(), this.cluster, options);
  }

  /** The namespace called `name`, created on first use. */
  of(name: string): Namespace<CE, SE, SD> {
    if (!name.startsWith('/')) throw new TypeError(`namespace names start with "/", got "${name}"`);
    let nsp = this.namespaces.get(name);
    if (!nsp) {
      nsp = new Namespace<CE, SE, SD>(name, this.namespaceHost);
      this.namespaces.set(name, nsp);
    }
    return nsp;
  }

  /** The root namespace "/". */
  get sockets(): Namespace<CE, SE, SD> {
    return this.namespaces.get(ROOT_NAMESPACE) as Namespace<CE, SE, SD>;
  }

  override on(event: 'connection', listener: (socket: Socket<CE, SE, SD>) => void): this;
  override on(event: 'error', listener: (err: unknown, context: Record<string, unknown>) => void): this;
  override on(event: 'connection_error', listener: (error: ConnectionError) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    if (event === 'connection') this.sockets.on('connection', listener as (socket: Socket<CE, SE, SD>) => void);
    else super.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  override once(event: 'connection', listener: (socket: Socket<CE, SE, SD>) => void): this;
  override once(event: 'error', listener: (err: unknown, context: Record<string, unknown>) => void): this;
  override once(event: 'connection_error', listener: (error: ConnectionError) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this {
    if (event !== 'connection') return super.once(event, listener as (...args: unknown[]) => void);
    const once = (socket: Socket<CE, SE, SD>): void => {
      this.sockets.off('connection', once);
      (listener as (socket: Socket<CE, SE, SD>) => void)(socket);
    };
    this.sockets.on('connection', once);
    return this;
  }

  override off(event: 'connection', listener: (socket: Socket<CE, SE, SD>) => void): this;
  override off(event: 'error', listener: (err: unknown, context: Record<string, unknown>) => void): this;
  override off(event: string | symbol, listener: (...args: never[]) => void): this {
    if (event === 'connection') this.sockets.off('connection', listener as (socket: Socket<CE, SE, SD>) => void);
    else super.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  use(fn: Middleware<Socket<CE, SE, SD>>): this {
    this.sockets.use(fn);
    return this;
  }

  /** `sb.sockets.schemas(...)`: validate client events of the root namespace; returns this server, typed with the schemas. */
  schemas<S extends EventSchemas<CE>>(schemas: S & CheckedSchemas<CE, S>): Switchboard<ValidatedEvents<CE, S>, SE, SD> {
    this.sockets.schemas<S>(schemas);
    return this as unknown as Switchboard<ValidatedEvents<CE, S>, SE, SD>;
  }

  to(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.sockets.to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.sockets.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.sockets.except(room);
  }

  /** Every socket of these users in the root namespace, on every node; see BroadcastOperator.toUser. */
  toUser(id: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.sockets.toUser(id);
  }

  get volatile(): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.sockets.volatile;
  }

  /** Only this node's sockets of the root namespace: broadcasts and queries stay on this node. */
  get local(): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.sockets.local;
  }

  /**
   * disconnectUser() in every namespace of this server (see Namespace.disconnectUser): every
   * connection of user `id`, on every node, is closed with 4010 `user_disconnected`.
   */
  async disconnectUser(id: string): Promise<void> {
    await Promise.all([...this.namespaces.values()].map((nsp) => nsp.disconnectUser(id)));
  }

  /** The sockets of user `id` in every namespace of this server, on every node (see Namespace.userSessions). */
  async userSessions(id: string): Promise<SocketInfo[]> {
    const lists = await Promise.all([...this.namespaces.values()].map((nsp) => nsp.userSessions(id)));
    return lists.flat();
  }

  /** The root namespace's sockets on every node; see BroadcastOperator.fetchSockets. */
  fetchSockets(): Promise<SocketInfo[]> {
    return this.sockets.fetchSockets();
  }

  /** Send to every socket of the root namespace. */
  override emit<E extends EventNames<SE>>(event: E, data: EventData<SE, E>): boolean {
    return this.sockets.emit(event, data) > 0;
  }

  /**
   * Shut down gracefully: refuse new connections (503) and new requests (`shutting_down`),
   * give in-flight handlers up to `deadline` ms to reply, then close every connection
   * with 1001 so clients reconnect elsewhere. Closes the HTTP server only if it created it.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closePromise ??= this.shutdown(options.deadline ?? 5000);
    return this.closePromise;
  }

  /** Durable user rooms of the root namespace; see Namespace.durableUsers. */
  durableUsers(limits: Partial<HistoryLimits> = {}): this {
    this.sockets.durableUsers(limits);
    return this;
  }

  /** Durable rooms of the root namespace; see Namespace.durable. */
  durable(rooms: RoomMatcher, limits: Partial<HistoryLimits> = {}): this {
    this.sockets.durable(rooms, limits);
    return this;
  }

  /** Presence in rooms of the root namespace; see Namespace.trackPresence. */
  trackPresence(rooms: RoomMatcher, rule: PresenceRule<Socket<CE, SE, SD>> = {}): this {
    this.sockets.trackPresence(rooms, rule);
    return this;
  }

  /** Users present in a room of the root namespace; see Namespace.presence. */
  presence(room: string): Promise<PresenceMember[]> {
    return this.sockets.presence(room);
  }

  /** Whether a room of the root namespace is durable; see Namespace.isDurable. */
  isDurable(room: string): boolean {
    return this.sockets.isDurable(room);
  }

  /** History of a durable room of the root namespace; see Namespace.history. */
  history(room: string, options: { since?: StreamPosition; limit?: number } = {}): Promise<HistoryReply> {
    return this.sockets.history(room, options);
  }

  /**
   * Send an event to the other nodes of the cluster (not to clients, not to this node):
   * their `onServerEvent(event)` handlers run. `data` travels as JSON. Failures (Redis away,
   * a node that does not answer in `clusterTimeout`) go to the `error` event. On a single
   * node there is nobody to send to.
   */
  serverSideEmit(event: string, data?: unknown): void {
    assertEmittable(event); // a bad name throws at the call, as emit() does
    this.serverSideEmitWithAck(event, data).catch((err: unknown) => this.reportError(err, { phase: 'serverSideEmit', event }));
  }

  /**
   * serverSideEmit, resolving with one answer per other node: what its first handler of
   * `event` returned (or resolved with), null where it has none or it failed. Rejects
   * `timeout` when a node does not answer within `clusterTimeout`, `cluster_unavailable`
   * when Redis cannot be reached.
   */
  serverSideEmitWithAck(event: string, data?: unknown): Promise<unknown[]> {
    return this.clusterLink.emit(event, data, this.options.clusterTimeout);
  }

  /** Handle an event another node sent with serverSideEmit; the first handler's return value is its answer. */
  onServerEvent(event: string, handler: (data: unknown) => unknown): this {
    this.clusterLink.onServerEvent(event, handler);
    return this;
  }

  offServerEvent(event: string, handler?: (data: unknown) => unknown): this {
    this.clusterLink.offServerEvent(event, handler);
    return this;
  }

  /** A connection refused before its session started, for the app's log (`connection_error`); `countedAs` names its transport in stats and logs. */
  private connectionError(error: ConnectionError, countedAs: string = error.transport): void {
    this.counters.refused(error.code, { transport: countedAs, address: error.address, origin: error.origin });
    try {
      super.emit('connection_error', error);
    } catch (err) {
      this.reportError(err, { phase: 'connection_error listener', code: error.code });
    }
  }

  /** Report a failure in app code without letting it take the server down. */
  reportError(err: unknown, context: Record<string, unknown>): void {
    if (this.listenerCount('error') > 0) super.emit('error', err, context);
    else if (this.log.active) this.log.error({ ...context, err }, 'error in application handler');
    else console.error('[switchboard] error in application handler', context, err);
  }

  // --- internals ------------------------------------------------------------------------

  /** Whether a page from `origin` may use this server. An `allowedOrigins` function that throws refuses, and is reported. */
  private originAllowed(origin: string, req: IncomingMessage, address?: string): boolean {
    try {
      return this.origins.allows(origin, { headers: req.headers, url: req.url ?? '/', address: address ?? this.clientAddress(req) });
    } catch (err) {
      this.reportError(err, { phase: 'allowedOrigins', origin });
      return false;
    }
  }

  /**
   * Serve a plain HTTP path on the server's port, in front of the app's own `request` listeners
   * (`/metrics`, an admin page): the path itself and everything below it. Works on a server
   * Switchboard created from a port too. A handler that throws or rejects answers 500 (the error goes to `error`).
   */
  route(path: string, handler: RouteHandler): this {
    this.routes.add(path, handler);
    if (!this.ownsHttpServer && !this.closing) this.plain.intercept(this.httpServer);
    return this;
  }

  private async shutdown(deadline: number): Promise<void> {
    this.log.info({ deadline, sessions: this.sessionCount }, 'shutdown started');
    this.heartbeat.stop();
    await this.sessions.closeAll(deadline, CLOSE_GRACE_MS);
    this.socketIo?.close();
    this.gate.endpoint.close();
    this.httpTransports.close();
    this.httpServer.off('upgrade', this.onUpgrade);
    this.plain.restore();
    try {
      // This node's users leave presence: announced to the rooms while the cluster still hears it.
      this.clusterLink.presenceChanged(await this.cluster.presence.close());
    } catch (err) {
      this.reportError(err, { phase: 'close', component: 'presence' });
    }
    try {
      await this.cluster.close();
    } catch (err) {
      this.reportError(err, { phase: 'close', component: 'adapter' });
    }
    if (this.ownsHttpServer) {
      await new Promise<void>((resolve) => {
        this.httpServer.close(() => resolve());
        this.httpServer.closeAllConnections();
      });
    }
    this.log.info({}, 'shutdown finished');
  }
}
