import { encodeFrame } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ErrorPayload, EventFrame, ServerFrame } from '../protocol/frames.js';
import type { PendingReplies } from '../protocol/pending-replies.js';
import type { SharedFrame } from '../transport/shared-frame.js';
import type { ResumePolicy, Transport, TransportHandlers, TransportRequestInfo } from '../transport/transport.js';
import type { SessionSnapshot } from '../cluster/session-store.js';
import type { DeadlineClock } from './deadline-clock.js';
import type { FrameRate } from './frame-rate.js';
import { heartbeatNow, type HeartbeatTarget } from './heartbeat.js';
import { NamespaceSockets } from './namespace-sockets.js';
import type { ResumeFrames } from './resume-frames.js';
import type { LoggedBroadcast } from './resume-log.js';
import type { HandshakeServer, SessionHandshake } from './session-handshake.js';
import { newSessionId } from './session-id.js';
import { FREE_CREDIT_MAX, type FrameIntake, type IntakeSession, type QueuedFrame } from './session-intake.js';
import type { SessionOutbox } from './session-outbox.js';
import { ClientRequests, type RequestServer } from './session-requests.js';
import type { ResumableSession, SessionResume } from './session-resume.js';
import { SessionLifecycle, SessionState } from './session-state.js';
import { type AnySocket, DisconnectReason } from './socket.js';

/** What a session needs from the server that owns it: its services, and its bookkeeping of sessions. */
export interface SessionHost extends HandshakeServer, RequestServer {
  /** One timer for every session's deadline and every socket's credential expiry. */
  readonly deadlines: DeadlineClock;
  readonly intake: FrameIntake;
  readonly outbox: SessionOutbox;
  readonly handshake: SessionHandshake;
  readonly resumes: SessionResume<Session>;
  /** `why` is undefined for a connection that handed its transport to the session it resumed. */
  sessionClosed(session: Session, why?: DisconnectReason): void;
  /** The session waits to be resumed: it holds a connection's place (maxConnections, per IP) until released; `end` gives the place up. */
  holdPlace(session: Session, address: string, end: () => void): void;
  releasePlace(session: Session): void;
}

const { Open, Away, HandedOver, Moved } = SessionState;

/**
 * One client's session: its connection (replaced on a resume), the namespaces it
 * connected, and its state (SessionLifecycle, which it extends). The work is done by the
 * server's one instance of each concept: incoming frames (FrameIntake), the handshakes
 * that admit to the session and its namespaces (SessionHandshake), the client's requests
 * (ClientRequests, made on the first one), what goes out (SessionOutbox) and what a
 * resume needs (SessionResume). What each keeps of a session is fields here: one object
 * per session, as idle connections are counted in tens of thousands. What is left here
 * are the moves between states. (IntakeSession takes in what every concept needs of a
 * session, SocketSession among them.)
 */
export class Session extends SessionLifecycle implements HeartbeatTarget, TransportHandlers, IntakeSession, ResumableSession {
  /**
   * Random, unguessable: it is also the name of each socket's private room. Changes only
   * when this connection takes over a session another node held (SessionHandshake.restore()).
   */
  id = newSessionId();
  lastSeen = heartbeatNow();
  lastPing = heartbeatNow();
  readonly sockets = new NamespaceSockets<AnySocket>();
  private transport: Transport | undefined;
  // What the server's FrameIntake keeps of this session (IntakeState).
  frameRate: FrameRate | undefined;
  helloReceived = false;
  heardAfterHello = false;
  freeCredit = FREE_CREDIT_MAX;
  queue: QueuedFrame[] | undefined;
  busy = false;
  // What SessionHandshake keeps (HandshakeState).
  requestInfo: TransportRequestInfo;
  helloAuth: unknown;
  cookies: Readonly<Record<string, string>> | undefined;
  // What SessionResume keeps (ResumeState).
  resumeToken: string | undefined;
  previousResumeToken: string | undefined;
  restoredWith: string | undefined;
  kept: ResumeFrames | undefined;
  // What SessionOutbox keeps.
  pendingReplies: PendingReplies | undefined;
  private clientRequests: ClientRequests | undefined;

  constructor(
    private readonly host: SessionHost,
    transport: Transport,
    request: TransportRequestInfo,
  ) {
    super();
    this.requestInfo = request;
    this.frameRate = host.intake.newRate();
    this.scheduleDeadline(Date.now() + host.options.handshakeTimeout);
    this.bind(transport);
  }

  protected get deadlineClock(): DeadlineClock {
    return this.host.deadlines;
  }

  // --- state ------------------------------------------------------------------------------

  /**
   * Frames can be sent: the connection is up, or the session is waiting to be resumed.
   * Once frames are kept for resume, a connection that is closing still counts: what is
   * sent meanwhile never reaches the client but is kept and numbered, so a resume replays
   * it instead of leaving a silent hole.
   */
  get isOpen(): boolean {
    if (this.over) return false;
    if (this.away) return true;
    if (!this.transport) return false;
    return this.transport.isOpen || (this.kept !== undefined && this.closeReason === undefined);
  }

  /** The session has a connection (it is not waiting to be resumed). */
  get connected(): boolean {
    return !this.over && this.transport !== undefined;
  }

  /** How the client on the current connection resumes (see Transport.resumePolicy). */
  get resumePolicy(): ResumePolicy | undefined {
    return this.transport?.resumePolicy;
  }

  /** What carries the session now (`websocket`, `sse`, `polling`); undefined while it waits to be resumed. */
  get transportKind(): string | undefined {
    return this.over ? undefined : this.transport?.kind;
  }

  /** Something another node could take over: handshaken and not ended. */
  get saveable(): boolean {
    return this.welcomed && !this.over;
  }

  /** A live, handshaken connection the heartbeat watches (not a session waiting to resume). */
  get watched(): boolean {
    return this.welcomed && this.transport !== undefined && !this.over;
  }

  /** The connection frames go onto. */
  get link(): Transport | undefined {
    return this.transport;
  }

  /** The tokens that resume this session now. */
  get tokens(): string[] {
    return this.host.resumes.current(this);
  }

  /** The client's requests, made on the first one. */
  get requests(): ClientRequests {
    return (this.clientRequests ??= new ClientRequests(this, this.host));
  }

  /** What another node needs to take this session over (see SessionSnapshot). */
  snapshot(): SessionSnapshot {
    return { sid: this.id, namespaces: [...this.sockets.values()].map((s) => s.snapshot()), dedupe: this.clientRequests?.handledPublishes() ?? [] };
  }

  /** The session's snapshot is out of date (rooms, namespaces, tokens, handled publishes). */
  changed(): void {
    if (this.welcomed && !this.over) this.host.snapshots?.changed(this);
  }

  /** The deadline passed: the handshake did not complete, or the session was not resumed in time. */
  protected deadlinePassed(): void {
    if (this.over) return;
    if (this.away) this.end(this.lossReason ?? DisconnectReason.TransportClosed);
    else if (!this.welcomed) {
      this.host.outbox.fail(
        this,
        ErrorCode.HandshakeTimeout,
        `handshake not completed within ${this.host.options.handshakeTimeout} ms (no hello, or middleware did not decide)`,
        CloseCode.HandshakeTimeout,
      );
    }
  }

  // --- transport events -------------------------------------------------------------------

  // The transport handlers: `from` tells the current connection from one this session
  // replaced (its late events are ignored); calls from inside the session pass none.

  onFrame(data: string | Uint8Array, from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    // A flooder being closed keeps sending until the close lands: nothing of it is read.
    if (this.over || this.closeReason === DisconnectReason.RateLimited) return;
    this.lastSeen = heartbeatNow();
    this.host.intake.receive(this, data);
  }

  onPong(from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    this.lastSeen = heartbeatNow();
  }

  /** The current connection closed (a replaced one's close is ignored). */
  onClose(code: number, _reason: string, from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    if (this.over) return;
    const resumable = this.transport?.resumePolicy !== 'none';
    this.transport = undefined;
    // 1000, 1001 (a tab closing) and 1005 (close() without a code) mean the client left on
    // purpose; anything else — 1006 from a dropped link, 4002, 4005 — may come back to resume.
    const leftOnPurpose = code === CloseCode.Normal || code === CloseCode.GoingAway || code === CloseCode.NoStatus;
    if (this.closeReason === undefined && !leftOnPurpose && resumable && this.state === Open && this.host.options.resume.ttl > 0) {
      this.awaitResume();
      return;
    }
    this.end(this.closeReason ?? (leftOnPurpose ? DisconnectReason.ClientDisconnect : (this.lossReason ?? DisconnectReason.TransportClosed)));
  }

  private bind(transport: Transport): void {
    this.transport = transport;
    transport.attach(this);
  }

  // --- the handshake's outcomes (SessionHandshake) -----------------------------------------

  /** The handshake is done: the welcome goes out and the heartbeat watches the connection. */
  sendWelcome(ns: string, resumed = false, restored = false, user = this.sockets.get(ns)?.user): void {
    this.cancelDeadline();
    if (this.state !== Open) this.moveTo(Open);
    this.lastSeen = this.lastPing = heartbeatNow();
    // Welcomes are not counted for resume: the frames after them are. The node's numbers count them.
    const token = this.host.resumes.rotate(this, this.transport?.resumePolicy);
    const welcome = this.host.handshake.welcome(this.id, ns, token, resumed, restored, user);
    const { counters } = this.host;
    if (restored) counters.handshakesRestored++;
    else if (resumed) counters.handshakesResumed++;
    else counters.handshakesNew++;
    if (this.transport) {
      this.transport.send(welcome);
      counters.frameOut(welcome);
    }
    this.changed();
  }

  /** This connection resumes `previous`: give it the transport and the frames that queued behind the hello. */
  handOver(previous: Session, ns: string, received: number, restored = false): void {
    const transport = this.transport as Transport;
    this.cancelDeadline();
    this.transport = undefined;
    this.moveTo(HandedOver);
    this.host.sessionClosed(this);
    previous.resumeOn(transport, ns, received, this.requestInfo, restored);
    // The rate is per connection: the frames queued here were already counted in its bucket.
    this.host.intake.handOver(this, previous);
  }

  // --- resume -----------------------------------------------------------------------------

  /** Keep the session — sockets, rooms, pending replies, unacknowledged frames — until it resumes or the TTL passes. */
  private awaitResume(): void {
    this.moveTo(Away);
    const { resume } = this.host.options;
    this.kept?.linkLost();
    // A connection opened and abandoned (nothing after its hello) is not worth keeping for long.
    this.scheduleDeadline(Date.now() + (this.heardAfterHello ? resume.ttl : Math.min(resume.ttl, resume.silentTtl)));
    this.host.holdPlace(this, this.requestInfo.remoteAddress, () => {
      if (this.away) this.end(this.lossReason ?? DisconnectReason.TransportClosed);
    });
    // What is saved now is what another node restores if this one dies before the client is back.
    this.changed();
  }

  /** The frame a broadcast the resume log kept gave this session (see WaitingFrames). */
  frameOf(entry: LoggedBroadcast): SharedFrame | undefined {
    return this.sockets.get(entry.ns)?.frameOf(entry);
  }

  /** Frames this waiting session needs were dropped from the resume log (its byte bound): it cannot be resumed exactly. */
  resumeLost(): void {
    if (!this.away) return;
    // Not from inside the log's bookkeeping: ending a session leaves rooms, which may broadcast.
    queueMicrotask(() => {
      if (this.away) this.end(this.lossReason ?? DisconnectReason.TransportClosed);
    });
  }

  /** A socket of this session is about to join or leave a room: a waiting session settles what the log gave it so far. */
  membershipChanging(): void {
    if (this.kept && !this.kept.membershipChanging()) this.resumeLost();
  }

  /**
   * A new connection presented this session's resume token: move onto it, tell the client
   * `resumed: true` with a fresh token, then send again every frame after the `received`
   * it reported — frames lost in flight as well as those sent while it was away.
   */
  private resumeOn(transport: Transport, ns: string, received: number, request: TransportRequestInfo, restored: boolean): void {
    if (this.transport) {
      // The old connection is half-open or a second tab copied the token: the newest wins.
      const old = this.transport;
      this.transport = undefined;
      old.send(encodeFrame({ type: 'error', code: ErrorCode.SessionTakenOver, message: 'a newer connection resumed this session' }));
      old.close(CloseCode.SessionTakenOver, ErrorCode.SessionTakenOver);
    }
    this.cancelDeadline();
    this.host.releasePlace(this);
    this.lossReason = undefined;
    this.host.handshake.reconnected(this, request);
    const replay = this.host.resumes.replayAfter(this, received);
    this.bind(transport);
    if (restored) this.host.resumes.restoredAgain(this);
    this.sendWelcome(ns, !restored, restored);
    // Still kept until acknowledged: a link that drops again mid-replay costs nothing.
    const { counters } = this.host;
    for (const frame of replay) {
      transport.send(frame);
      counters.frameOut(frame);
    }
    // Credentials that expired while the session waited are asked for before anything else goes on.
    for (const socket of this.sockets.values()) socket.resumed();
  }

  // --- heartbeat --------------------------------------------------------------------------

  sendPing(): void {
    this.transport?.ping();
    this.sendFrame({ type: 'ping' });
  }

  expire(): void {
    this.lossReason = DisconnectReason.HeartbeatTimeout;
    const transport = this.transport;
    transport?.terminate();
    if (transport && this.transport === transport) this.onClose(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
  }

  // --- what goes out (SessionOutbox) ------------------------------------------------------

  sendFrame(frame: ServerFrame, volatile = false): boolean {
    return this.host.outbox.sendFrame(this, frame, volatile);
  }

  sendBroadcast(frame: SharedFrame, volatile: boolean): boolean {
    return this.host.outbox.sendBroadcast(this, frame, volatile);
  }

  sendDurable(frame: SharedFrame): void {
    this.host.outbox.sendDurable(this, frame);
  }

  request(frame: EventFrame, timeout: number | undefined, describe: string): Promise<unknown> {
    return this.host.outbox.request(this, frame, timeout, describe);
  }

  lostPublications(ns: string): void {
    this.host.outbox.lostPublications(this, ns);
  }

  /** A frame went onto the link: kept for a resume, and one more answer of the client is free. */
  sentOnLink(frame: string | SharedFrame, broadcast: boolean): void {
    this.host.intake.sent(this);
    this.kept?.sentOnLink(frame, broadcast);
  }

  keptWhileAway(frame: string | SharedFrame, broadcast: boolean): boolean {
    return this.kept?.keptWhileAway(frame, broadcast) ?? false;
  }

  // --- re-authentication (see reauth.ts) --------------------------------------------------

  get deadlines(): DeadlineClock {
    return this.host.deadlines;
  }

  get reauthTimeout(): number {
    return this.host.options.reauthTimeout;
  }

  askReauth(ns: string): { ref: number; reply: Promise<unknown> } {
    return this.host.outbox.askReauth(this, ns);
  }

  forgetRequest(ref: number): void {
    this.host.outbox.forgetRequest(this, ref);
  }

  /** The credentials of a socket expired and were not renewed: the session ends (the client reconnects with fresh ones). */
  authExpired(error: ErrorPayload, ns: string): void {
    if (this.over) return;
    this.host.outbox.sendError(this, error, ns);
    this.close(CloseCode.AuthExpired, ErrorCode.AuthExpired, DisconnectReason.AuthExpired);
  }

  /** disconnectUser() reached a socket of this session: the client is told, the connection closes with 4010 and the session ends (no resume). */
  userDisconnected(ns: string): void {
    if (this.over || this.closeReason !== undefined) return;
    this.host.outbox.sendError(this, { code: ErrorCode.UserDisconnected, message: 'the server disconnected every connection of this user' }, ns);
    this.close(CloseCode.UserDisconnected, ErrorCode.UserDisconnected, DisconnectReason.UserDisconnected);
  }

  // --- ending -----------------------------------------------------------------------------

  /** Another node took this session over: end it here without telling the cluster it ended. */
  movedAway(): void {
    if (this.over) return;
    if (!this.transport) {
      this.end(DisconnectReason.TransportClosed, true);
      return;
    }
    this.host.outbox.sendError(this, { code: ErrorCode.SessionTakenOver, message: 'a newer connection resumed this session on another node' });
    this.closing(DisconnectReason.TransportClosed, true);
    this.transport.close(CloseCode.SessionTakenOver, ErrorCode.SessionTakenOver);
  }

  /** Close on purpose: the session ends with the connection (no resume). */
  close(code: number, reason: string, why: DisconnectReason): void {
    if (this.over) return;
    if (!this.transport) {
      this.closeReason ??= why;
      this.end(this.closeReason);
      return;
    }
    this.closing(why);
    this.transport.close(code, reason);
  }

  /** Drop the connection at once and end the session (peers that did not finish the closing handshake). */
  terminate(why: DisconnectReason): void {
    this.closeReason ??= why;
    const transport = this.transport;
    transport?.terminate();
    if (transport && this.transport === transport) this.onClose(CloseCode.Abnormal, 'terminated');
    else this.end(this.closeReason);
  }

  /** The session is over: reject what waits on the client, and let every socket go. */
  end(why: DisconnectReason, moved = false): void {
    if (this.over) return;
    this.host.releasePlace(this);
    this.moveTo(moved ? Moved : this.endState);
    this.cancelDeadline();
    this.host.resumes.close(this);
    this.queue = undefined;
    this.transport?.terminate();
    this.transport = undefined;
    this.host.outbox.close(this);
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
}
