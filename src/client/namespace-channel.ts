import { encodeFrame, utf8ByteLength } from '../protocol/codec.js';
import { RESERVED_EVENTS, ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type {
  EventFrame,
  HistoryFrame,
  HistoryReply,
  JoinFrame,
  JoinReply,
  PositionFrame,
  PresenceFrame,
  PresenceMember,
  PresenceReply,
  PresenceRequestFrame,
  StreamPosition,
} from '../protocol/frames.js';
import { assertEventName, limitError, nameError, positionError } from './argument-checks.js';
import type { EventMeta, HistoryOptions, JoinOptions, PresenceEvent, ReconnectInfo } from './client-events.js';
import { closedError } from './client-errors.js';
import type { Connection } from './connection.js';
import { type ChangeDetails, ConnectionReason, ConnectionState } from './connection-state.js';
import { Emitter } from './emitter.js';
import { encodeReply, runRequestHandler } from './incoming-requests.js';
import type { NamespaceMember } from './namespace-member.js';
import { NamespaceSender } from './namespace-sender.js';
import type { AuthOption } from './options.js';
import { RoomSubscriptions } from './room-subscriptions.js';

/**
 * Everything about one namespace on the connection: its state, listeners, offline
 * buffer, rooms and requests. SwitchboardClient is the typed face of it.
 */
export class NamespaceChannel implements NamespaceMember {
  readonly emitter = new Emitter(reportListenerError);
  /** How its frames go out in order: direct, buffered, or from the outbox. */
  private readonly sender: NamespaceSender;
  private readonly roomSet: RoomSubscriptions;
  private current: ConnectionState = ConnectionState.Disconnected;
  private nsConnected = false;
  /** The server session holds this namespace (see NamespaceMember.inSession). */
  private heldBySession = false;
  private stopped = false;
  private closed = false;
  /** The public handle, created once so of() returns the same object for the same namespace. */
  handle: unknown;
  user: string | undefined;

  constructor(
    readonly connection: Connection,
    readonly namespace: string,
    readonly auth: AuthOption,
  ) {
    this.sender = new NamespaceSender(connection, namespace, connection.options.bufferLimit, () => this.nsConnected, (error) => this.emitter.emit('error', error));
    this.roomSet = new RoomSubscriptions(
      {
        isConnected: () => this.nsConnected,
        join: (room, since, onReply) => {
          const frame: JoinFrame = { type: 'join', ref: 0, room };
          if (since) frame.since = since;
          return this.sender.roomRequest(frame, Number.POSITIVE_INFINITY, onReply);
        },
        leave: (room, timeoutMs) => this.sender.roomRequest({ type: 'leave', ref: 0, room }, timeoutMs),
        reportError: (error) => this.emitter.emit('error', error),
        recovered: (info) => this.emitter.emit('recovery', info),
      },
      connection.options.ackTimeout,
    );
  }

  get state(): ConnectionState {
    return this.current;
  }

  get isPrimary(): boolean {
    return this.namespace === this.connection.options.namespace;
  }

  get rooms(): ReadonlySet<string> {
    return this.roomSet.rooms;
  }

  // ---- app-facing operations -------------------------------------------------------

  emit(event: string, data: unknown): void {
    this.assertOpen();
    assertEventName(event);
    const text = encodeFrame(this.eventFrame(event, data));
    const bytes = utf8ByteLength(text);
    const tooBig = this.sender.sizeError(this.sender.wireBytes(text, bytes));
    if (tooBig) throw tooBig;
    this.sender.emit(text, bytes);
  }

  /**
   * Send only if it can go right now: connected, nothing waiting before it, within the rate.
   * Otherwise drop (that is the point of volatile).
   */
  emitVolatile(event: string, data: unknown): void {
    this.assertOpen();
    assertEventName(event);
    if (!this.sender.canSendNow) return;
    const text = encodeFrame(this.eventFrame(event, data));
    const tooBig = this.sender.sizeError(this.sender.wireBytes(text, utf8ByteLength(text)));
    if (tooBig) throw tooBig;
    this.connection.outbound.sendNow(text);
  }

  request(event: string, data: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(closedError());
    try {
      assertEventName(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.sender.request(`"${event}"`, (ref) => this.eventFrame(event, data, ref), timeoutMs, false);
  }

  /**
   * A reliable publish: it waits in the connection's outbox until the server answers, goes
   * out (again) whenever the namespace is connected, and its handler runs once on the server.
   * Settles with the reply, the server's error, `timeout` (only with a finite timeout),
   * `unconfirmed` (sent, then the session was lost), `buffer_full`, `message_too_big` or `closed`.
   */
  reliableEmit(event: string, data: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(closedError());
    try {
      assertEventName(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.sender.reliable(`reliable publish "${event}"`, (ref) => this.eventFrame(event, data, ref), timeoutMs);
  }

  history(room: string, options: HistoryOptions): Promise<HistoryReply> {
    if (this.closed) return Promise.reject(closedError());
    const invalid = nameError('room', room) ?? positionError('since', options.since) ?? limitError(options.limit);
    if (invalid) return Promise.reject(invalid);
    const build = (ref: number): HistoryFrame => {
      const frame: HistoryFrame = { type: 'history', ref, room };
      if (this.namespace !== ROOT_NAMESPACE) frame.ns = this.namespace;
      if (options.since) frame.since = { epoch: options.since.epoch, offset: options.since.offset };
      if (options.limit !== undefined) frame.limit = options.limit;
      return frame;
    };
    // Reading history twice does no harm, so a history request is re-sent when the session resumes.
    return this.sender.request(`history("${room}")`, build, this.connection.options.ackTimeout, true) as Promise<HistoryReply>;
  }

  presence(room: string): Promise<PresenceMember[]> {
    if (this.closed) return Promise.reject(closedError());
    const invalid = nameError('room', room);
    if (invalid) return Promise.reject(invalid);
    const build = (ref: number): PresenceRequestFrame => {
      const frame: PresenceRequestFrame = { type: 'presence', ref, room };
      if (this.namespace !== ROOT_NAMESPACE) frame.ns = this.namespace;
      return frame;
    };
    // Asking twice does no harm, so the request is re-sent when the session resumes.
    const reply = this.sender.request(`presence("${room}")`, build, this.connection.options.ackTimeout, true);
    return reply.then((data) => (data as PresenceReply).members);
  }

  position(room: string): StreamPosition | undefined {
    return this.roomSet.position(room);
  }

  join(room: string, options: JoinOptions = {}): Promise<JoinReply> {
    if (this.closed) return Promise.reject(closedError());
    const invalid = nameError('room', room) ?? positionError('since', options.since);
    if (invalid) return Promise.reject(invalid);
    return this.roomSet.join(room, options.since);
  }

  leave(room: string): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    const invalid = nameError('room', room);
    if (invalid) return Promise.reject(invalid);
    return this.roomSet.leave(room);
  }

  /** The channel of another namespace on the same connection, created on first use. */
  channelFor(namespace: string, auth: AuthOption): NamespaceChannel {
    if (this.connection.isClosed) throw closedError();
    const existing = this.connection.member(namespace);
    if (existing instanceof NamespaceChannel) return existing;
    const channel = new NamespaceChannel(this.connection, namespace, auth);
    this.connection.add(channel);
    return channel;
  }

  reconnectNow(): void {
    this.assertOpen();
    this.stopped = false;
    this.connection.reconnectNow(this);
  }

  close(): void {
    if (this.closed) return;
    if (this.isPrimary) {
      this.connection.close(); // calls connectionClosed() on every channel, this one included
      return;
    }
    this.connection.remove(this);
    this.sender.failAll(closedError());
    this.connectionClosed();
  }

  // ---- NamespaceMember: called by the connection --------------------------------------

  get wantsConnection(): boolean {
    return !this.stopped && !this.closed;
  }

  get isNamespaceConnected(): boolean {
    return this.nsConnected;
  }

  get inSession(): boolean {
    return this.heldBySession;
  }

  namespaceReady(reason: ConnectionReason, resumed: boolean): void {
    if (this.closed) return;
    this.stopped = false;
    this.nsConnected = true;
    this.heldBySession = true;
    // Rooms before buffered emits, and both before `connect` listeners run, so the server sees
    // the app's frames in the order the app made them. Reliable publishes that never went out
    // follow (those sent before a resume were re-sent with the welcome). All of them queue in
    // that order in the connection's pacing, which sends them as fast as the server allows.
    this.sender.connected();
    if (resumed) this.roomSet.resume();
    else this.roomSet.rejoin();
    this.sender.flush();
    if (this.closed) return; // an `error` listener called during the flush may close the client
    this.transition(ConnectionState.Connected, reason, { resumed });
    if (this.current === ConnectionState.Connected) this.emitter.emit('connect', { resumed });
  }

  sessionEnded(): void {
    this.heldBySession = false;
    this.roomSet.sessionEnded();
  }

  connectionChanged(state: typeof ConnectionState.Connecting | typeof ConnectionState.Disconnected, reason: ConnectionReason, details: ChangeDetails): void {
    if (this.closed) return;
    this.nsConnected = false;
    // A namespace the server refused or let go stays disconnected until reconnectNow().
    if (this.stopped && state === ConnectionState.Connecting) return;
    this.transition(state, reason, details);
  }

  connectFailed(error: SwitchboardError): void {
    if (this.wantsConnection) this.emitter.emit('connect_error', error);
  }

  refused(error: SwitchboardError): void {
    if (this.closed) return;
    if (error.code === ErrorCode.ShuttingDown) return; // the 1001 close that follows brings a reconnect
    this.stopped = true;
    this.nsConnected = false;
    this.heldBySession = false;
    this.transition(ConnectionState.Disconnected, refusalReason(error.code), { error });
    this.emitter.emit('connect_error', error);
  }

  reconnecting(info: ReconnectInfo): void {
    if (this.wantsConnection) this.emitter.emit('reconnecting', info);
  }

  receiveEvent(frame: EventFrame): void {
    if (RESERVED_EVENTS.has(frame.event)) {
      // A lifecycle listener must never be triggered by a peer.
      if (frame.ref !== undefined) this.sendReplyError(frame.ref, ErrorCode.BadRequest, `"${frame.event}" is a reserved event name`);
      return;
    }
    const meta: EventMeta = frame.room === undefined ? {} : { room: frame.room };
    if (frame.position !== undefined) meta.position = frame.position;
    if (frame.ref === undefined) {
      // A publication of a durable room the client has already seen (a replay overlapping live delivery).
      if (frame.room !== undefined && frame.position !== undefined && !this.roomSet.accept(frame.room, frame.position)) return;
      // onAny listeners first, as in Socket.IO: a listener one of them adds hears this event too.
      this.emitter.emitAny(frame.event, frame.data, meta);
      this.emitter.emit(frame.event, frame.data, meta);
      return;
    }
    // Before answer() takes the handlers, so a handler an onAny listener adds answers this request.
    this.emitter.emitAny(frame.event, frame.data, meta);
    void this.answer(frame.ref, frame.event, frame.data, meta);
  }

  /**
   * A publication of a durable room that left this client out (`except`, `socket.to`): no
   * handler runs, but the room's tracked position moves past it as if the event had come, so
   * a rejoin with `since` neither replays it nor sees a gap. Out of order, it is handled as an
   * event would be (a repeat is ignored, a gap rejoins the room).
   */
  receivePosition(frame: PositionFrame): void {
    this.roomSet.accept(frame.room, frame.position);
  }

  receivePresence(frame: PresenceFrame): void {
    const event: PresenceEvent = { room: frame.room, kind: frame.kind, user: frame.user, info: frame.info ?? null };
    this.emitter.emit('presence', event);
  }

  receiveError(error: SwitchboardError): void {
    this.emitter.emit('error', error);
  }

  serverDisconnected(): void {
    if (this.closed) return;
    this.stopped = true;
    this.nsConnected = false;
    this.heldBySession = false;
    this.roomSet.sessionEnded();
    // Requests of this namespace fail; reliable publishes keep waiting, since the session still answers them.
    this.sender.failOnWire(new SwitchboardError(ErrorCode.Disconnected, `the server disconnected namespace ${this.namespace} before the reply arrived`));
    this.transition(ConnectionState.Disconnected, ConnectionReason.ServerDisconnect, {});
  }

  connectionClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.nsConnected = false;
    this.sender.clear();
    this.roomSet.clear(closedError());
    this.transition(ConnectionState.Disconnected, ConnectionReason.ClientClosed, {});
  }

  // ---- internals ---------------------------------------------------------------------

  private async answer(ref: number, event: string, data: unknown, meta: EventMeta): Promise<void> {
    const send = this.connection.replySender();
    const [handler, ...others] = this.emitter.take(event);
    // Every listener hears the request; only the first one's result is the reply.
    for (const other of others) this.emitter.call(other, [data, meta]);
    const outcome = await runRequestHandler(handler, event, [data, meta]);
    if (!outcome.ok && outcome.thrown !== undefined) {
      this.emitter.emit('error', outcome.thrown instanceof Error ? outcome.thrown : new Error(String(outcome.thrown)));
    }
    send(encodeReply(ref, outcome, this.connection.maxMessageBytes, (text) => this.connection.frameBytes(text)));
  }

  private sendReplyError(ref: number, code: string, message: string): void {
    this.connection.outbound.send(encodeFrame({ type: 'reply', ref, error: { code, message } }), 'reply');
  }

  private transition(next: ConnectionState, reason: ConnectionReason, details: ChangeDetails): void {
    const previous = this.current;
    if (next === previous) return;
    this.current = next;
    this.emitter.emit('state', { state: next, previous, reason, ...details });
    if (previous === ConnectionState.Connected) this.emitter.emit('disconnect', reason, details);
  }

  private eventFrame(event: string, data: unknown, ref?: number): EventFrame {
    const frame: EventFrame = { type: 'event', event, data };
    if (this.namespace !== ROOT_NAMESPACE) frame.ns = this.namespace;
    if (ref !== undefined) frame.ref = ref;
    return frame;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function refusalReason(code: string): ConnectionReason {
  if (code === ErrorCode.UnknownNamespace) return ConnectionReason.UnknownNamespace;
  if (code === ErrorCode.Timeout) return ConnectionReason.ConnectTimeout;
  return ConnectionReason.Unauthorized;
}

/**
 * A listener threw: rethrow it outside the SDK's call stack, as the DOM does for event
 * listeners, so the bug is seen (uncaught) while the connection's bookkeeping stays intact.
 */
function reportListenerError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
