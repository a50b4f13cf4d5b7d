import { randomBytes } from 'node:crypto';
import { decodeClientFrame, encodeFrame, type DecodeResult } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { PROTOCOL_VERSION, ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type {
  ClientFrame,
  ConnectFrame,
  ErrorPayload,
  EventFrame,
  HelloFrame,
  ServerFrame,
  WelcomeFrame,
} from '../protocol/frames.js';
import { PendingReplies } from '../protocol/pending-replies.js';
import { replyTimers } from './reply-timers.js';
import type { SharedFrame } from '../transport/shared-frame.js';
import type { Transport, TransportHandlers, TransportRequestInfo } from '../transport/transport.js';
import type { DurableFeed } from './durable-feed.js';
import type { SessionSnapshot } from '../cluster/session-store.js';
import type { SessionSnapshots } from './session-snapshots.js';
import type { StoredReply } from '../delivery/dedupe-window.js';
import { parseCookies } from './cookies.js';
import type { Deadline, DeadlineClock } from './deadline-clock.js';
import { FrameRate } from './frame-rate.js';
import { heartbeatNow, type HeartbeatTarget } from './heartbeat.js';
import { EventDispatch } from './event-dispatch.js';
import { RoomRequests } from './room-requests.js';
import type { LoggedBroadcast, ResumeLog } from './resume-log.js';
import { ResumeFrames } from './resume-frames.js';
import { NamespaceSockets } from './namespace-sockets.js';
import { announcedLimits } from './announced-limits.js';
import { rejectionPayload } from './middleware.js';
import type { AnyNamespace } from './namespace.js';
import type { ResolvedOptions } from './options.js';
import { type AnySocket, DisconnectReason, type Handshake } from './socket.js';

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly options: ResolvedOptions;
  readonly closing: boolean;
  /** One timer for every socket's credential expiry and reauth deadline. */
  readonly deadlines: DeadlineClock;
  namespace(name: string): AnyNamespace | undefined;
  /** Durable rooms' deliveries on this node, in stream order; joins replay through it. */
  readonly feed: DurableFeed;
  /** This node's broadcasts, kept once for the sessions waiting to be resumed. */
  readonly resumeLog: ResumeLog;
  /** Where sessions are saved for other nodes to take over; undefined on a single node. */
  readonly snapshots: SessionSnapshots | undefined;
  /** This connection took over session `sid` from another node: it goes by that id now. */
  adopt(session: Session, sid: string, owner: string): void;
  /** Whether `id` is the id of a live session on this node (its private room must not be joinable by others). */
  hasSession(id: string): boolean;
  /** Whether `room` is the id of a live session anywhere in the cluster. */
  isSessionRoom(room: string): Promise<boolean>;
  /** The session a resume token belongs to, if it is still alive. */
  resumable(token: string): Session | undefined;
  /** Issue a new resume token for a session, retiring its previous one. */
  issueResumeToken(session: Session): string;
  /** Make a token taken over from another node resume `session` here; returns it. */
  adoptResumeToken(session: Session, token: string): string;
  retireResumeToken(session: Session, token: string): void;
  /** `why` is undefined for a connection that handed its transport to the session it resumed. */
  sessionClosed(session: Session, why?: DisconnectReason): void;
  /** The session waits to be resumed: it holds a connection's place (maxConnections, per IP) until released; `end` gives the place up. */
  holdPlace(session: Session, address: string, end: () => void): void;
  releasePlace(session: Session): void;
  requestStarted(): void;
  requestFinished(): void;
  reportError(err: unknown, context: Record<string, unknown>): void;
}

/** Free frames a client may send beyond what they answer (see Session.freeCredit). */
const FREE_CREDIT_MAX = 1000;

/** Volatile frames are skipped while more than this many bytes wait to be written. */
const VOLATILE_BUFFER_LIMIT = 64 * 1024;

/**
 * One client connection: the handshake, the namespaces it connected, its requests in
 * both directions and its liveness. Frames are processed in arrival order; while a
 * handshake, namespace connect or join is pending, later frames wait in a bounded queue.
 */
export class Session implements HeartbeatTarget, TransportHandlers {
  /**
   * Random, unguessable: it is also the name of each socket's private room. Changes only
   * when this connection takes over a session another node held (restoreFrom()).
   */
  id = newSessionId();
  lastSeen = heartbeatNow();
  lastPing = heartbeatNow();
  handshaken = false;
  /** The credential a client presents to resume this session; rotated on every resume. */
  resumeToken: string | undefined;
  /**
   * The token this connection resumed with, still accepted until the client shows it got
   * the new one (its first `ack`): a welcome lost with a link that died right after the
   * resume must not cost the client its session.
   */
  previousResumeToken: string | undefined;
  private transport: Transport | undefined;
  private readonly sockets = new NamespaceSockets<AnySocket>();
  // Created on first use, like the others below: an idle connection carries none of them.
  private pendingReplies: PendingReplies | undefined;
  /** The client's events and requests (event-dispatch.ts). */
  private events: EventDispatch | undefined;
  /** The client's joins, leaves, history and presence reads (room-requests.ts). */
  private rooms: RoomRequests | undefined;
  private helloAuth: unknown;
  /** The upgrade's cookies, parsed once for every namespace's handshake. */
  private cookies: Readonly<Record<string, string>> | undefined;
  /** Frames that arrived while a handshake, connect or join was pending. */
  private queue: { data: string; binary: boolean }[] | undefined;
  private busy = false;
  /** This connection's frame rate (`frameRate`); undefined when it is off. Moves with the connection on resume. */
  private frameRate: FrameRate | undefined;
  /** The first frame (the hello) has arrived: every later one counts against the rate. */
  private helloReceived = false;
  /**
   * The client sent a frame after its hello (the SDK acknowledges every welcome at once):
   * a session whose client never did is an abandoned connection, kept only `resume.silentTtl`.
   */
  private heardAfterHello = false;
  /**
   * Free frames (`pong`, `ack`, `reply`) the client may still send without a token: one per
   * frame the server sent (what they answer), up to FREE_CREDIT_MAX. Past it they take
   * tokens of the frame rate like any frame, so a flood of them is cut off as abuse.
   */
  private freeCredit = FREE_CREDIT_MAX;
  /** Client requests whose handlers are running (`maxPendingRequests`). */
  private pendingRequests = 0;
  private closed = false;
  /** Set when the server closes on purpose: the session ends with the connection. */
  private closeReason: DisconnectReason | undefined;
  /** Why the connection was lost, reported if the session is never resumed. */
  private lossReason: DisconnectReason | undefined;
  /** Frames sent since the first welcome and not yet acknowledged: what a resume replays. */
  private kept: ResumeFrames | undefined;
  /** Between a lost connection and a resume (or the end of the TTL). */
  private awaiting = false;
  /** The handshake timeout, then the resume TTL while awaiting: on the server's DeadlineClock, only while one runs. */
  private deadline: SessionDeadline | undefined;
  /** Another node took the session over. */
  private movedOut = false;
  /** The token this node took the session over with, until the client acknowledges the restoring welcome. */
  private restoredWith: string | undefined;

  constructor(
    private readonly host: SessionHost,
    transport: Transport,
    private info: TransportRequestInfo,
  ) {
    if (host.options.frameRate) this.frameRate = new FrameRate(host.options.frameRate);
    // One timer for all connections' handshake timeouts (and resume TTLs), not one each.
    this.scheduleDeadline(Date.now() + host.options.handshakeTimeout);
    this.bind(transport);
  }

  private scheduleDeadline(at: number): void {
    this.deadline ??= new SessionDeadline(this);
    this.host.deadlines.schedule(this.deadline, at);
  }

  private cancelDeadline(): void {
    if (this.deadline) this.host.deadlines.cancel(this.deadline);
    this.deadline = undefined;
  }

  /** @internal The deadline passed: the handshake did not complete, or the session was not resumed in time. */
  deadlinePassed(): void {
    this.deadline = undefined;
    if (this.closed) return;
    if (this.awaiting) this.end(this.lossReason ?? DisconnectReason.TransportClosed);
    else if (!this.handshaken) {
      this.fail(
        ErrorCode.HandshakeTimeout,
        `handshake not completed within ${this.host.options.handshakeTimeout} ms (no hello, or middleware did not decide)`,
        CloseCode.HandshakeTimeout,
      );
    }
  }

  private get pending(): PendingReplies {
    return (this.pendingReplies ??= new PendingReplies(replyTimers));
  }

  /**
   * Frames can be sent: the connection is up, or the session is waiting to be resumed.
   * Once frames are kept for resume, a connection that is closing still counts: what is
   * sent meanwhile never reaches the client but is kept and numbered, so a resume replays
   * it instead of leaving a silent hole.
   */
  get isOpen(): boolean {
    if (this.closed) return false;
    if (this.awaiting) return true;
    if (!this.transport) return false;
    return this.transport.isOpen || (this.kept !== undefined && this.closeReason === undefined);
  }

  /** The session has a connection (it is not waiting to be resumed). */
  get connected(): boolean {
    return !this.closed && this.transport !== undefined;
  }

  /** What carries the session now (`websocket`, `sse`, `polling`); undefined while it waits to be resumed. */
  get transportKind(): string | undefined {
    return this.closed ? undefined : this.transport?.kind;
  }

  /** Something another node could take over: handshaken and not ended. */
  get saveable(): boolean {
    return this.handshaken && !this.closed;
  }

  /** The tokens that resume this session now. */
  get tokens(): string[] {
    const tokens: string[] = [];
    if (this.resumeToken) tokens.push(this.resumeToken);
    if (this.previousResumeToken) tokens.push(this.previousResumeToken);
    return tokens;
  }

  /** What another node needs to take this session over (see SessionSnapshot). */
  snapshot(): SessionSnapshot {
    return { sid: this.id, namespaces: [...this.sockets.values()].map((s) => s.snapshot()), dedupe: this.events?.handledPublishes() ?? [] };
  }

  /** The session's snapshot is out of date (rooms, namespaces, tokens, handled publishes). */
  changed(): void {
    if (this.handshaken && !this.closed) this.host.snapshots?.changed(this);
  }

  /** Another node took this session over: end it here without telling the cluster it ended. */
  movedAway(): void {
    if (this.closed) return;
    this.movedOut = true;
    if (!this.transport) {
      this.end(DisconnectReason.TransportClosed);
      return;
    }
    this.fail(ErrorCode.SessionTakenOver, 'a newer connection resumed this session on another node', CloseCode.SessionTakenOver);
  }

  /** @internal Whether the session ended because another node took it over (its snapshot is that node's now). */
  get moved(): boolean {
    return this.movedOut;
  }

  /** A live, handshaken connection the heartbeat watches (not a session waiting to resume). */
  get watched(): boolean {
    return this.handshaken && this.transport !== undefined && !this.closed;
  }

  // --- transport events -------------------------------------------------------------

  // The transport handlers: `from` tells the current connection from one this session
  // replaced (its late events are ignored); calls from inside the session pass none.

  onFrame(data: string, binary: boolean, from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    // A flooder being closed keeps sending until the close lands: nothing of it is read.
    if (this.closed || this.closeReason === DisconnectReason.RateLimited) return;
    this.lastSeen = heartbeatNow();
    let decoded: DecodeResult<ClientFrame> | undefined;
    if (this.helloReceived) {
      this.heardAfterHello = true;
      if (this.frameRate) {
        decoded = binary ? undefined : decodeClientFrame(data);
        if (!this.withinRate(this.frameRate, decoded)) return;
      }
    }
    this.helloReceived = true;
    this.intake(data, binary, decoded);
  }

  /** A frame the rate let through: process it now, or queue it behind a pending handshake, connect or join. */
  private intake(data: string, binary: boolean, decoded?: DecodeResult<ClientFrame>): void {
    if (!this.busy) {
      this.process(data, binary, decoded);
      return;
    }
    const queue = (this.queue ??= []);
    if (queue.length >= this.host.options.maxQueuedFrames) {
      this.fail(ErrorCode.Overloaded, `more than ${this.host.options.maxQueuedFrames} frames sent while a handshake, connect or join was pending`, CloseCode.PolicyViolation);
      return;
    }
    queue.push({ data, binary });
  }

  onPong(from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    this.lastSeen = heartbeatNow();
  }

  /** The current connection closed (a replaced one's close is ignored). */
  onClose(code: number, _reason: string, from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    if (this.closed) return;
    this.transport = undefined;
    // 1000, 1001 (a tab closing) and 1005 (close() without a code) mean the client left on
    // purpose; anything else — 1006 from a dropped link, 4002, 4005 — may come back to resume.
    const leftOnPurpose = code === CloseCode.Normal || code === CloseCode.GoingAway || code === CloseCode.NoStatus;
    if (this.closeReason === undefined && !leftOnPurpose && this.handshaken && this.host.options.resume.ttl > 0) {
      this.awaitResume();
      return;
    }
    this.end(this.closeReason ?? (leftOnPurpose ? DisconnectReason.ClientDisconnect : (this.lossReason ?? DisconnectReason.TransportClosed)));
  }

  // --- resume ---------------------------------------------------------------------------

  /** Keep the session — sockets, rooms, pending replies, unacknowledged frames — until it resumes or the TTL passes. */
  private awaitResume(): void {
    this.awaiting = true;
    const { resume } = this.host.options;
    this.kept?.linkLost();
    // A connection opened and abandoned (nothing after its hello) is not worth keeping for long.
    this.scheduleDeadline(Date.now() + (this.heardAfterHello ? resume.ttl : Math.min(resume.ttl, resume.silentTtl)));
    this.host.holdPlace(this, this.info.remoteAddress, () => {
      if (!this.closed && this.awaiting) this.end(this.lossReason ?? DisconnectReason.TransportClosed);
    });
    // What is saved now is what another node restores if this one dies before the client is back.
    this.changed();
  }

  /** Whether a client that received `received` frames can resume this session in namespace `ns` without a hole. */
  canResume(ns: string, received: number | undefined): boolean {
    return !this.closed && this.sockets.has(ns) && received !== undefined && (this.kept?.canReplayAfter(received) ?? false);
  }

  /** Whether `token` is the one this session was taken over with and the client has not yet shown it got the restoring welcome. */
  awaitsRestoreAck(token: string): boolean {
    return this.restoredWith !== undefined && token === this.restoredWith && token === this.previousResumeToken;
  }

  /** @internal The frame a broadcast the resume log kept gave this session (see WaitingFrames). */
  frameOf(entry: LoggedBroadcast): SharedFrame | undefined {
    return this.sockets.get(entry.ns)?.frameOf(entry);
  }

  /** @internal Frames this waiting session needs were dropped from the resume log (its byte bound): it cannot be resumed exactly. */
  resumeLost(): void {
    if (this.closed || !this.awaiting) return;
    // Not from inside the log's bookkeeping: ending a session leaves rooms, which may broadcast.
    queueMicrotask(() => {
      if (!this.closed && this.awaiting) this.end(this.lossReason ?? DisconnectReason.TransportClosed);
    });
  }

  /** @internal A socket of this session is about to join or leave a room: a waiting session settles what the log gave it so far. */
  membershipChanging(): void {
    if (this.kept && !this.kept.membershipChanging()) this.resumeLost();
  }

  /**
   * A new connection presented this session's resume token: move onto it, tell the client
   * `resumed: true` with a fresh token, then send again every frame after the `received`
   * it reported — frames lost in flight as well as those sent while it was away.
   */
  resumeOn(transport: Transport, ns: string, received: number, info: TransportRequestInfo, restored = false): void {
    if (this.transport) {
      // The old connection is half-open or a second tab copied the token: the newest wins.
      const old = this.transport;
      this.transport = undefined;
      old.send(encodeFrame({ type: 'error', code: ErrorCode.SessionTakenOver, message: 'a newer connection resumed this session' }));
      old.close(CloseCode.SessionTakenOver, ErrorCode.SessionTakenOver);
    }
    this.cancelDeadline();
    this.awaiting = false;
    this.host.releasePlace(this);
    this.lossReason = undefined;
    // Whoever resumed is who is connected now (a resume token is a bearer credential): the handshake shows their connection.
    this.info = info;
    this.cookies = undefined;
    for (const socket of this.sockets.values()) socket.reconnected(this.handshakeInfo(socket.handshake.auth));
    // The client's count is an acknowledgement too: a flapping link that never carried an `ack` must not fill what is kept.
    const replay = this.kept?.replayAfter(received) ?? [];
    this.bind(transport);
    this.lastSeen = this.lastPing = heartbeatNow();
    if (restored && this.restoredWith !== undefined) {
      // Restored again: the token the client holds stays the one it may present next time
      // (the one issued by the lost welcome never reached it).
      if (this.resumeToken !== undefined) this.host.retireResumeToken(this, this.resumeToken);
      this.resumeToken = this.restoredWith;
      this.previousResumeToken = undefined;
    }
    this.sendWelcome(ns, !restored, restored);
    // Still kept until acknowledged: a link that drops again mid-replay costs nothing.
    for (const frame of replay) transport.send(frame);
    // Credentials that expired while the session waited are asked for before anything else goes on.
    for (const socket of this.sockets.values()) socket.resumed();
  }

  private bind(transport: Transport): void {
    this.transport = transport;
    transport.attach(this);
  }

  /** Whether events of `transport` are this session's: it is its current connection. */
  private isCurrent(transport: Transport): boolean {
    return this.transport === transport;
  }

  // --- heartbeat ----------------------------------------------------------------------

  sendPing(): void {
    this.transport?.ping();
    this.sendFrame({ type: 'ping' });
  }

  expire(): void {
    this.lossReason = DisconnectReason.HeartbeatTimeout;
    const transport = this.transport;
    transport?.terminate();
    if (transport && this.isCurrent(transport)) this.onClose(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
  }

  // --- sending --------------------------------------------------------------------------

  /** Encode and send one frame. Throws `unserializable` for data JSON cannot carry. */
  sendFrame(frame: ServerFrame, volatile = false): boolean {
    if (!this.isOpen) return false;
    return this.put(encodeFrame(frame), volatile);
  }

  /** Send a frame encoded once, for this session alone (a join's replay). */
  sendEncoded(frame: SharedFrame, volatile: boolean): boolean {
    if (!this.isOpen) return false;
    return this.put(frame, volatile);
  }

  /** A broadcast's frame: while the session waits, the resume log keeps it, and it is only counted here. */
  sendBroadcast(frame: SharedFrame, volatile: boolean): boolean {
    if (!this.isOpen) return false;
    return this.put(frame, volatile, true);
  }

  /**
   * Send a durable room's publication. It is never skipped; if the connection already holds
   * more unsent bytes than the cap, it is closed with 4009 instead (memory stays bounded)
   * and the client recovers the gap from history when it rejoins.
   */
  sendDurable(frame: SharedFrame): void {
    if (!this.isOpen) return;
    this.put(frame, false, true);
    if (this.transport && this.transport.bufferedAmount > this.host.options.maxBufferedBytes) this.cutOffSlowConsumer();
  }

  /**
   * Onto the connection (kept until acknowledged), or only kept while waiting for a resume.
   * A `broadcast` is one the resume log holds (BroadcastOperator, DurableFeed): past the
   * per-session bounds it is only counted here.
   */
  private put(frame: string | SharedFrame, volatile: boolean, broadcast = false): boolean {
    const transport = this.transport;
    if (transport) {
      if (volatile && transport.bufferedAmount > VOLATILE_BUFFER_LIMIT) return false;
      transport.send(frame);
      if (this.freeCredit < FREE_CREDIT_MAX) this.freeCredit++;
      // A volatile broadcast is not in the resume log: kept as the session's own if it must be kept at all.
      this.kept?.sentOnLink(frame, broadcast && !volatile);
      return true;
    }
    if (volatile || !this.awaiting || !this.kept) return false;
    if (!this.kept.keptWhileAway(frame, broadcast)) {
      // Past the per-session bounds a resume would have a hole: end the session now and free its memory.
      this.end(this.lossReason ?? DisconnectReason.TransportClosed);
      return false;
    }
    return true;
  }

  /** Publications of a durable room in namespace `ns` were lost beyond history: like a slow consumer, the client rejoins and is told `recovered: false`. */
  lostPublications(ns: string): void {
    if (this.closed) return;
    if (!this.transport) {
      this.end(DisconnectReason.SlowConsumer);
      return;
    }
    this.fail(
      ErrorCode.SlowConsumer,
      `publications of a durable room of namespace "${ns}" were lost before they reached this node and are no longer in history; rejoin to be told what is recoverable`,
      CloseCode.SlowConsumer,
      DisconnectReason.SlowConsumer,
    );
  }

  private cutOffSlowConsumer(): void {
    this.fail(
      ErrorCode.SlowConsumer,
      `more than ${this.host.options.maxBufferedBytes} bytes waited to be sent; reconnect and recover from history`,
      CloseCode.SlowConsumer,
      DisconnectReason.SlowConsumer,
    );
    // A peer that does not read will not finish the closing handshake either.
    const timer = setTimeout(() => this.terminate(DisconnectReason.SlowConsumer), 1000);
    timer.unref();
  }

  /** Send an event frame as a request and await the client's reply. */
  request(frame: EventFrame, timeout: number | undefined, describe: string): Promise<unknown> {
    if (!this.isOpen) return Promise.reject(new SwitchboardError(ErrorCode.Disconnected, `cannot send ${describe}: the client is not connected`));
    const { ref, reply } = this.pending.create(timeout ?? this.host.options.ackTimeout, describe);
    try {
      this.sendFrame({ ...frame, ref });
    } catch (err) {
      this.pending.fail(ref, err instanceof SwitchboardError ? err : new SwitchboardError(ErrorCode.Unserializable, String(err)));
    }
    return reply;
  }

  // --- re-authentication (see reauth.ts) --------------------------------------------------

  get deadlines(): DeadlineClock {
    return this.host.deadlines;
  }

  get reauthTimeout(): number {
    return this.host.options.reauthTimeout;
  }

  /** Ask the client for fresh credentials of namespace `ns`. No timer here: the caller keeps the deadline. */
  askReauth(ns: string): { ref: number; reply: Promise<unknown> } {
    const { ref, reply } = this.pending.create(Number.POSITIVE_INFINITY, `reauth of namespace "${ns}"`);
    this.sendFrame(ns === ROOT_NAMESPACE ? { type: 'reauth', ref } : { type: 'reauth', ref, ns });
    return { ref, reply };
  }

  forgetRequest(ref: number): void {
    this.pending.fail(ref, new SwitchboardError(ErrorCode.Timeout, 'the request was given up'));
  }

  /** The credentials of a socket expired and were not renewed: the session ends (the client reconnects with fresh ones). */
  authExpired(error: ErrorPayload, ns: string): void {
    if (this.closed) return;
    this.sendError(error, ns);
    this.close(CloseCode.AuthExpired, ErrorCode.AuthExpired, DisconnectReason.AuthExpired);
  }

  /** Close on purpose: the session ends with the connection (no resume). */
  close(code: number, reason: string, why: DisconnectReason): void {
    if (this.closed) return;
    this.closeReason ??= why;
    if (this.transport) this.transport.close(code, reason);
    else this.end(this.closeReason);
  }

  /** Drop the connection at once and end the session (peers that did not finish the closing handshake). */
  terminate(why: DisconnectReason): void {
    this.closeReason ??= why;
    const transport = this.transport;
    transport?.terminate();
    if (transport && this.isCurrent(transport)) this.onClose(CloseCode.Abnormal, 'terminated');
    else this.end(this.closeReason);
  }

  /** The session is over: reject what waits on the client, and let every socket go. */
  private end(why: DisconnectReason): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelDeadline();
    this.awaiting = false;
    this.host.releasePlace(this);
    this.kept?.close();
    this.kept = undefined;
    this.queue = undefined;
    this.transport?.terminate();
    this.transport = undefined;
    this.pendingReplies?.rejectAll(new SwitchboardError(ErrorCode.Disconnected, 'the connection closed before the client replied'));
    for (const socket of this.sockets.values()) {
      socket.nsp.detach(socket);
      socket.detached(why);
    }
    this.sockets.clear();
    this.host.sessionClosed(this, why);
  }

  /** Remove a socket from this connection; a server-side disconnect of the last one closes it. */
  detach(socket: AnySocket, reason: DisconnectReason, closeConnection: boolean): void {
    if (this.sockets.get(socket.nsp.name) !== socket) return;
    this.membershipChanging();
    this.sockets.delete(socket.nsp.name);
    socket.nsp.detach(socket);
    socket.detached(reason);
    this.changed();
    if (reason === DisconnectReason.ServerDisconnect && (closeConnection || this.sockets.size === 0)) {
      this.close(CloseCode.Normal, 'server disconnect', reason);
    }
  }

  // --- receiving ----------------------------------------------------------------------

  /**
   * Count a frame after the hello against the connection's rate; false when it must not be
   * processed. Frames that answer the server (`pong`, `ack`, `reply`) are free while they
   * answer something: their number follows what the server sends, and they make it send
   * nothing. Beyond one per frame the server sent (see freeCredit) they take tokens like any
   * frame, so a client flooding acks is rate limited and closed like any flooder. A request over the rate
   * always gets its `rate_limited` reply (nothing waits for a timeout); of the other frames
   * only the first rejected since the last accepted one gets an error frame.
   */
  private withinRate(rate: FrameRate, decoded: DecodeResult<ClientFrame> | undefined): boolean {
    if (decoded?.ok && FREE_FRAMES.has(decoded.frame.type) && this.freeCredit > 0) {
      this.freeCredit--;
      return true;
    }
    const verdict = rate.take();
    if (verdict === 'accept') return true;
    const { frameRate } = this.host.options;
    const limit = `${frameRate?.perSecond} frames per second, burst ${frameRate?.burst}`;
    if (verdict === 'abuse') {
      // Once: a connection the server already closes for another reason is on its way out.
      if (this.closeReason !== undefined) return false;
      this.fail(ErrorCode.RateLimited, `kept sending past the rate limit (${limit}); closing`, CloseCode.PolicyViolation, DisconnectReason.RateLimited);
      // A flooder may not read, and then never completes the closing handshake.
      const timer = setTimeout(() => this.terminate(DisconnectReason.RateLimited), 1000);
      timer.unref();
      return false;
    }
    const error = { code: ErrorCode.RateLimited, message: `over the rate limit (${limit}): frame not processed; slow down` };
    const frame = decoded?.ok ? decoded.frame : undefined;
    const ref = frame ? requestRef(frame) : decoded?.ok === false ? decoded.ref : undefined;
    if (ref !== undefined) this.replyError(ref, error);
    else if (verdict === 'reject') this.sendError(error, frame && 'ns' in frame ? frame.ns : undefined);
    return false;
  }

  private process(data: string, binary: boolean, decoded?: DecodeResult<ClientFrame>): void {
    if (binary) {
      if (!this.handshaken) this.fail(ErrorCode.BadHandshake, 'the first frame must be a JSON text hello frame', CloseCode.BadHandshake);
      else this.sendError({ code: ErrorCode.BinaryNotSupported, message: 'protocol switchboard.v1 carries JSON text frames only' });
      return;
    }
    decoded ??= decodeClientFrame(data);
    if (!decoded.ok) {
      if (!this.handshaken) this.fail(ErrorCode.BadHandshake, `the first frame must be a valid hello: ${decoded.error.message}`, CloseCode.BadHandshake);
      else if (decoded.ref !== undefined) this.replyError(decoded.ref, decoded.error);
      else this.sendError(decoded.error);
      return;
    }
    const frame = decoded.frame;
    if (!this.handshaken) {
      if (frame.type === 'hello') this.exclusive(this.handshake(frame));
      else this.fail(ErrorCode.BadHandshake, `the first frame must be a hello, got "${frame.type}"`, CloseCode.BadHandshake);
      return;
    }
    switch (frame.type) {
      case 'hello':
        this.sendError({ code: ErrorCode.BadRequest, message: 'hello frame: the handshake is already done' });
        return;
      case 'connect':
        this.exclusive(this.connectNamespace(frame));
        return;
      case 'disconnect': {
        const socket = this.sockets.get(frame.ns ?? ROOT_NAMESPACE);
        if (socket) this.detach(socket, DisconnectReason.ClientDisconnect, false);
        return;
      }
      case 'join':
        this.exclusive(this.roomRequests().join(frame));
        return;
      case 'leave':
        this.roomRequests().leave(frame);
        return;
      case 'history':
        void this.roomRequests().history(frame);
        return;
      case 'presence':
        void this.roomRequests().presence(frame);
        return;
      case 'event': {
        const socket = this.socketFor(frame.ns, frame.ref);
        if (socket) this.eventDispatch().handle(socket, frame);
        return;
      }
      case 'reply':
        this.pendingReplies?.settle(frame);
        return;
      case 'ack':
        this.kept?.acknowledge(frame.received);
        this.restoredWith = undefined;
        this.retirePreviousToken();
        return;
      case 'ping':
        this.sendFrame({ type: 'pong' });
        return;
      case 'pong':
        return;
    }
  }

  /** Run a control operation; frames that arrive meanwhile wait for it. */
  private exclusive(operation: Promise<void>): void {
    this.busy = true;
    operation
      .catch((err: unknown) => this.host.reportError(err, { session: this.id }))
      .finally(() => {
        this.busy = false;
        while (!this.busy && !this.closed && this.queue !== undefined && this.queue.length > 0) {
          const next = this.queue.shift() as { data: string; binary: boolean };
          this.process(next.data, next.binary);
        }
      });
  }

  private async handshake(hello: HelloFrame): Promise<void> {
    if (hello.v !== PROTOCOL_VERSION) {
      const older = hello.v < PROTOCOL_VERSION ? 'client' : 'server';
      this.fail(
        ErrorCode.UnsupportedVersion,
        `the client speaks switchboard protocol v${hello.v} and this server speaks v${PROTOCOL_VERSION}: upgrade the ${older}`,
        CloseCode.UnsupportedVersion,
      );
      return;
    }
    const name = hello.ns ?? ROOT_NAMESPACE;
    if (hello.resume !== undefined) {
      const previous = this.host.resumable(hello.resume);
      if (previous && previous !== this && previous.awaitsRestoreAck(hello.resume)) {
        // The client never got this node's restoring welcome: its count is the old node's.
        // Restored again, here: it counts from 0, and every frame since is sent again.
        if (previous.canResume(name, 0)) {
          this.handOver(previous, name, 0, true);
          return;
        }
      } else if (previous && previous !== this && previous.canResume(name, hello.received)) {
        this.handOver(previous, name, hello.received as number);
        return;
      }
      // Unknown or expired token, or frames the client missed are gone: a new session
      // (`resumed: false`). The old one cannot be resumed any more either.
      if (previous && previous !== this) previous.close(CloseCode.Normal, 'not resumable', DisconnectReason.TransportClosed);
      else if (!previous && this.host.snapshots) {
        // Not held here: another node may have held it (and died, or the client came through another route).
        const taken = await this.host.snapshots.take(hello.resume);
        if (this.closed) return;
        if (taken?.snapshot.namespaces.some((s) => s.ns === name) && this.host.namespace(name)) {
          this.restoreFrom(taken.snapshot, taken.owner, name, hello.resume);
          return;
        }
      }
    }
    const nsp = this.host.namespace(name);
    if (!nsp) {
      this.fail(ErrorCode.BadHandshake, `unknown namespace "${name}"`, CloseCode.BadHandshake);
      return;
    }
    this.helloAuth = hello.auth;
    let socket: AnySocket;
    try {
      socket = await nsp.admit(this, this.handshakeInfo(hello.auth));
    } catch (err) {
      const rejection = rejectionPayload(err);
      this.fail(rejection.code, rejection.message, CloseCode.PolicyViolation);
      return;
    }
    if (this.closed) return;
    this.cancelDeadline();
    this.handshaken = true;
    this.lastSeen = this.lastPing = heartbeatNow();
    this.sendWelcome(name, false);
    this.sockets.set(name, socket);
    nsp.attach(socket);
    this.changed();
  }

  /**
   * Take over a session another node saved: its id, namespaces (their connection handlers
   * run again, with `socket.recovered`), rooms, `data` and handled reliable publishes. The
   * frames that node sent and the client did not acknowledge are not here: the welcome says
   * `resumed: false, restored: true`, and the client rejoins its durable rooms with `since`.
   */
  private restoreFrom(snapshot: SessionSnapshot, owner: string, ns: string, presented: string): void {
    this.host.adopt(this, snapshot.sid, owner);
    this.restoredWith = presented;
    // A session in use on another node, not an abandoned connection: it keeps the whole TTL.
    this.heardAfterHello = true;
    // The presented token stays valid, on any node, until the client shows it got the new
    // one (its first ack), as after a resume: a welcome lost with a link that died right
    // after the takeover must not cost the client its session.
    this.resumeToken = this.host.adoptResumeToken(this, presented);
    this.cancelDeadline();
    this.handshaken = true;
    this.helloAuth = snapshot.namespaces.find((s) => s.ns === ns)?.handshake.auth;
    this.lastSeen = this.lastPing = heartbeatNow();
    this.sendWelcome(ns, false, true);
    this.eventDispatch().restoreHandled(snapshot.dedupe);
    for (const saved of snapshot.namespaces) {
      const nsp = this.host.namespace(saved.ns);
      if (!nsp || this.sockets.has(saved.ns)) continue;
      const socket = nsp.restore(this, saved);
      // The saved handshake is the old connection's; this one is who is connected now.
      socket.reconnected(this.handshakeInfo(socket.handshake.auth));
      this.sockets.set(saved.ns, socket);
      nsp.attach(socket, saved.rooms);
    }
    this.changed();
  }

  private sendWelcome(ns: string, resumed: boolean, restored = false): void {
    const { heartbeat, resume } = this.host.options;
    // Only the token of the last welcome and the one before it (until acknowledged) stay valid.
    this.retirePreviousToken();
    this.previousResumeToken = this.resumeToken;
    this.resumeToken = resume.ttl > 0 ? this.host.issueResumeToken(this) : undefined;
    if (this.resumeToken && !this.kept) {
      this.kept = new ResumeFrames(this.host.resumeLog, this, {
        maxFrames: resume.maxUnackedFrames,
        maxBytes: resume.maxUnackedBytes,
        // Twice the longest a dead link goes unnoticed (see Heartbeats in docs/PROTOCOL.md): a
        // link still up after that answers pings but does not acknowledge.
        maxUnackedMs: 2 * (heartbeat.interval + heartbeat.timeout + Math.min(heartbeat.interval, heartbeat.timeout) / 4),
      });
    }
    // Welcomes are not counted: the frames after them are.
    const welcome: WelcomeFrame = {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      sid: this.id,
      ns,
      resume: this.resumeToken ?? null,
      resumed,
      heartbeat: { interval: heartbeat.interval, timeout: heartbeat.timeout },
      limits: announcedLimits(this.host.options),
    };
    if (restored) welcome.restored = true;
    this.transport?.send(encodeFrame(welcome));
    this.changed();
  }

  private retirePreviousToken(): void {
    if (this.previousResumeToken === undefined) return;
    this.host.retireResumeToken(this, this.previousResumeToken);
    this.previousResumeToken = undefined;
    this.changed();
  }

  /** This connection resumes `previous`: give it the transport and the frames that queued behind the hello. */
  private handOver(previous: Session, ns: string, received: number, restored = false): void {
    const transport = this.transport as Transport;
    const queued = this.queue ?? [];
    this.cancelDeadline();
    this.queue = undefined;
    this.transport = undefined;
    this.closed = true;
    this.host.sessionClosed(this);
    previous.resumeOn(transport, ns, received, this.info, restored);
    // The rate is per connection: the frames queued here were already counted in its bucket.
    previous.frameRate = this.frameRate;
    for (const frame of queued) if (!previous.closed) previous.intake(frame.data, frame.binary);
  }

  private async connectNamespace(frame: ConnectFrame): Promise<void> {
    const name = frame.ns;
    if (this.sockets.has(name)) {
      this.reply(frame.ref, { ns: name });
      return;
    }
    const nsp = this.host.namespace(name);
    if (!nsp) {
      this.replyError(frame.ref, { code: ErrorCode.UnknownNamespace, message: `unknown namespace "${name}"` });
      return;
    }
    let socket: AnySocket;
    try {
      const admitted = nsp.admit(this, this.handshakeInfo(frame.auth === undefined ? this.helloAuth : frame.auth));
      socket = await this.bounded(admitted, `middleware of namespace "${name}"`);
    } catch (err) {
      this.replyError(frame.ref, rejectionPayload(err));
      return;
    }
    if (this.closed) return;
    this.reply(frame.ref, { ns: name });
    this.sockets.set(name, socket);
    nsp.attach(socket);
    this.changed();
  }

  private roomRequests(): RoomRequests {
    const session = this;
    return (this.rooms ??= new RoomRequests({
      get options(): ResolvedOptions {
        return session.host.options;
      },
      get feed(): DurableFeed {
        return session.host.feed;
      },
      isPrivateRoom: (room) => this.host.isSessionRoom(room),
      socketFor: (ns, ref) => this.socketFor(ns, ref),
      reply: (ref, data) => this.reply(ref, data),
      replyError: (ref, error) => this.replyError(ref, error),
      errorFromHandler: (err, context) => this.errorFromHandler(err, context),
      bounded: (decision, what) => this.bounded(decision, what),
      readStarted: (ref) => {
        if (this.pendingRequests >= this.host.options.maxPendingRequests) {
          this.replyError(ref, this.tooManyPending());
          return false;
        }
        this.pendingRequests++;
        return true;
      },
      readFinished: () => {
        this.pendingRequests--;
      },
      replay: (frame) => this.sendEncoded(frame, false),
    }));
  }

  private eventDispatch(): EventDispatch {
    const server = this.host;
    const session = this;
    return (this.events ??= new EventDispatch({
      get id(): string {
        return session.id;
      },
      options: server.options,
      get closing(): boolean {
        return server.closing;
      },
      reportError: (err, context) => this.host.reportError(err, context),
      sendReply: (ref, reply) => this.sendReply(ref, reply),
      sendError: (error, ns) => this.sendError(error, ns),
      errorFromHandler: (err, context) => this.errorFromHandler(err, context),
      overPendingLimit: () => (this.pendingRequests >= this.host.options.maxPendingRequests ? this.tooManyPending() : undefined),
      requestStarted: () => this.requestStarted(),
      requestFinished: () => this.requestFinished(),
      changed: () => this.changed(),
    }));
  }

  /** A client request's handler starts: counted for `maxPendingRequests` and for a graceful shutdown. */
  private requestStarted(): void {
    this.pendingRequests++;
    this.host.requestStarted();
  }

  private requestFinished(): void {
    this.pendingRequests--;
    this.host.requestFinished();
  }

  private tooManyPending(): ErrorPayload {
    const max = this.host.options.maxPendingRequests;
    return { code: ErrorCode.TooManyPending, message: `${max} requests of this connection are already being handled; wait for their replies` };
  }

  private sendReply(ref: number, reply: StoredReply): void {
    if (reply.error) this.replyError(ref, reply.error);
    else this.reply(ref, reply.data);
  }

  private socketFor(ns: string | undefined, ref: number | undefined): AnySocket | undefined {
    const name = ns ?? ROOT_NAMESPACE;
    const socket = this.sockets.get(name);
    if (socket) return socket;
    const error = { code: ErrorCode.NamespaceNotConnected, message: `namespace "${name}" is not connected on this connection` };
    if (ref === undefined) this.sendError({ ...error }, name);
    else this.replyError(ref, error);
    return undefined;
  }

  /** Coded errors are meant for the client; anything else is a bug whose details stay here. */
  private errorFromHandler(err: unknown, context: Record<string, unknown>): ErrorPayload {
    if (err instanceof SwitchboardError) return err.toPayload();
    this.host.reportError(err, { session: this.id, ...context });
    return { code: ErrorCode.InternalError, message: 'the handler failed; details are in the server log' };
  }

  private reply(ref: number, data: unknown): void {
    try {
      this.sendFrame({ type: 'reply', ref, data });
    } catch (err) {
      this.replyError(ref, this.errorFromHandler(err, { ref }));
    }
  }

  private replyError(ref: number, error: ErrorPayload): void {
    const payload: ErrorPayload = { code: error.code, message: error.message };
    if (error.details) payload.details = error.details;
    this.sendFrame({ type: 'reply', ref, error: payload });
  }

  private sendError(error: ErrorPayload, ns?: string): void {
    const frame: ServerFrame = { type: 'error', code: error.code, message: error.message };
    if (error.details) frame.details = error.details;
    if (ns !== undefined && ns !== ROOT_NAMESPACE) frame.ns = ns;
    this.sendFrame(frame);
  }

  /** Tell the client why, then close. */
  private fail(code: string, message: string, closeCode: number, why: DisconnectReason = DisconnectReason.TransportClosed): void {
    if (this.closed) return;
    this.sendError({ code, message });
    this.close(closeCode, code, why);
  }

  /**
   * App decisions (middleware, authorizeJoin) hold this connection's later frames, so one
   * that never settles must not stall it forever: it gets the handshake timeout.
   */
  private bounded<T>(decision: Promise<T>, what: string): Promise<T> {
    const ms = this.host.options.handshakeTimeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SwitchboardError(ErrorCode.Timeout, `${what} did not decide within ${ms} ms`)), ms);
    });
    return Promise.race([decision, expired]).finally(() => clearTimeout(timer));
  }

  private handshakeInfo(auth: unknown): Handshake {
    const header = this.info.headers.cookie;
    this.cookies ??= header === undefined ? NO_COOKIES : parseCookies(header);
    return { auth, headers: this.info.headers, cookies: this.cookies, address: this.info.remoteAddress, url: this.info.url, time: Date.now() };
  }
}

/** 16 random bytes, base64url: 22 characters. */
function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** Whether `name` has the shape of a session id (newSessionId), so it may be another node's session's private room. */
export function isSessionIdShaped(name: string): boolean {
  return name.length === 22 && /^[A-Za-z0-9_-]+$/.test(name);
}

/** A session's entry on the DeadlineClock: made when a deadline starts, dropped when it ends (no timer, no closure). */
class SessionDeadline implements Deadline {
  dueAt = 0;
  heapIndex = -1;

  constructor(private readonly session: Session) {}

  due(): void {
    this.session.deadlinePassed();
  }
}

/** The cookies of every upgrade without a Cookie header: one frozen object for all. */
const NO_COOKIES: Readonly<Record<string, string>> = Object.freeze({});

/** Frames that answer the server: not counted against the rate (see withinRate). */
const FREE_FRAMES: ReadonlySet<ClientFrame['type']> = new Set(['pong', 'ack', 'reply']);

/** The ref of a request frame (a `reply`'s ref belongs to the server's requests). */
function requestRef(frame: ClientFrame): number | undefined {
  return frame.type !== 'reply' && 'ref' in frame ? frame.ref : undefined;
}
