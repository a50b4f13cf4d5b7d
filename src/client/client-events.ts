import type { SwitchboardError } from '../protocol/errors.js';
import type { AnyEvents, EventData, EventMap, EventNames, EventReply } from '../protocol/event-map.js';
import type { HistoryReply, JoinReply, PresenceMember, StreamPosition } from '../protocol/frames.js';
import type { TransportKind } from './client-transport.js';
import type { ChangeDetails, ConnectionReason, ConnectionState, StateChange } from './connection-state.js';
import type { NamespaceOptions } from './options.js';

/** Payload of the `reconnecting` event: a retry is scheduled. */
export interface ReconnectInfo {
  /** 1 for the first retry after a drop or failed attempt; reset by a successful handshake. */
  attempt: number;
  /** How long the client waits before the attempt (full-jitter backoff). */
  delay: number;
  reason: ConnectionReason;
}

/** Payload of the `recovery` event: a durable room was rejoined after a reconnect. */
export interface RecoveryInfo {
  room: string;
  /**
   * true: every publication missed while away was replayed to the handlers, in order, before
   * this event. false: the gap is no longer in the server's history (or its epoch changed),
   * nothing was replayed, and the app must reload that room's state.
   */
  recovered: boolean;
  /** The room's stream position after the replay, now tracked by the client. */
  position: StreamPosition;
}

/**
 * Payload of the `presence` event: in a room with presence tracking that this namespace is
 * in, a user came in (their first connection, on any node) or left (their last one).
 * Several tabs of one user are one member: no event for the second tab, none until the last goes.
 */
export interface PresenceEvent {
  room: string;
  kind: 'join' | 'leave';
  user: string;
  /** What the server tells about the user (from their first connection); null if nothing. */
  info: unknown;
}

/** Payload of the `connect` event. */
export interface ConnectInfo {
  /**
   * true: the server resumed the session (same `id`): this namespace kept its rooms, replies
   * to requests sent before the drop arrive now, and the events sent meanwhile follow, in
   * order. false: a new session: rooms were joined again (durable rooms recover with
   * `since`, see `recovery`), and requests sent before the drop failed with `disconnected`.
   */
  resumed: boolean;
}

/** Lifecycle events. Their names are reserved by the protocol, so app events never collide with them. */
export interface ClientLifecycleEvents {
  /** The namespace is connected: its rooms' joins (unless a resumed session kept them) and buffered emits are on their way, in that order. */
  connect: (info: ConnectInfo) => void;
  /** The namespace stopped being connected; `state` says whether a reconnect follows. */
  disconnect: (reason: ConnectionReason, details: ChangeDetails) => void;
  /** An attempt failed before connecting: open failure, handshake or namespace refused, timeout. */
  connect_error: (error: SwitchboardError) => void;
  /** Every state change, with its reason. */
  state: (change: StateChange) => void;
  /** A reconnect attempt is scheduled after `delay`. */
  reconnecting: (info: ReconnectInfo) => void;
  /** A durable room was rejoined after a reconnect; `recovered` false ⇒ reload that room's state. */
  recovery: (info: RecoveryInfo) => void;
  /** A user came into or left a joined room with presence tracking (see PresenceEvent). */
  presence: (event: PresenceEvent) => void;
  /**
   * Problems that leave the connection up: an error frame from the server, a buffered
   * emit refused at flush time, a room refused on rejoin, a request handler that threw.
   */
  error: (error: Error) => void;
}

export type LifecycleEventName = keyof ClientLifecycleEvents;

/**
 * A lifecycle listener. A `connect` listener may also take no argument at all, so code
 * written before `connect` had a payload (e.g. a Promise<void>'s resolve) still fits.
 */
export type LifecycleListener<E extends LifecycleEventName> = ClientLifecycleEvents[E] | (E extends 'connect' ? () => void : never);

/** Extra facts about an incoming event. */
export interface EventMeta {
  /** The room the server published to, when it published to exactly one. */
  room?: string;
  /** The publication's stream position, for events of durable rooms. */
  position?: StreamPosition;
}

/** App event names of a map, without the reserved lifecycle names. */
export type AppEventNames<M extends EventMap> = Exclude<EventNames<M>, LifecycleEventName>;

/**
 * A catch-all listener (`onAny`): called with the name, data and meta of every app event the
 * namespace delivers, requests from the server included. With a typed event map `event` is
 * one of its names; `data` is `unknown` (compare `event`, then cast). What it returns is
 * ignored: only a per-event handler answers a request.
 */
export type AnyEventListener<M extends EventMap = AnyEvents> = (event: AppEventNames<M>, data: unknown, meta: EventMeta) => void;

/** A handler of a server event; what it returns (or resolves to) answers a server request. */
export type EventHandler<M extends EventMap, E extends keyof M> = (
  data: EventData<M, E>,
  meta: EventMeta,
) => EventReply<M, E> | Promise<EventReply<M, E>>;

/** `data` may be left out when the event's data type admits undefined. */
export type DataArgs<M extends EventMap, E extends keyof M> = undefined extends EventData<M, E>
  ? [data?: EventData<M, E>]
  : [data: EventData<M, E>];

export interface JoinOptions {
  /**
   * Join from this position (e.g. the one saved with state loaded from a database): a durable
   * room replays every publication after it before the join resolves. Overrides the position
   * the client tracks for the room, for this join.
   */
  since?: StreamPosition;
}

export interface HistoryOptions {
  /** Only publications after this position. Without it: the latest `limit` publications. */
  since?: StreamPosition;
  /** At most this many publications, 1 to 1000 (the server's default is 100). */
  limit?: number;
}

export interface AckOptions {
  /** Milliseconds to wait for the reply, counted from the call (default: the client's ackTimeout). */
  timeout?: number;
}

export interface ReliableOptions {
  /**
   * Milliseconds to wait for the server's acknowledgement, counted from the call; then the
   * promise rejects with `timeout` and the publish leaves the outbox (it may still have run).
   * Default: no timeout; the outbox limit bounds what waits.
   */
  timeout?: number;
}

/**
 * Publishes the server handles exactly once: each waits in the client's outbox until the
 * server answers it, survives reconnects, and is re-sent with its sequence number after a
 * resumed session so the server's handler does not run twice.
 */
export interface ReliableEmitter<C extends EventMap> {
  /**
   * Publish and resolve with the handler's reply. While disconnected the publish waits; after
   * a resumed session every unacknowledged one is re-sent, in order. Rejects with the
   * server's error code, or `buffer_full` (outbox full; nothing is dropped silently),
   * `unconfirmed` (it was sent, then the server lost the session: whether the handler ran is
   * unknown), `timeout` (only with options.timeout), `message_too_big`, `bad_request`,
   * `unserializable` or `closed`.
   */
  emit<E extends AppEventNames<C>>(event: E, ...args: [...DataArgs<C, E>, ReliableOptions?]): Promise<EventReply<C, E>>;
}

/** Emits that are dropped, not buffered, when they cannot go out at once: not connected, or held back by the pacing (cursor positions, typing...). */
export interface VolatileEmitter<C extends EventMap> {
  emit<E extends AppEventNames<C>>(event: E, ...args: DataArgs<C, E>): void;
}

/**
 * A client bound to one namespace. `ServerEvents` types what the server sends (and the
 * replies this client gives to server requests); `ClientEvents` types what this client
 * emits and the replies it gets.
 */
export interface SwitchboardClient<ServerEvents extends EventMap = AnyEvents, ClientEvents extends EventMap = AnyEvents> {
  /** The namespace this handle is bound to. */
  readonly namespace: string;
  readonly state: ConnectionState;
  /** True while `state` is 'connected'. */
  readonly connected: boolean;
  /**
   * The session id from the last welcome; undefined while not connected. The same after a
   * resumed session (see the `connect` event's `resumed`), a new one after a new session.
   */
  readonly id: string | undefined;
  /**
   * The user the server's middleware set for this namespace's socket (`socket.user`), from
   * the last welcome (or, for a `client.of()` namespace, its `connect` reply); undefined
   * before the first, or when the server set none. Kept while reconnecting. Its user room
   * is `userRoom(client.user)`, the one `#user:` room this client may join.
   */
  readonly user: string | undefined;
  /**
   * What carries the session while connected: 'websocket', or 'sse' / 'polling' where a
   * WebSocket does not get through (until the upgrade moves it onto one); undefined otherwise.
   */
  readonly transport: TransportKind | undefined;
  /** Rooms asked for with join() and not left: the ones rejoined after a reconnect. */
  readonly rooms: ReadonlySet<string>;

  on<E extends LifecycleEventName>(event: E, listener: LifecycleListener<E>): this;
  on<E extends AppEventNames<ServerEvents>>(event: E, handler: EventHandler<ServerEvents, E>): this;
  once<E extends LifecycleEventName>(event: E, listener: LifecycleListener<E>): this;
  once<E extends AppEventNames<ServerEvents>>(event: E, handler: EventHandler<ServerEvents, E>): this;
  /** Remove one listener, or all listeners of the event when none is given. */
  off<E extends LifecycleEventName>(event: E, listener?: LifecycleListener<E>): this;
  off<E extends AppEventNames<ServerEvents>>(event: E, handler?: EventHandler<ServerEvents, E>): this;
  /**
   * Listen to every app event this namespace delivers, whatever its name: exactly once per
   * event the per-event listeners get (after durable rooms' duplicates are dropped), with the
   * same data and meta, and before them. Requests from the server come too; the listener's
   * return value is ignored (a per-event handler answers). Lifecycle events (`connect`,
   * `state`, `error`, ...) never reach it.
   */
  onAny(listener: AnyEventListener<ServerEvents>): this;
  /** Remove one catch-all listener (its first registration), or all of them when none is given. */
  offAny(listener?: AnyEventListener<ServerEvents>): this;

  /**
   * Send an event. While not connected, or while the pacing holds frames back to stay under
   * the server's announced rate, it is buffered and sent in order.
   * Throws `buffer_full`, `message_too_big`, `bad_request` (reserved or invalid name),
   * `unserializable` or `closed` synchronously: an emit is never dropped silently.
   */
  emit<E extends AppEventNames<ClientEvents>>(event: E, ...args: DataArgs<ClientEvents, E>): void;
  /** Emits dropped instead of buffered when they cannot go out at once. */
  readonly volatile: VolatileEmitter<ClientEvents>;
  /** Publishes acknowledged by the server and handled exactly once, across reconnects (see ReliableEmitter). */
  readonly reliable: ReliableEmitter<ClientEvents>;
  /**
   * Send a request and await the server's reply. Buffered like emit() while not connected.
   * Rejects with the server's error code, or `timeout`, `disconnected` (the connection
   * dropped after sending and the session was not resumed, or reconnecting stopped),
   * `closed`, `buffer_full`, `message_too_big`. A request sent just before a network cut
   * may never have reached the server: after a resume it waits for its timeout. Use
   * `reliable.emit` for publishes that must be handled exactly once.
   */
  emitWithAck<E extends AppEventNames<ClientEvents>>(
    event: E,
    ...args: [...DataArgs<ClientEvents, E>, AckOptions?]
  ): Promise<EventReply<ClientEvents, E>>;

  /**
   * Join a room; rejoined automatically after every reconnect until leave(). Resolves with
   * the server's reply when it confirms (`durable`, `position` and, when `since` was sent,
   * `recovered` for durable rooms); rejects with its code (e.g. `forbidden`, and the room is
   * dropped) or `timeout` after ackTimeout (the room stays subscribed).
   *
   * For a durable room the client tracks the last position seen, drops publications it has
   * already seen, and rejoins with `since` after a reconnect (see the `recovery` event).
   */
  join(room: string, options?: JoinOptions): Promise<JoinReply>;
  /** Leave a room, stop rejoining it and forget its position. Leaving a room you are not in is fine. */
  leave(room: string): Promise<void>;
  /**
   * Read a durable room's history (oldest first). Buffered like emitWithAck() while not
   * connected. Rejects with the server's code: `not_durable`, `unrecoverable` (`since` is no
   * longer in history, or from another epoch), `forbidden`, or `timeout`, `disconnected`, `closed`.
   */
  history(room: string, options?: HistoryOptions): Promise<HistoryReply>;
  /**
   * The users present in a room with presence tracking, on every node, sorted by user. Buffered
   * like emitWithAck() while not connected. Rejects with the server's code:
   * `presence_not_tracked`, `forbidden` (not in the room and not allowed to join it),
   * `cluster_unavailable`, or `timeout`, `disconnected`, `closed`. Follow changes with the
   * `presence` event after join().
   */
  presence(room: string): Promise<PresenceMember[]>;
  /** The last stream position seen in a joined durable room; undefined for other rooms. */
  position(room: string): StreamPosition | undefined;

  /** A handle for another namespace on the same connection (the same handle for the same namespace). */
  of<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents>(namespace: string, options?: NamespaceOptions): SwitchboardClient<S, C>;
  /** Try now: skip the backoff wait, or retry after a stop (refused auth, server disconnect, exhausted retries). */
  reconnectNow(): void;
  /**
   * Disconnect with reason `client_closed` and reject pending requests and reliable publishes
   * with `closed`. On the handle connect() returned this closes the connection (code 1000,
   * which ends the server session; no resume after it) and every namespace; on an of() handle
   * it leaves only that namespace.
   */
  close(): void;
}
