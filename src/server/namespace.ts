import { DurableRooms, type RoomMatcher, streamKey } from '../delivery/durable-rooms.js';
import type { HistoryLimits } from '../delivery/stream-store.js';
import { reviveBinary } from '../protocol/binary.js';
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { isUserRoom } from '../protocol/user-rooms.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { AnyEvents, EventData, EventMap, EventNames } from '../protocol/event-map.js';
import type { HistoryReply, PresenceMember, Publication, StreamPosition } from '../protocol/frames.js';
import type { PresenceChange } from '../cluster/presence-store.js';
import type { SocketSnapshot } from '../cluster/session-store.js';
import { parseCookies } from './cookies.js';
import { RoomPresence, type PresenceRule } from './room-presence.js';
import type { ClusterAdapter } from '../cluster/adapter.js';
import { BroadcastOperator, type DeliveryStreams, type SocketInfo } from './broadcast.js';
import type { EventAuthorizer } from './event-authorization.js';
import { rejectionPayload, runMiddleware, type Middleware } from './middleware.js';
import type { ResumeLog } from './resume-log.js';
import type { ServerCounters } from './server-counters.js';
import { RoomMembership } from './room-membership.js';
import type { RoomRegistry } from './rooms.js';
import { Socket, type Handshake, type SocketNamespace, type SocketSession } from './socket.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { assertEventSchema, type CheckedSchemas, type EventSchemas, type ValidatedEvents } from './validation.js';
import { queryOf } from './handshake-query.js';

/** Decide whether a client may join a room it asked for. Return false (→ `forbidden`) or throw a ReplyError. */
export type JoinAuthorizer<S> = (socket: S, room: string) => boolean | Promise<boolean>;

/** A namespace of any event maps: inside the server layer they do not matter (not exported by the package). */
// biome-ignore lint/suspicious/noExplicitAny: internal, never crosses a layer boundary
export type AnyNamespace = Namespace<any, any, any>;

/**
 * What a namespace needs of the server that holds it.
 * @internal
 */
export interface NamespaceHost {
  /** The other nodes: broadcasts, presence and queries across them. */
  readonly cluster: ClusterAdapter;
  /** Streams of durable rooms, and the per-stream ordering of publications and joins. */
  readonly streams: DeliveryStreams;
  /** Where broadcasts are kept for sessions waiting to be resumed. */
  readonly resumeLog: ResumeLog;
  /** Milliseconds cluster-wide queries wait for every node (`clusterTimeout`). */
  readonly clusterTimeout: number;
  /** Whether `id` is the id of a live session on this node (its private room is never durable nor tracked). */
  hasSession(id: string): boolean;
  /** Report a failure in app code (the server's `error` event). */
  reportError(err: unknown, context: Record<string, unknown>): void;
  /** The node's numbers (stats()): broadcasts, middleware refusals. */
  readonly counters: ServerCounters;
}

/**
 * A namespace: its own middleware, connection handlers, sockets and rooms, multiplexed
 * with the others on each client connection.
 */
export class Namespace<CE extends EventMap = AnyEvents, SE extends EventMap = AnyEvents, SD = Record<string, unknown>>
  implements SocketNamespace<CE, SE, SD>
{
  readonly sockets = new Map<string, Socket<CE, SE, SD>>();
  /** @internal Who is in which room of this namespace: the one place that changes it. */
  readonly membership: RoomMembership<Socket<CE, SE, SD>>;
  /** @internal Room membership of this namespace, on this node, for reading. */
  readonly rooms: RoomRegistry<Socket<CE, SE, SD>>;
  private readonly middleware: Middleware<Socket<CE, SE, SD>>[] = [];
  private readonly connectionListeners: ((socket: Socket<CE, SE, SD>) => void)[] = [];
  private joinAuthorizer: JoinAuthorizer<Socket<CE, SE, SD>> | undefined;
  private authorizer: EventAuthorizer<Socket<CE, SE, SD>> | undefined;
  private readonly durableRules = new DurableRooms();
  private readonly eventSchemas = new Map<string, StandardSchemaV1>();
  private readonly presenceRooms: RoomPresence<Socket<CE, SE, SD>>;

  readonly #host: NamespaceHost;

  /** @internal Namespaces are made by `sb.of(name)`. */
  constructor(
    readonly name: string,
    host: NamespaceHost,
  ) {
    this.#host = host;
    this.membership = new RoomMembership<Socket<CE, SE, SD>>({
      entered: (socket, room) => {
        if (this.presenceRooms.any) this.presenceRooms.entered(socket, room);
      },
      left: (socket, room) => {
        if (this.presenceRooms.any) this.presenceRooms.left(socket, room);
      },
    });
    this.rooms = this.membership.registry;
    this.presenceRooms = new RoomPresence<Socket<CE, SE, SD>>({
      name,
      get store() {
        return host.cluster.presence;
      },
      announce: (room, frame) => new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).to(room).sendFrame(frame),
      reportError: (err, context) => host.reportError(err, context),
    });
  }

  /** Add middleware run for every client connecting to this namespace, in order. */
  use(fn: Middleware<Socket<CE, SE, SD>>): this {
    this.middleware.push(fn);
    return this;
  }

  /** Listen for sockets that passed the middleware. */
  on(event: 'connection', listener: (socket: Socket<CE, SE, SD>) => void): this {
    if (event !== 'connection') throw new TypeError(`Namespace has no "${String(event)}" event; use "connection"`);
    this.connectionListeners.push(listener);
    return this;
  }

  off(event: 'connection', listener: (socket: Socket<CE, SE, SD>) => void): this {
    const i = this.connectionListeners.indexOf(listener);
    if (event === 'connection' && i >= 0) this.connectionListeners.splice(i, 1);
    return this;
  }

  /**
   * Make rooms durable: every publication gets a stream position, history is kept within
   * the limits (default 1000 publications, 5 minutes), and clients that rejoin with their
   * last position get the gap replayed — or `recovered: false` when it is gone.
   */
  durable(rooms: RoomMatcher, limits: Partial<HistoryLimits> = {}): this {
    this.durableRules.add(rooms, limits);
    return this;
  }

  /**
   * Make every user room durable (`durable(room => room.startsWith(USER_ROOM_PREFIX), limits)`):
   * `toUser(id).emit()` then publishes with a position, and a user who was offline gets
   * what they missed when a client of theirs joins `userRoom(id)` with `since`.
   */
  durableUsers(limits: Partial<HistoryLimits> = {}): this {
    return this.durable(isUserRoom, limits);
  }

  /**
   * Track presence in rooms: who is in them, by user, across the cluster. Members of such
   * a room receive `presence` frames when a user comes in (their first connection) or
   * leaves (their last), and clients can ask for the list. `user` names a socket's user
   * (default: `socket.user`, else its id: one user per connection); `info` is what members are told about them.
   */
  trackPresence(rooms: RoomMatcher, rule: PresenceRule<Socket<CE, SE, SD>> = {}): this {
    this.presenceRooms.track(rooms, rule);
    return this;
  }

  /** The users present in a tracked room, on every node, sorted by user. Rejects `presence_not_tracked` or `cluster_unavailable`. */
  async presence(room: string): Promise<PresenceMember[]> {
    if (!this.presenceRooms.tracks(room) || this.#host.hasSession(room)) {
      throw new SwitchboardError(ErrorCode.PresenceNotTracked, `room "${room}" has no presence tracking (trackPresence)`);
    }
    return this.presenceRooms.members(room);
  }

  /** @internal A change no node's socket made (a crashed node's users expired): tell the room. */
  presenceExpired(change: PresenceChange, room: string): void {
    this.presenceRooms.announce(change, room);
  }

  /**
   * Whether `room` is durable: a `durable()` rule matches it (and it is not a socket's
   * private room). Its broadcasts are then publications: `to(room).publish()` works.
   */
  isDurable(room: string): boolean {
    return this.durableLimits(room) !== undefined;
  }

  /** @internal History limits of a durable room; undefined for an ordinary room. */
  durableLimits(room: string): HistoryLimits | undefined {
    // A socket's private room is never durable, whatever a broad matcher says.
    if (this.#host.hasSession(room)) return undefined;
    return this.durableRules.limitsFor(room);
  }

  /**
   * Read a durable room's history, oldest first: the last `limit` publications (default
   * 100), or those after `since`. Rejects with `not_durable` or `unrecoverable`.
   */
  async history(room: string, options: { since?: StreamPosition; limit?: number } = {}): Promise<HistoryReply> {
    const limits = this.durableLimits(room);
    if (!limits) throw new SwitchboardError(ErrorCode.NotDurable, `room "${room}" is not durable: it keeps no history`);
    const { limit } = options;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_HISTORY_LIMIT)) {
      throw new SwitchboardError(ErrorCode.BadRequest, `history limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${limit}`);
    }
    const read = await this.streams.store.read(streamKey(this.name, room), { since: options.since, limit: options.limit ?? DEFAULT_HISTORY_LIMIT }, limits);
    if (!read.ok) {
      throw new SwitchboardError(
        ErrorCode.Unrecoverable,
        `history of room "${room}" after ${JSON.stringify(options.since)} is gone (current position ${JSON.stringify(read.position)})`,
      );
    }
    const publications = read.entries.map((e): Publication => {
      const frame = JSON.parse(e.payload) as { event: string; data?: unknown; bin?: number };
      // Stored in the text form: its binary data comes back as Uint8Array, as it was published.
      if (frame.bin !== undefined) reviveBinary(frame as unknown as Record<string, unknown>);
      return { event: frame.event, data: frame.data, position: e.position };
    });
    return { publications, position: read.position };
  }

  /** @internal */
  get streams(): DeliveryStreams {
    return this.#host.streams;
  }

  /** @internal */
  get cluster(): ClusterAdapter {
    return this.#host.cluster;
  }

  /** @internal */
  get resumeLog(): ResumeLog {
    return this.#host.resumeLog;
  }

  /** @internal */
  get counters(): ServerCounters {
    return this.#host.counters;
  }

  /** @internal */
  get clusterTimeout(): number {
    return this.#host.clusterTimeout;
  }

  /** The sockets of this namespace on every node of the cluster; see BroadcastOperator.fetchSockets. */
  fetchSockets(): Promise<SocketInfo[]> {
    return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).fetchSockets();
  }

  /** Only this node's sockets: broadcasts from it are not sent to the other nodes. */
  get local(): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).local;
  }

  /** @internal */
  reportError(err: unknown, context: Record<string, unknown>): void {
    this.#host.reportError(err, context);
  }

  /**
   * Validate client events of this namespace with Standard Schemas (zod, valibot, arktype…),
   * by event name. Every handler of a validated event, on every socket, gets the schema's
   * output; invalid data never reaches one: a request is answered `bad_request` naming the
   * paths, a fire-and-forget event gets an `error` frame. A later call adds schemas and
   * replaces those of the same events. Returns this namespace, typed with the schemas:
   * keep the returned value for typed handlers.
   */
  schemas<S extends EventSchemas<CE>>(schemas: S & CheckedSchemas<CE, S>): Namespace<ValidatedEvents<CE, S>, SE, SD> {
    const checked = Object.entries(schemas as Record<string, unknown>).map(([event, schema]) => {
      assertEventSchema(event, schema);
      return [event, schema] as const;
    });
    // All or nothing: one bad entry must not leave the others half declared.
    for (const [event, schema] of checked) this.eventSchemas.set(event, schema);
    return this as unknown as Namespace<ValidatedEvents<CE, S>, SE, SD>;
  }

  /** @internal The schema client data of `event` must pass, if one was declared. */
  schemaFor(event: string): StandardSchemaV1 | undefined {
    return this.eventSchemas.get(event);
  }

  /** Decide on join requests sent by clients (server-side `socket.join` is not checked). Default: allow. */
  authorizeJoin(fn: JoinAuthorizer<Socket<CE, SE, SD>>): this {
    this.joinAuthorizer = fn;
    return this;
  }

  /**
   * Decide on every event a client sends in this namespace, before its handlers run (after its
   * schema: `data` is validated). Return true to allow; false (or anything else) answers
   * `forbidden`; a thrown ReplyError answers its code. Default: allow. A second call replaces the first.
   */
  authorize(fn: EventAuthorizer<Socket<CE, SE, SD>>): this {
    this.authorizer = fn;
    return this;
  }

  /** @internal Decides on every client event before its handlers; see authorize(). */
  get eventAuthorizer(): EventAuthorizer<Socket<CE, SE, SD>> | undefined {
    return this.authorizer;
  }

  to(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.to(room);
  }

  /** Every socket of these users, on every node; see BroadcastOperator.toUser. */
  toUser(id: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).toUser(id);
  }

  except(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).except(room);
  }

  get volatile(): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).volatile;
  }

  /** Send to every socket of the namespace. Returns how many sockets it was handed to. */
  emit<E extends EventNames<SE>>(event: E, data: EventData<SE, E>): number {
    return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).emit(event, data);
  }

  /**
   * Log a user out everywhere (or ban them): every connection that has a socket of user `id`
   * in this namespace, on every node, gets the error `user_disconnected` and is closed with
   * 4010; its session ends at once (no resume), its sockets get `disconnect` with reason
   * `user_disconnected`, and the SDK does not reconnect. Resolves once every node acted;
   * rejects `timeout` when a node does not answer. Keep the user out with the middleware:
   * a client that connects again passes it like any other.
   */
  disconnectUser(id: string): Promise<void> {
    try {
      return new BroadcastOperator<SE, Socket<CE, SE, SD>>(this).toUser(id).disconnectUsers();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The sockets of user `id` in this namespace, on every node (`toUser(id).fetchSockets()`): count them, list their nodes and transports' rooms. */
  userSessions(id: string): Promise<SocketInfo[]> {
    try {
      return this.toUser(id).fetchSockets();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Disconnect every socket of this namespace (see Socket.disconnect). */
  disconnectSockets(close = false): void {
    for (const socket of [...this.sockets.values()]) socket.disconnect(close);
  }

  /** @internal Build a socket and run the middleware; throws the rejection. */
  async admit(session: SocketSession, handshake: Handshake): Promise<Socket<CE, SE, SD>> {
    const socket = new Socket<CE, SE, SD>(this, session, handshake);
    try {
      await runMiddleware(this.middleware, socket);
    } catch (err) {
      this.refusedByMiddleware(session, handshake, err);
      throw err;
    }
    return socket;
  }

  /** Counted and logged (`info`: refusing is what middleware is for) with what the client was told; never its credentials. */
  private refusedByMiddleware(session: SocketSession, handshake: Handshake, err: unknown): void {
    const source = { transport: session.transportKind, address: handshake.address, origin: handshake.headers.origin, namespace: this.name };
    this.#host.counters.refused(rejectionPayload(err).code, source, 'info');
  }

  /** @internal Run the middleware again on a connected socket whose credentials were refreshed; throws the rejection. */
  reauthenticate(socket: Socket<CE, SE, SD>): Promise<void> {
    return runMiddleware(this.middleware, socket);
  }

  /** @internal A socket taken over from another node: no middleware (it passed there), its `data` and rooms as they were. */
  restore(session: SocketSession, snapshot: SocketSnapshot): Socket<CE, SE, SD> {
    const { auth, headers, address, url, time } = snapshot.handshake;
    const socket = new Socket<CE, SE, SD>(this, session, { auth, headers, address, url, query: queryOf(url), time, cookies: parseCookieHeader(headers.cookie) });
    socket.recovered = true;
    socket.data = snapshot.data as SD;
    if (snapshot.user !== undefined) socket.user = snapshot.user;
    if (snapshot.authExpiresAt !== undefined) socket.expireAuthAt(snapshot.authExpiresAt);
    return socket;
  }

  /** @internal Make an admitted socket live (in `rooms` too, for a restored one) and announce it. */
  attach(socket: Socket<CE, SE, SD>, rooms: readonly string[] = []): void {
    this.sockets.set(socket.id, socket);
    socket.attached();
    if (rooms.length > 0) socket.join(rooms);
    for (const listener of [...this.connectionListeners]) {
      try {
        listener(socket);
      } catch (err) {
        this.#host.reportError(err, { session: socket.id, event: 'connection' });
      }
    }
  }

  /** @internal */
  detach(socket: Socket<CE, SE, SD>): void {
    this.sockets.delete(socket.id);
  }

  /** @internal */
  async mayJoin(socket: Socket<CE, SE, SD>, room: string): Promise<boolean> {
    return this.joinAuthorizer ? await this.joinAuthorizer(socket, room) : true;
  }
}

function parseCookieHeader(header: string | string[] | undefined): Readonly<Record<string, string>> {
  return typeof header === 'string' ? parseCookies(header) : {};
}
