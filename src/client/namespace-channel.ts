import { encodeFrame, utf8ByteLength } from '../protocol/codec.js';
import { MAX_HISTORY_LIMIT, MAX_NAME_LENGTH, RESERVED_EVENTS, ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type {
  ClientFrame,
  EventFrame,
  HistoryFrame,
  HistoryReply,
  JoinFrame,
  JoinReply,
  LeaveFrame,
  PositionFrame,
  PresenceFrame,
  PresenceMember,
  PresenceReply,
  PresenceRequestFrame,
  StreamPosition,
} from '../protocol/frames.js';
import type { EventMeta, HistoryOptions, JoinOptions, PresenceEvent, ReconnectInfo } from './client-events.js';
import { closedError } from './client-errors.js';
import type { Connection } from './connection.js';
import { type ChangeDetails, ConnectionReason, ConnectionState } from './connection-state.js';
import { type BufferedFrame, EmitBuffer } from './emit-buffer.js';
import { Emitter } from './emitter.js';
import { encodeReply, runRequestHandler } from './incoming-requests.js';
import type { NamespaceMember } from './namespace-member.js';
import type { AuthOption } from './options.js';
import type { OutboxEntry } from './reliable-outbox.js';
import { isStreamPosition, RoomSubscriptions } from './room-subscriptions.js';

/**
 * Everything about one namespace on the connection: its state, listeners, offline
 * buffer, rooms and requests. SwitchboardClient is the typed face of it.
 */
export class NamespaceChannel implements NamespaceMember {
  readonly emitter = new Emitter(reportListenerError);
  private readonly buffer: EmitBuffer;
  private readonly roomSet: RoomSubscriptions;
  /** Refs of this namespace's requests, buffered or on the wire. */
  private readonly requests = new Set<number>();
  private current: ConnectionState = ConnectionState.Disconnected;
  private nsConnected = false;
  /** The server session holds this namespace (see NamespaceMember.inSession). */
  private heldBySession = false;
  private stopped = false;
  private closed = false;
  /**
   * Bumped whenever the namespace becomes connected: frames of its buffer and outbox queued
   * for an earlier connection are not sent by that queue entry (they wait for this flush).
   */
  private epoch = 0;
  /** The public handle, created once so of() returns the same object for the same namespace. */
  handle: unknown;

  constructor(
    readonly connection: Connection,
    readonly namespace: string,
    readonly auth: AuthOption,
  ) {
    this.buffer = new EmitBuffer(connection.options.bufferLimit);
    this.roomSet = new RoomSubscriptions(
      {
        isConnected: () => this.nsConnected,
        join: (room, since, onReply) => {
          const frame: JoinFrame = { type: 'join', ref: 0, room };
          if (since) frame.since = since;
          return this.roomRequest(frame, Number.POSITIVE_INFINITY, onReply);
        },
        leave: (room, timeoutMs) => this.roomRequest({ type: 'leave', ref: 0, room }, timeoutMs),
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
    const tooBig = this.sizeError(bytes);
    if (tooBig) throw tooBig;
    if (this.canSendNow() && this.connection.outbound.sendNow(text)) return;
    // Offline, or held back by the pacing: either way it waits in the buffer, which bounds both.
    const entry: BufferedFrame = { text, bytes };
    this.buffer.push(entry);
    this.scheduleBuffered(entry);
  }

  /**
   * Send only if it can go right now: connected, nothing waiting before it, within the rate.
   * Otherwise drop (that is the point of volatile).
   */
  emitVolatile(event: string, data: unknown): void {
    this.assertOpen();
    assertEventName(event);
    if (!this.canSendNow()) return;
    const text = encodeFrame(this.eventFrame(event, data));
    const tooBig = this.sizeError(utf8ByteLength(text));
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
    return this.bufferedRequest(`"${event}"`, (ref) => this.eventFrame(event, data, ref), timeoutMs, false);
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
    const outbox = this.connection.outbox;
    const { ref, reply } = this.connection.requests.create(timeoutMs, `reliable publish "${event}"`);
    this.track(ref, reply);
    try {
      const frame = encodeFrame(this.eventFrame(event, data, ref));
      const tooBig = this.sizeError(outbox.sizeWithSeq(frame));
      if (tooBig) throw tooBig;
      outbox.add(ref, this.namespace, frame);
    } catch (error) {
      this.connection.requests.fail(ref, error as SwitchboardError);
      return reply;
    }
    // Out of the outbox however it ends: answered, timed out, unconfirmed or closed.
    const remove = (): void => outbox.remove(ref);
    reply.then(remove, remove);
    const entry = outbox.get(ref);
    if (entry) this.scheduleReliable(entry);
    return reply;
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
    return this.bufferedRequest(`history("${room}")`, build, this.connection.options.ackTimeout, true) as Promise<HistoryReply>;
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
    const reply = this.bufferedRequest(`presence("${room}")`, build, this.connection.options.ackTimeout, true);
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
    for (const ref of [...this.requests]) this.connection.requests.fail(ref, closedError());
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
    this.epoch++;
    if (resumed) this.roomSet.resume();
    else this.roomSet.rejoin();
    this.flush();
    this.sendReliable();
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
    if (frame.pos !== undefined) meta.pos = frame.pos;
    if (frame.ref === undefined) {
      // A publication of a durable room the client has already seen (a replay overlapping live delivery).
      if (frame.room !== undefined && frame.pos !== undefined && !this.roomSet.accept(frame.room, frame.pos)) return;
      this.emitter.emit(frame.event, frame.data, meta);
      return;
    }
    void this.answer(frame.ref, frame.event, frame.data, meta);
  }

  /**
   * A publication of a durable room that left this client out (`except`, `socket.to`): no
   * handler runs, but the room's tracked position moves past it as if the event had come, so
   * a rejoin with `since` neither replays it nor sees a gap. Out of order, it is handled as an
   * event would be (a repeat is ignored, a gap rejoins the room).
   */
  receivePosition(frame: PositionFrame): void {
    this.roomSet.accept(frame.room, frame.pos);
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
    this.connection.requests.failOnWire(
      new SwitchboardError(ErrorCode.Disconnected, `the server disconnected namespace ${this.namespace} before the reply arrived`),
      this.requests,
    );
    this.transition(ConnectionState.Disconnected, ConnectionReason.ServerDisconnect, {});
  }

  connectionClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.nsConnected = false;
    this.buffer.clear();
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
    send(encodeReply(ref, outcome, this.connection.maxMessageBytes));
  }

  private sendReplyError(ref: number, code: string, message: string): void {
    this.connection.outbound.send(encodeFrame({ type: 'reply', ref, error: { code, message } }), 'reply');
  }

  /**
   * A request that waits in the offline buffer, in order with emits, when it cannot go out now.
   * `resend`: it may run twice on the server, so a resumed session gets it again.
   */
  private bufferedRequest(describe: string, build: (ref: number) => ClientFrame, timeoutMs: number, resend: boolean): Promise<unknown> {
    const { ref, reply } = this.connection.requests.create(timeoutMs, describe);
    this.track(ref, reply);
    let text: string;
    try {
      text = encodeFrame(build(ref));
    } catch (error) {
      this.connection.requests.fail(ref, error as SwitchboardError);
      return reply;
    }
    const bytes = utf8ByteLength(text);
    const tooBig = this.sizeError(bytes);
    if (tooBig) {
      this.connection.requests.fail(ref, tooBig);
      return reply;
    }
    if (this.canSendNow() && this.connection.outbound.sendRequestNow(ref, text, resend ? { resend: text } : {})) return reply;
    const entry: BufferedFrame = resend ? { text, bytes, ref, resend } : { text, bytes, ref };
    try {
      this.buffer.push(entry);
    } catch (error) {
      this.connection.requests.fail(ref, error as SwitchboardError);
      return reply;
    }
    // A request that times out while buffered must not be sent later, nor hold buffer space.
    const unbuffer = (): void => {
      this.buffer.remove(entry);
    };
    reply.then(unbuffer, unbuffer);
    this.scheduleBuffered(entry);
    return reply;
  }

  /** Send a join or leave now (not buffered: rooms are replayed by rejoin() on the next connection). `frame.ref` is assigned here. */
  private roomRequest(frame: JoinFrame | LeaveFrame, timeoutMs: number, onReply?: (data: unknown) => void): Promise<unknown> {
    const describe = `${frame.type}("${frame.room}")`;
    const { ref, reply } = this.connection.requests.create(timeoutMs, describe, onReply);
    this.track(ref, reply);
    frame.ref = ref;
    if (this.namespace !== ROOT_NAMESPACE) frame.ns = this.namespace;
    const text = encodeFrame(frame);
    // Joining or leaving twice is harmless: a resumed session gets the frame again, same ref.
    // The server handles nothing else of the connection while a join is pending: `blocking`.
    if (!this.connection.outbound.sendRequest(ref, text, frame.type === 'join' ? 'blocking' : 'plain', { resend: text })) {
      this.connection.requests.fail(ref, new SwitchboardError(ErrorCode.Disconnected, `not connected: ${describe} could not be sent`));
    }
    return reply;
  }

  /** Queue every buffered frame, in order, on the connection that just connected the namespace. */
  private flush(): void {
    for (const entry of this.buffer.all()) this.scheduleBuffered(entry);
  }

  /**
   * Queue a buffered frame on the connection (when connected; otherwise the next flush
   * does). It leaves the buffer only when its turn comes, so the buffer bounds what the
   * pacing holds back too, and a frame still waiting when the socket goes is sent after
   * the next connect, like any buffered frame.
   */
  private scheduleBuffered(entry: BufferedFrame): void {
    if (!this.nsConnected) return;
    const epoch = this.epoch;
    this.connection.outbound.enqueue({ kind: 'plain', take: () => this.takeBuffered(entry, epoch) });
  }

  /** Its turn came: the text to send, or undefined when it no longer goes from this queue entry. */
  private takeBuffered(entry: BufferedFrame, epoch: number): string | undefined {
    // Entries go in buffer order, so a live one is first; one that timed out is gone from the buffer.
    if (epoch !== this.epoch || !this.nsConnected || this.buffer.peek() !== entry) return undefined;
    this.buffer.shift();
    const tooBig = this.sizeError(entry.bytes);
    if (tooBig) {
      // The limit is only known from a welcome, so a frame buffered before one can turn out too big.
      if (entry.ref !== undefined) this.connection.requests.fail(entry.ref, tooBig);
      else this.emitter.emit('error', tooBig);
      return undefined;
    }
    if (entry.ref !== undefined) this.connection.requests.sent(entry.ref, entry.resend ? { resend: entry.text, kind: 'plain' } : { kind: 'plain' });
    return entry.text;
  }

  /**
   * Queue this namespace's reliable publishes that have not gone out in this session, in
   * call order. Each takes the session's next sequence number when its turn comes.
   */
  private sendReliable(): void {
    for (const entry of this.connection.outbox.unsent(this.namespace)) this.scheduleReliable(entry);
  }

  private scheduleReliable(entry: OutboxEntry): void {
    if (!this.nsConnected) return;
    const epoch = this.epoch;
    this.connection.outbound.enqueue({ kind: 'plain', take: () => this.takeReliable(entry, epoch) });
  }

  private takeReliable(entry: OutboxEntry, epoch: number): string | undefined {
    const outbox = this.connection.outbox;
    // Answered, timed out or closed meanwhile; or sent already (an earlier queue entry of the same publish).
    if (epoch !== this.epoch || !this.nsConnected || entry.seq !== undefined || outbox.get(entry.ref) !== entry) return undefined;
    const text = outbox.stamp(entry);
    // The limit comes with each welcome, so it may have shrunk since the call.
    const tooBig = this.sizeError(utf8ByteLength(text));
    if (tooBig) {
      this.connection.requests.fail(entry.ref, tooBig);
      return undefined;
    }
    this.connection.requests.sent(entry.ref, { resend: text, reliable: true, kind: 'plain' });
    return text;
  }

  private transition(next: ConnectionState, reason: ConnectionReason, details: ChangeDetails): void {
    const previous = this.current;
    if (next === previous) return;
    this.current = next;
    this.emitter.emit('state', { state: next, previous, reason, ...details });
    if (previous === ConnectionState.Connected) this.emitter.emit('disconnect', reason, details);
  }

  private track(ref: number, reply: Promise<unknown>): void {
    this.requests.add(ref);
    const untrack = (): void => {
      this.requests.delete(ref);
    };
    reply.then(untrack, untrack);
  }

  /** Direct sends only when connected and nothing older waits in the buffer (offline or paced), so order holds. */
  private canSendNow(): boolean {
    return this.nsConnected && this.buffer.size === 0;
  }

  private sizeError(bytes: number): SwitchboardError | undefined {
    const max = this.connection.maxMessageBytes;
    if (max === undefined || bytes <= max) return undefined;
    return new SwitchboardError(ErrorCode.MessageTooBig, `message too big: ${bytes} bytes; the server accepts at most ${max} bytes`);
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

function nameError(what: string, name: unknown): SwitchboardError | undefined {
  if (typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME_LENGTH) return undefined;
  return new SwitchboardError(ErrorCode.BadRequest, `${what} name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
}

function positionError(what: string, value: unknown): SwitchboardError | undefined {
  if (value === undefined || isStreamPosition(value)) return undefined;
  return new SwitchboardError(ErrorCode.BadRequest, `${what} must be a stream position {epoch: string, offset: non-negative integer}`);
}

function limitError(limit: unknown): SwitchboardError | undefined {
  if (limit === undefined || (typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_HISTORY_LIMIT)) return undefined;
  return new SwitchboardError(ErrorCode.BadRequest, `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`);
}

function assertEventName(event: string): void {
  const invalid = nameError('event', event);
  if (invalid) throw invalid;
  if (RESERVED_EVENTS.has(event)) {
    throw new SwitchboardError(ErrorCode.BadRequest, `"${event}" is a reserved event name (lifecycle events cannot be emitted)`);
  }
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
