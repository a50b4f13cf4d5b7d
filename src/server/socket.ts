import { EventEmitter } from 'node:events';
import { ROOT_NAMESPACE, RESERVED_EVENTS } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { AnyEvents, EventData, EventMap, EventNames, EventReply } from '../protocol/event-map.js';
import type { EventFrame, HistoryReply, PresenceMember, ServerFrame, StreamPosition } from '../protocol/frames.js';
import { assertEmittable } from '../protocol/event-names.js';
import { userIdProblem, userRoom } from '../protocol/user-rooms.js';
import type { HistoryLimits } from '../delivery/stream-store.js';
import type { BroadcastOperator, SocketInfo } from './broadcast.js';
import type { EventAuthorizer } from './event-authorization.js';
import { handlersOf, withHandlers, type AnyHandler, type HandlerTable } from './handler-table.js';
import { type ReauthSession, SocketAuth } from './reauth.js';
import type { LoggedBroadcast } from './resume-log.js';
import type { MembershipSession, RoomMembership } from './room-membership.js';
import type { RoomRegistry } from './rooms.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { SharedFrame } from '../transport/shared-frame.js';
import type { SocketSnapshot } from '../cluster/session-store.js';
import type { HandshakeQuery } from './handshake-query.js';

/** What the server knew about the client when it connected. */
export interface Handshake {
  /**
   * The `auth` value of the hello (or of the namespace's connect frame); after a
   * re-authentication, the fresh credentials the client sent (see `Socket.expireAuthAt`).
   */
  auth: unknown;
  /** Request headers of the session's latest connection: a resume replaces them (and `cookies`, `address`, `url`) with the new connection's. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Cookies of the upgrade request's `Cookie` header, by name (decoded; malformed pairs skipped). */
  cookies: Readonly<Record<string, string>>;
  /** The client's address (see `trustProxy`) on the latest connection. */
  address: string;
  url: string;
  /** The query parameters of `url` (a repeated name: the array of its values), as Socket.IO's `handshake.query`. */
  query: HandshakeQuery;
  /** Epoch ms of the handshake that started the session (a resume keeps it). */
  time: number;
}

/** Why a socket left its namespace. */
export const DisconnectReason = {
  /** The client sent a namespace disconnect. */
  ClientDisconnect: 'client_disconnect',
  /** `socket.disconnect()` on the server. */
  ServerDisconnect: 'server_disconnect',
  /** The connection closed (client went away, network loss). */
  TransportClosed: 'transport_closed',
  /** The client missed its heartbeats. */
  HeartbeatTimeout: 'heartbeat_timeout',
  /** `sb.close()`. */
  ServerShutdown: 'server_shutdown',
  /** The connection fell too far behind a durable room (close 4009); the client recovers from history. */
  SlowConsumer: 'slow_consumer',
  /** The credentials expired and fresh ones did not come, or were refused (close 4006). */
  AuthExpired: 'auth_expired',
  /** The client kept sending past its rate limit (close 1008). */
  RateLimited: 'rate_limited',
  /** `disconnectUser()` closed every connection of the socket's user (close 4010). */
  UserDisconnected: 'user_disconnected',
} as const;
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

export type EventHandler<CE extends EventMap, E extends keyof CE> = (
  data: EventData<CE, E>,
) => EventReply<CE, E> | Promise<EventReply<CE, E>>;

/** A socket of any namespace: inside the server layer the event maps do not matter (not exported by the package). */
// biome-ignore lint/suspicious/noExplicitAny: internal, never crosses a layer boundary
export type AnySocket = Socket<any, any, any>;

/**
 * What a socket needs of the session that carries it (the server's Session implements it).
 * @internal
 */
export interface SocketSession extends ReauthSession, MembershipSession {
  readonly id: string;
  /** What carries the session now; undefined while it waits to be resumed or after it ended. */
  readonly transportKind: string | undefined;
  /** Encode and send one frame. Throws `unserializable` for data JSON cannot carry. */
  sendFrame(frame: ServerFrame, volatile?: boolean): boolean;
  /** A broadcast's frame, encoded once for all recipients. */
  sendBroadcast(frame: SharedFrame, volatile: boolean): boolean;
  /** A durable room's publication: never skipped; a session too far behind is cut off (4009). */
  sendDurable(frame: SharedFrame): void;
  /** Send an event frame as a request and await the client's reply. */
  request(frame: EventFrame, timeout: number | undefined, describe: string): Promise<unknown>;
  /** Publications of a durable room of namespace `ns` are lost beyond history: cut the connection off (4009). */
  lostPublications(ns: string): void;
  /** Its user was disconnected (disconnectUser): error frame `user_disconnected`, close 4010, the session ends. */
  userDisconnected(ns: string): void;
  /** Remove a socket from the session; a server-side disconnect of the last one closes it. */
  detach(socket: AnySocket, reason: DisconnectReason, closeConnection: boolean): void;
}

/**
 * The namespace as its sockets see it: `socket.nsp`. A `Namespace` is one; the socket's
 * view leaves out what configures the namespace (`use`, `on`, `schemas`, `durable`, ...).
 */
export interface SocketNamespace<CE extends EventMap = AnyEvents, SE extends EventMap = AnyEvents, SD = Record<string, unknown>> {
  /** `/`, `/admin`, ... */
  readonly name: string;
  /** Connected sockets by id, on this node. */
  readonly sockets: ReadonlyMap<string, Socket<CE, SE, SD>>;
  /** @internal Room membership of this namespace, on this node. */
  readonly rooms: RoomRegistry<Socket<CE, SE, SD>>;
  to(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>>;
  in(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>>;
  except(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>>;
  /** Every socket of these users, on every node: `to(userRoom(id))`. */
  toUser(id: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>>;
  readonly volatile: BroadcastOperator<SE, Socket<CE, SE, SD>>;
  readonly local: BroadcastOperator<SE, Socket<CE, SE, SD>>;
  /** Send to every socket of the namespace. Returns how many sockets it was handed to. */
  emit<E extends EventNames<SE>>(event: E, data: EventData<SE, E>): number;
  fetchSockets(): Promise<SocketInfo[]>;
  disconnectSockets(close?: boolean): void;
  history(room: string, options?: { since?: StreamPosition; limit?: number }): Promise<HistoryReply>;
  presence(room: string): Promise<PresenceMember[]>;
  /** @internal History limits of a durable room; undefined for an ordinary room. */
  durableLimits(room: string): HistoryLimits | undefined;
  /** @internal Who is in which room: the one place that changes it. */
  readonly membership: RoomMembership<Socket<CE, SE, SD>>;
  /** @internal Run the middleware again on a socket whose credentials were refreshed. */
  reauthenticate(socket: Socket<CE, SE, SD>): Promise<void>;
  /** @internal Whether a client may join `room` (authorizeJoin). */
  mayJoin(socket: Socket<CE, SE, SD>, room: string): Promise<boolean>;
  /** @internal The schema client data of `event` must pass, if one was declared. */
  schemaFor(event: string): StandardSchemaV1 | undefined;
  /** @internal Decides on every client event before its handlers (authorize). */
  readonly eventAuthorizer: EventAuthorizer<Socket<CE, SE, SD>> | undefined;
  /** @internal The socket left the namespace. */
  detach(socket: Socket<CE, SE, SD>): void;
  /** @internal Report a failure in app code (the server's `error` event). */
  reportError(err: unknown, context: Record<string, unknown>): void;
}

/**
 * One client in one namespace — the object apps hold. Its id is the session id, the same
 * in every namespace, and it is always a member of the room named by its id.
 */
export class Socket<CE extends EventMap = AnyEvents, SE extends EventMap = AnyEvents, SD = Record<string, unknown>> {
  // A broadcast Recipient and a RoomMember structurally: `implements` would put those internal ports in the published types.
  readonly id: string;
  /** The namespace. */
  readonly nsp: SocketNamespace<CE, SE, SD>;
  /** What the server knew about the client when it connected to this namespace. */
  readonly handshake: Handshake;
  /** The session that carries this socket: not API (its type is internal). */
  private readonly session: SocketSession;
  // What an idle socket does not use is created on first use: data, handlers, rooms
  // beyond its own (it is in its own room from the start without a set for it).
  private appData: SD | undefined;
  /** @internal Rooms including its own id; undefined while it is only in its own room (see RoomMembership). */
  joinedRooms: Set<string> | undefined;
  private handlers: HandlerTable | undefined;
  private userId: string | undefined;
  private lifecycle: EventEmitter | undefined;
  private isConnected = false;
  /** Created by the first expireAuthAt(): sockets whose credentials never expire carry none. */
  private authExpiry: SocketAuth | undefined;
  /**
   * True for a socket another node held before: its session moved here (that node died, or
   * the client came back through another one) with its id, rooms and `data`; middleware did
   * not run again. Events sent to it while it moved may be lost; durable rooms recover them.
   */
  recovered = false;

  /** @internal Sockets are made by their namespace. */
  constructor(nsp: SocketNamespace<CE, SE, SD>, session: SocketSession, handshake: Handshake) {
    this.nsp = nsp;
    this.session = session;
    this.handshake = handshake;
    this.id = session.id;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /**
   * What carries this socket's session now: `'websocket'`, `'sse'` or `'polling'`. It can
   * change during the session (a client that fell back to HTTP moves to a WebSocket when
   * one works); undefined while the session waits to be resumed or after it ended.
   */
  get transport(): string | undefined {
    return this.session.transportKind;
  }

  /**
   * The authenticated user of this socket, set by middleware (`socket.user = claims.sub`):
   * a string of 1 to 200 UTF-16 code units (else a TypeError). A socket with a user is in
   * the room `userRoom(user)` from the moment it connects, so `toUser(user)` reaches it,
   * and its client learns its user in the welcome. Once the socket is connected the user
   * is fixed: setting another one (or none) throws, so middleware run again for fresh
   * credentials (see expireAuthAt) that names another user refuses them (close 4006).
   */
  get user(): string | undefined {
    return this.userId;
  }

  set user(id: string | undefined) {
    if (id === this.userId) return;
    if (this.isConnected) {
      throw new Error(`the user of a connected socket cannot change (it is ${JSON.stringify(this.userId)}, was given ${JSON.stringify(id)}): connect again as the other user`);
    }
    if (id !== undefined) {
      const problem = userIdProblem(id);
      if (problem) throw new TypeError(problem);
    }
    this.userId = id;
  }

  /** App state for this socket; never sent anywhere. */
  get data(): SD {
    return (this.appData ??= {} as SD);
  }

  set data(value: SD) {
    this.appData = value;
  }

  /**
   * Make the credentials expire at `when` (epoch ms or a Date); `Infinity` clears the expiry.
   * Callable in middleware or later; a second call replaces the first. When the time comes
   * the client is asked for fresh ones and the namespace's middleware runs again on this
   * socket (with `reauthenticating` true); it should call expireAuthAt() for the new ones.
   * Refused or not sent within `reauthTimeout`: close 4006 `auth_expired`.
   */
  expireAuthAt(when: number | Date): this {
    const at = when instanceof Date ? when.getTime() : when;
    if (typeof at !== 'number' || Number.isNaN(at)) throw new TypeError(`expireAuthAt needs epoch milliseconds or a valid Date, got ${String(when)}`);
    if (!this.authExpiry) {
      this.authExpiry = new SocketAuth(this, this.session, () => this.nsp.reauthenticate(this));
      if (this.isConnected) this.authExpiry.start(); // otherwise attached() starts it
    }
    this.authExpiry.expireAt(at === Number.POSITIVE_INFINITY ? undefined : at);
    return this;
  }

  /** When the credentials expire (epoch ms), as set by expireAuthAt(); undefined: never. */
  get authExpiresAt(): number | undefined {
    return this.authExpiry?.expiresAt;
  }

  /** True from the expiry of the credentials until fresh ones are accepted; middleware reads it to tell a refresh from a connect. */
  get reauthenticating(): boolean {
    return this.authExpiry?.refreshing ?? false;
  }

  /** Rooms this socket is in, including its own id. */
  get rooms(): ReadonlySet<string> {
    return this.nsp.membership.roomsOf(this);
  }

  /** Handle an event from the client; for a request, the return value (or thrown ReplyError) is the reply. */
  on(event: 'disconnect' | 'disconnecting', listener: (reason: DisconnectReason) => void): this;
  on<E extends EventNames<CE>>(event: E, handler: EventHandler<CE, E>): this;
  on(event: string, handler: (arg: never) => unknown): this {
    if (RESERVED_EVENTS.has(event)) this.lifecycleEmitter().on(event, handler as AnyHandler);
    else {
      const list = handlersOf(this.handlers, event);
      if (list) list.push(handler as AnyHandler);
      else this.handlers = withHandlers(this.handlers, event, [handler as AnyHandler]);
    }
    return this;
  }

  once(event: 'disconnect' | 'disconnecting', listener: (reason: DisconnectReason) => void): this;
  once<E extends EventNames<CE>>(event: E, handler: EventHandler<CE, E>): this;
  once(event: string, handler: (arg: never) => unknown): this {
    const wrapper = Object.assign(
      (data: never): unknown => {
        this.off(event, wrapper);
        return handler(data);
      },
      { listener: handler },
    );
    return this.on(event as EventNames<CE>, wrapper as unknown as EventHandler<CE, EventNames<CE>>);
  }

  off(event: string, handler?: (arg: never) => unknown): this {
    if (RESERVED_EVENTS.has(event)) {
      if (handler) this.lifecycle?.off(event, handler as AnyHandler);
      else this.lifecycle?.removeAllListeners(event);
      return this;
    }
    const list = handlersOf(this.handlers, event);
    if (!list) return this;
    // A handler added with once() is removed by the function the app passed, as with EventEmitter.
    const rest = handler ? list.filter((h) => h !== handler && (h as { listener?: unknown }).listener !== handler) : [];
    this.handlers = withHandlers(this.handlers, event, rest);
    return this;
  }

  /** Send an event to this client. Returns false when the connection is gone. */
  emit<E extends EventNames<SE>>(event: E, data: EventData<SE, E>): boolean {
    assertEmittable(event);
    return this.isConnected && this.session.sendFrame(this.eventFrame(event, data));
  }

  /** Send a request to this client and await its handler's reply. Rejects with `timeout`, `disconnected` or the client's error. */
  emitWithAck<E extends EventNames<SE>>(event: E, data: EventData<SE, E>, options: { timeout?: number } = {}): Promise<EventReply<SE, E>> {
    try {
      assertEmittable(event);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.isConnected) {
      return Promise.reject(new SwitchboardError(ErrorCode.Disconnected, `cannot send "${event}": the socket left namespace "${this.nsp.name}"`));
    }
    return this.session.request(this.eventFrame(event, data), options.timeout, `"${event}"`) as Promise<EventReply<SE, E>>;
  }

  /** Events to these rooms, leaving this socket out. */
  to(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.nsp.except(this.id).to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.nsp.except([this.id]).except(room);
  }

  /** Everyone in the namespace but this socket. */
  get broadcast(): BroadcastOperator<SE, Socket<CE, SE, SD>> {
    return this.nsp.except(this.id);
  }

  /** Events to this socket that are dropped rather than queued when its connection is backed up. */
  get volatile(): { emit: <E extends EventNames<SE>>(event: E, data: EventData<SE, E>) => boolean } {
    return {
      emit: (event, data) => {
        assertEmittable(event);
        return this.isConnected && this.session.sendFrame(this.eventFrame(event, data), true);
      },
    };
  }

  join(room: string | readonly string[]): void {
    this.nsp.membership.join(this, this.session, room);
  }

  leave(room: string): void {
    this.nsp.membership.leave(this, this.session, room);
  }

  /**
   * Remove this socket from its namespace and tell the client, which will not reconnect
   * it. With `close` (or when it was the connection's last namespace) the connection closes too (1000).
   */
  disconnect(close = false): this {
    if (!this.isConnected) return this;
    this.session.sendFrame(this.nsp.name === ROOT_NAMESPACE ? { type: 'disconnect' } : { type: 'disconnect', ns: this.nsp.name });
    this.session.detach(this, DisconnectReason.ServerDisconnect, close);
    return this;
  }

  /**
   * @internal disconnectUser(): the whole connection closes (4010 `user_disconnected`) and
   * the session ends, whatever else it carries: a logged-out or banned user keeps nothing open.
   */
  disconnectUser(): void {
    if (this.isConnected) this.session.userDisconnected(this.nsp.name);
  }

  /** @internal Broadcast path: a frame encoded and framed once for all recipients. */
  deliver(frame: SharedFrame, volatile: boolean): void {
    this.session.sendBroadcast(frame, volatile);
  }

  /** @internal Durable publication: never skipped; a recipient too far behind is cut off and recovers. */
  deliverDurable(frame: SharedFrame): void {
    this.session.sendDurable(frame);
  }

  /**
   * @internal The frame a logged broadcast gave this socket, worked out from its rooms now
   * (see WaitingFrames): the same choice BroadcastOperator and DurableFeed make when they
   * hand it out.
   */
  frameOf(entry: LoggedBroadcast): SharedFrame | undefined {
    const rooms = this.nsp.rooms;
    if (entry.rooms.length > 0 && !entry.rooms.some((room) => rooms.has(room, this))) return undefined;
    for (const room of entry.except) if (rooms.has(room, this)) return entry.exceptFrame;
    return entry.frame;
  }

  /** @internal Publications of a durable room it is in are gone beyond history: the connection is cut off (4009) and the client rejoins. */
  lostPublications(): void {
    this.session.lostPublications(this.nsp.name);
  }

  /** @internal What cluster-wide queries (fetchSockets) report of this socket. */
  describe(node: string): SocketInfo {
    const info: SocketInfo = { id: this.id, ns: this.nsp.name, rooms: [...this.rooms], data: jsonSafe(this.appData ?? {}), node };
    if (this.userId !== undefined) info.user = this.userId;
    return info;
  }

  /** @internal What another node needs to take this socket over (see SessionSnapshot). */
  snapshot(): SocketSnapshot {
    const { auth, headers, address, url, time } = this.handshake;
    const snap: SocketSnapshot = {
      ns: this.nsp.name,
      handshake: { auth, headers: { ...headers }, address, url, time },
      rooms: this.nsp.membership.saved(this),
      data: jsonSafe(this.appData ?? {}),
    };
    if (this.authExpiry?.expiresAt !== undefined) snap.authExpiresAt = this.authExpiry.expiresAt;
    if (this.userId !== undefined) snap.user = this.userId;
    return snap;
  }

  /** @internal Entered the namespace: member of its own room, and of its user's. */
  attached(): void {
    this.isConnected = true;
    this.join(this.userId === undefined ? this.id : [this.id, userRoom(this.userId)]);
    this.authExpiry?.start();
  }

  /**
   * @internal The session was resumed on a new connection: the handshake shows that
   * connection's request (whoever holds a resume token is who is connected now); `auth`
   * and `time` stay those of the handshake.
   */
  reconnected(latest: Handshake): void {
    const h = this.handshake;
    h.headers = latest.headers;
    h.cookies = latest.cookies;
    h.address = latest.address;
    h.url = latest.url;
    h.query = latest.query;
  }

  /** @internal The session was resumed on a new connection. */
  resumed(): void {
    this.authExpiry?.resumed();
  }

  /** @internal Left the namespace: leaves every room, and tells the app why. */
  detached(reason: DisconnectReason): void {
    if (!this.isConnected) return;
    this.authExpiry?.stop();
    this.emitLifecycle('disconnecting', reason);
    this.nsp.membership.leaveAll(this);
    this.isConnected = false;
    this.emitLifecycle('disconnect', reason);
  }

  /** @internal */
  handlersFor(event: string): readonly AnyHandler[] | undefined {
    return handlersOf(this.handlers, event);
  }

  private eventFrame(event: string, data: unknown): EventFrame {
    const frame: EventFrame = { type: 'event', event, data };
    if (this.nsp.name !== ROOT_NAMESPACE) frame.ns = this.nsp.name;
    return frame;
  }

  private lifecycleEmitter(): EventEmitter {
    return (this.lifecycle ??= new EventEmitter());
  }

  private emitLifecycle(event: string, reason: DisconnectReason): void {
    if (!this.lifecycle) return;
    for (const listener of this.lifecycle.listeners(event)) {
      try {
        (listener as (r: DisconnectReason) => void)(reason);
      } catch (err) {
        this.nsp.reportError(err, { session: this.id, event });
      }
    }
  }
}

/** `socket.data` as another node would see it: through JSON, dropping what JSON cannot carry. */
function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value) ?? 'null');
  } catch {
    return null;
  }
}
