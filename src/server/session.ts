import { encodeFrame } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ClientFrame, ErrorPayload, HelloFrame } from '../protocol/frames.js';
import type { SharedFrame } from '../transport/shared-frame.js';
import type { Transport, TransportHandlers, TransportRequestInfo } from '../transport/transport.js';
import type { SessionSnapshot } from '../cluster/session-store.js';
import type { DeadlineClock } from './deadline-clock.js';
import { heartbeatNow, type HeartbeatTarget } from './heartbeat.js';
import type { LoggedBroadcast, ResumeLog } from './resume-log.js';
import { NamespaceSockets } from './namespace-sockets.js';
import { newSessionId } from './session-id.js';
import { FrameIntake } from './session-intake.js';
import { SessionOutbox } from './session-outbox.js';
import { SessionAdmission, type AdmissionServer } from './session-handshake.js';
import { ClientRequests, type RequestServer } from './session-requests.js';
import { SessionResume, type ResumeTokens } from './session-resume.js';
import { SessionLifecycle, SessionState } from './session-state.js';
import { type AnySocket, DisconnectReason, type SocketSession } from './socket.js';

/** What a session needs from the server that owns it. */
export interface SessionHost extends AdmissionServer<Session>, RequestServer {
  /** One timer for every socket's credential expiry and reauth deadline. */
  readonly deadlines: DeadlineClock;
  /** This node's broadcasts, kept once for the sessions waiting to be resumed. */
  readonly resumeLog: ResumeLog;
  readonly tokens: ResumeTokens<Session>;
  /** This connection took over session `sid` from another node: it goes by that id now. */
  adopt(session: Session, sid: string, owner: string): void;
  /** `why` is undefined for a connection that handed its transport to the session it resumed. */
  sessionClosed(session: Session, why?: DisconnectReason): void;
  /** The session waits to be resumed: it holds a connection's place (maxConnections, per IP) until released; `end` gives the place up. */
  holdPlace(session: Session, address: string, end: () => void): void;
  releasePlace(session: Session): void;
}

const { Open, Away, HandedOver } = SessionState;

/**
 * One client's session: its connection (replaced on a resume), the namespaces it
 * connected, and its state (SessionLifecycle). The concepts live in their own parts:
 * incoming frames (FrameIntake), admission to namespaces (SessionAdmission), the client's
 * requests (ClientRequests), what goes out (SessionOutbox) and what a resume needs
 * (SessionResume). What is left here is the connection and the moves between states.
 */
export class Session implements HeartbeatTarget, TransportHandlers, SocketSession {
  /**
   * Random, unguessable: it is also the name of each socket's private room. Changes only
   * when this connection takes over a session another node held (restoreFrom()).
   */
  id = newSessionId();
  lastSeen = heartbeatNow();
  lastPing = heartbeatNow();
  readonly sockets = new NamespaceSockets<AnySocket>();
  /** The state, and the handshake timeout or resume TTL (session-state.ts). */
  readonly lifecycle: SessionLifecycle;
  private transport: Transport | undefined;
  private readonly intake: FrameIntake;
  readonly outbox: SessionOutbox;
  readonly admission: SessionAdmission<Session>;
  private readonly requests: ClientRequests;
  readonly resume: SessionResume<Session>;

  constructor(
    private readonly host: SessionHost,
    transport: Transport,
    info: TransportRequestInfo,
  ) {
    this.lifecycle = new SessionLifecycle(host.deadlines, () => this.deadlinePassed());
    this.outbox = new SessionOutbox(this, host.options);
    this.admission = new SessionAdmission(this, host, this.outbox, info);
    this.resume = new SessionResume(this, host.tokens, host.resumeLog, host.options);
    this.requests = new ClientRequests(this, host, this);
    this.intake = new FrameIntake(this, this.outbox, { hello: (frame) => this.admission.hello(frame), dispatch: (frame) => this.requests.dispatch(frame) }, host.options);
    this.lifecycle.scheduleDeadline(Date.now() + host.options.handshakeTimeout);
    this.bind(transport);
  }

  // --- state ------------------------------------------------------------------------------

  /** A welcome was sent. */
  get handshaken(): boolean {
    return this.lifecycle.welcomed;
  }

  /** Ended, moved or handed over. */
  private get over(): boolean {
    return this.lifecycle.over;
  }

  private get away(): boolean {
    return this.lifecycle.away;
  }

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
    return this.transport.isOpen || (this.resume.keeping && this.lifecycle.closeReason === undefined);
  }

  /** The session has a connection (it is not waiting to be resumed). */
  get connected(): boolean {
    return !this.over && this.transport !== undefined;
  }

  /** What carries the session now (`websocket`, `sse`, `polling`); undefined while it waits to be resumed. */
  get transportKind(): string | undefined {
    return this.over ? undefined : this.transport?.kind;
  }

  /** Something another node could take over: handshaken and not ended. */
  get saveable(): boolean {
    return this.handshaken && !this.over;
  }

  /** A live, handshaken connection the heartbeat watches (not a session waiting to resume). */
  get watched(): boolean {
    return this.handshaken && this.transport !== undefined && !this.over;
  }

  /** The connection frames go onto. */
  get link(): Transport | undefined {
    return this.transport;
  }

  /** The tokens that resume this session now. */
  get tokens(): string[] {
    return this.resume.current;
  }

  /** What another node needs to take this session over (see SessionSnapshot). */
  snapshot(): SessionSnapshot {
    return { sid: this.id, namespaces: [...this.sockets.values()].map((s) => s.snapshot()), dedupe: this.requests.handledPublishes() };
  }

  /** The session's snapshot is out of date (rooms, namespaces, tokens, handled publishes). */
  changed(): void {
    if (this.handshaken && !this.over) this.host.snapshots?.changed(this);
  }

  /** The deadline passed: the handshake did not complete, or the session was not resumed in time. */
  private deadlinePassed(): void {
    if (this.over) return;
    if (this.away) this.end(this.lifecycle.lossReason ?? DisconnectReason.TransportClosed);
    else if (!this.handshaken) {
      this.fail(
        ErrorCode.HandshakeTimeout,
        `handshake not completed within ${this.host.options.handshakeTimeout} ms (no hello, or middleware did not decide)`,
        CloseCode.HandshakeTimeout,
      );
    }
  }

  // --- transport events -------------------------------------------------------------------

  // The transport handlers: `from` tells the current connection from one this session
  // replaced (its late events are ignored); calls from inside the session pass none.

  onFrame(data: string, binary: boolean, from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    // A flooder being closed keeps sending until the close lands: nothing of it is read.
    if (this.over || this.lifecycle.closeReason === DisconnectReason.RateLimited) return;
    this.lastSeen = heartbeatNow();
    this.intake.receive(data, binary);
  }

  onPong(from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    this.lastSeen = heartbeatNow();
  }

  /** The current connection closed (a replaced one's close is ignored). */
  onClose(code: number, _reason: string, from?: Transport): void {
    if (from !== undefined && from !== this.transport) return;
    if (this.over) return;
    this.transport = undefined;
    // 1000, 1001 (a tab closing) and 1005 (close() without a code) mean the client left on
    // purpose; anything else — 1006 from a dropped link, 4002, 4005 — may come back to resume.
    const leftOnPurpose = code === CloseCode.Normal || code === CloseCode.GoingAway || code === CloseCode.NoStatus;
    const { closeReason } = this.lifecycle;
    if (closeReason === undefined && !leftOnPurpose && this.lifecycle.state === Open && this.host.options.resume.ttl > 0) {
      this.awaitResume();
      return;
    }
    this.end(closeReason ?? (leftOnPurpose ? DisconnectReason.ClientDisconnect : (this.lifecycle.lossReason ?? DisconnectReason.TransportClosed)));
  }

  private bind(transport: Transport): void {
    this.transport = transport;
    transport.attach(this);
  }

  // --- the handshake's outcomes (SessionAdmission) -----------------------------------------

  /** The handshake is done: the welcome goes out and the heartbeat watches the connection. */
  welcomed(ns: string, resumed = false, restored = false): void {
    this.lifecycle.cancelDeadline();
    if (this.lifecycle.state !== Open) this.lifecycle.moveTo(Open);
    this.lastSeen = this.lastPing = heartbeatNow();
    // Welcomes are not counted: the frames after them are.
    const token = this.resume.rotate();
    this.transport?.send(this.admission.welcome(this.id, ns, token, resumed, restored));
    this.changed();
  }

  /**
   * Take over a session another node saved: its id, namespaces (their connection handlers
   * run again, with `socket.recovered`), rooms, `data` and handled reliable publishes. The
   * frames that node sent and the client did not acknowledge are not here: the welcome says
   * `resumed: false, restored: true`, and the client rejoins its durable rooms with `since`.
   */
  restoreFrom(snapshot: SessionSnapshot, owner: string, ns: string, presented: string): void {
    if (!this.lifecycle.handshaking) return;
    this.host.adopt(this, snapshot.sid, owner);
    // A session in use on another node, not an abandoned connection: it keeps the whole TTL.
    this.intake.heardAfterHello = true;
    this.resume.restoredBy(presented);
    this.welcomed(ns, false, true);
    this.requests.eventDispatch().restoreHandled(snapshot.dedupe);
    this.admission.restoreNamespaces(snapshot, ns);
    this.changed();
  }

  /** This connection resumes `previous`: give it the transport and the frames that queued behind the hello. */
  handOver(previous: Session, ns: string, received: number, restored = false): void {
    const transport = this.transport as Transport;
    this.lifecycle.cancelDeadline();
    this.transport = undefined;
    this.lifecycle.moveTo(HandedOver);
    this.host.sessionClosed(this);
    previous.resumeOn(transport, ns, received, this.admission, restored);
    // The rate is per connection: the frames queued here were already counted in its bucket.
    this.intake.handOver(previous.intake, () => !previous.over);
  }

  // --- resume -----------------------------------------------------------------------------

  /** Keep the session — sockets, rooms, pending replies, unacknowledged frames — until it resumes or the TTL passes. */
  private awaitResume(): void {
    this.lifecycle.moveTo(Away);
    const { resume } = this.host.options;
    this.resume.linkLost();
    // A connection opened and abandoned (nothing after its hello) is not worth keeping for long.
    this.lifecycle.scheduleDeadline(Date.now() + (this.intake.heardAfterHello ? resume.ttl : Math.min(resume.ttl, resume.silentTtl)));
    this.host.holdPlace(this, this.admission.request.remoteAddress, () => {
      if (this.away) this.end(this.lifecycle.lossReason ?? DisconnectReason.TransportClosed);
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
      if (this.away) this.end(this.lifecycle.lossReason ?? DisconnectReason.TransportClosed);
    });
  }

  /** A socket of this session is about to join or leave a room: a waiting session settles what the log gave it so far. */
  membershipChanging(): void {
    if (!this.resume.membershipChanging()) this.resumeLost();
  }

  /**
   * A new connection presented this session's resume token: move onto it, tell the client
   * `resumed: true` with a fresh token, then send again every frame after the `received`
   * it reported — frames lost in flight as well as those sent while it was away.
   */
  private resumeOn(transport: Transport, ns: string, received: number, from: SessionAdmission<Session>, restored: boolean): void {
    if (this.transport) {
      // The old connection is half-open or a second tab copied the token: the newest wins.
      const old = this.transport;
      this.transport = undefined;
      old.send(encodeFrame({ type: 'error', code: ErrorCode.SessionTakenOver, message: 'a newer connection resumed this session' }));
      old.close(CloseCode.SessionTakenOver, ErrorCode.SessionTakenOver);
    }
    this.lifecycle.cancelDeadline();
    this.host.releasePlace(this);
    this.lifecycle.lossReason = undefined;
    this.admission.reconnected(from.request);
    const replay = this.resume.replayAfter(received);
    this.bind(transport);
    if (restored) this.resume.restoredAgain();
    this.welcomed(ns, !restored, restored);
    // Still kept until acknowledged: a link that drops again mid-replay costs nothing.
    for (const frame of replay) transport.send(frame);
    // Credentials that expired while the session waited are asked for before anything else goes on.
    for (const socket of this.sockets.values()) socket.resumed();
  }

  // --- heartbeat --------------------------------------------------------------------------

  sendPing(): void {
    this.transport?.ping();
    this.outbox.sendFrame({ type: 'ping' });
  }

  expire(): void {
    this.lifecycle.lossReason = DisconnectReason.HeartbeatTimeout;
    const transport = this.transport;
    transport?.terminate();
    if (transport && this.transport === transport) this.onClose(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
  }

  // --- what goes out (SessionOutbox) ------------------------------------------------------

  /** Tell the client why, then close. */
  fail(code: string, message: string, closeCode: number, why: DisconnectReason = DisconnectReason.TransportClosed): void {
    this.outbox.fail(code, message, closeCode, why);
  }

  /** A frame went onto the link: kept for a resume, and one more answer of the client is free. */
  sentOnLink(frame: string | SharedFrame, broadcast: boolean): void {
    this.intake.sent();
    this.resume.sentOnLink(frame, broadcast);
  }

  keptWhileAway(frame: string | SharedFrame, broadcast: boolean): boolean {
    return this.resume.keptWhileAway(frame, broadcast);
  }

  lostWhileAway(): void {
    this.end(this.lifecycle.lossReason ?? DisconnectReason.TransportClosed);
  }

  reportError(err: unknown, context: Record<string, unknown>): void {
    this.host.reportError(err, context);
  }

  // --- re-authentication (see reauth.ts) --------------------------------------------------

  get deadlines(): DeadlineClock {
    return this.host.deadlines;
  }

  get reauthTimeout(): number {
    return this.host.options.reauthTimeout;
  }

  askReauth(ns: string): { ref: number; reply: Promise<unknown> } {
    return this.outbox.askReauth(ns);
  }

  forgetRequest(ref: number): void {
    this.outbox.forgetRequest(ref);
  }

  /** The credentials of a socket expired and were not renewed: the session ends (the client reconnects with fresh ones). */
  authExpired(error: ErrorPayload, ns: string): void {
    if (this.over) return;
    this.outbox.sendError(error, ns);
    this.close(CloseCode.AuthExpired, ErrorCode.AuthExpired, DisconnectReason.AuthExpired);
  }

  // --- ending -----------------------------------------------------------------------------

  /** Another node took this session over: end it here without telling the cluster it ended. */
  movedAway(): void {
    if (this.over) return;
    if (!this.transport) {
      this.end(DisconnectReason.TransportClosed, true);
      return;
    }
    this.outbox.sendError({ code: ErrorCode.SessionTakenOver, message: 'a newer connection resumed this session on another node' });
    this.lifecycle.closing(DisconnectReason.TransportClosed, true);
    this.transport.close(CloseCode.SessionTakenOver, ErrorCode.SessionTakenOver);
  }

  /** Close on purpose: the session ends with the connection (no resume). */
  close(code: number, reason: string, why: DisconnectReason): void {
    if (this.over) return;
    if (!this.transport) {
      this.lifecycle.closeReason ??= why;
      this.end(this.lifecycle.closeReason);
      return;
    }
    this.lifecycle.closing(why);
    this.transport.close(code, reason);
  }

  /** Drop the connection at once and end the session (peers that did not finish the closing handshake). */
  terminate(why: DisconnectReason): void {
    this.lifecycle.closeReason ??= why;
    const transport = this.transport;
    transport?.terminate();
    if (transport && this.transport === transport) this.onClose(CloseCode.Abnormal, 'terminated');
    else this.end(this.lifecycle.closeReason);
  }

  /** The session is over: reject what waits on the client, and let every socket go. */
  end(why: DisconnectReason, moved = false): void {
    if (this.over) return;
    this.host.releasePlace(this);
    this.lifecycle.moveTo(moved ? SessionState.Moved : this.lifecycle.endState);
    this.lifecycle.cancelDeadline();
    this.resume.close();
    this.intake.clear();
    this.transport?.terminate();
    this.transport = undefined;
    this.outbox.close();
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
