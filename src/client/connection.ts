import { CloseCode } from '../protocol/close-codes.js';
import { decodeServerFrame, encodeFrame } from '../protocol/codec.js';
import { PROTOCOL_VERSION, ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ClientFrame, ErrorPayload, EventFrame, HelloFrame, ReauthFrame, ServerFrame, WelcomeFrame } from '../protocol/frames.js';
import { classifyClose, type CloseOutcome } from './close-outcome.js';
import { type ChangeDetails, ConnectionReason, ConnectionState } from './connection-state.js';
import { HeartbeatWatchdog } from './heartbeat-watchdog.js';
import { encodeReply, type HandlerOutcome } from './incoming-requests.js';
import type { NamespaceMember } from './namespace-member.js';
import { NetworkWatch } from './network-watch.js';
import { type ResolvedOptions, resolveAuth } from './options.js';
import { disconnectedError, OutgoingRequests, type WireOptions } from './outgoing-requests.js';
import { ReconnectSchedule } from './reconnect-schedule.js';
import { pacingLimits } from './pacing-limits.js';
import { ACK_DELAY_MS, ackCadence, type AckCadence } from './ack-cadence.js';
import { ReliableOutbox } from './reliable-outbox.js';
import { type FrameKind, type OutgoingFrame, SendPacer } from './send-pacer.js';
import { unrefTimer } from './timers.js';
import { type ClientTransport, isHttpTransport, type TransportClosed, type TransportHandlers, type TransportKind } from './client-transport.js';
import { failureText, isTransportFailure, openTransport, TransportChoice } from './transport-choice.js';
import { type UpgradeHost, UpgradeProbe } from './upgrade-probe.js';

/**
 * - idle: created, not started      - opening: resolving the auth function
 * - handshaking: socket opening, hello sent on open; awaiting welcome
 * - open: welcome received
 * - waiting: backoff before retry   - stopped: no retry until reconnectNow()
 * - offline: the device has no network; retried on `online` (or a slow probe), no attempt counted
 * - closed: close() was called; final
 */
type Phase = 'idle' | 'opening' | 'handshaking' | 'open' | 'waiting' | 'offline' | 'stopped' | 'closed';

/**
 * One logical connection to a Switchboard server: opens WebSockets (or SSE or long-polling
 * where they fail: TransportChoice), handshakes, watches the heartbeat, reconnects with
 * backoff, moves the session to a WebSocket when one works (UpgradeProbe), and routes
 * frames to the namespaces on it.
 *
 * It also keeps the client's side of the server session. Every reconnect presents the last
 * resume token and the count of frames received; the welcome says whether the session was
 * resumed (same id, namespaces, rooms, pending replies, and every frame after that count
 * sent again) or a new one started. What was sent in the session is decided then, not at
 * the drop: kept and re-sent on a resume, failed on a new session.
 */
export class Connection {
  private readonly members = new Map<string, NamespaceMember>();
  /** Requests of every namespace: refs are per session, not per namespace. */
  readonly requests = new OutgoingRequests();
  /** Reliable publishes of every namespace: their sequence numbers are per session. */
  readonly outbox: ReliableOutbox;
  private phase: Phase = 'idle';
  private transport: ClientTransport | undefined;
  private readonly choice: TransportChoice;
  private readonly upgrade = new UpgradeProbe();
  /** Bumped by every attempt and by close(), so async steps of a stale attempt stop. */
  private generation = 0;
  private readonly schedule: ReconnectSchedule;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: HeartbeatWatchdog | undefined;
  private lastErrorFrame: ErrorPayload | undefined;
  private welcome: WelcomeFrame | undefined;
  private limit: number | undefined;
  private network: NetworkWatch | undefined;
  /** The latest welcome.resume: presented in the next hello to resume the session. */
  private resumeToken: string | undefined;
  /** The token the hello of the current attempt carried. */
  private presentedToken: string | undefined;
  /** The id of the session the token belongs to. */
  private sessionId: string | undefined;
  /** Bumped whenever the server session is gone, so replies to its requests are not sent into another. */
  private sessionEpoch = 0;
  /** Replies to server requests that finished while the socket was down (and frames a failed upgrade held back): sent if the session resumes. */
  private heldReplies: string[] = [];
  /** Namespaces the app closed while the socket was down that the session still holds: disconnected on resume. */
  private readonly leftWhileAway = new Set<string>();
  /**
   * Frames received in the session after its welcomes (welcomes not counted). A resume
   * presents it, and the server sends again every frame after it: those lost in flight too.
   */
  private received = 0;
  /** How often to acknowledge, from the last welcome's limits (until one arrives: what a server with defaults keeps). */
  private ackEvery: AckCadence = ackCadence(undefined);
  /** Received since the last `ack`: frames and UTF-16 code units. */
  private unackedFrames = 0;
  private unackedSize = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  /** Every frame after the welcome but `pong` and `ack` goes out through it, paced by the welcome's limits. */
  private readonly pacer = new SendPacer((text) => this.transport?.send(text) ?? false);
  /** What the upgrade probe may do with the session: move it from HTTP to a WebSocket. */
  private readonly upgradeHost: UpgradeHost = {
    upgradable: () => (this.phase === 'open' && this.resumeToken !== undefined && isHttpTransport(this.transport) ? this.transport : undefined),
    openWebSocket: (handlers) => openTransport('websocket', this.options, handlers, () => this.limit),
    resumeHello: () => encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, ns: this.options.namespace, resume: this.resumeToken, received: this.received }),
    sessionId: () => this.sessionId,
    connectTimeout: () => this.options.connectTimeout,
    upgraded: (webSocket, welcome, held) => this.upgraded(webSocket, welcome, held),
    upgradeFailed: (why) => this.upgradeFailed(why),
  };

  constructor(readonly options: ResolvedOptions) {
    this.schedule = new ReconnectSchedule(options.reconnect);
    this.outbox = new ReliableOutbox(options.outboxLimit);
    this.choice = new TransportChoice(options.url, options.transports);
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  get sid(): string | undefined {
    return this.phase === 'open' ? this.welcome?.sid : undefined;
  }

  /** The transport carrying the session, while connected. */
  get transportKind(): TransportKind | undefined {
    return this.phase === 'open' ? this.transport?.kind : undefined;
  }

  /** The server's frame limit from the last welcome (kept while offline: it is the best guess). */
  get maxMessageBytes(): number | undefined {
    return this.limit;
  }

  member(namespace: string): NamespaceMember | undefined {
    return this.members.get(namespace);
  }

  /** Register a namespace. On a live connection its `connect` frame goes out now; otherwise after the next welcome. */
  add(member: NamespaceMember): void {
    if (this.phase === 'closed') throw closedError();
    this.members.set(member.namespace, member);
    if (member.namespace === this.options.namespace) return;
    if (this.phase === 'stopped' || this.phase === 'idle') return;
    member.connectionChanged(ConnectionState.Connecting, ConnectionReason.ConnectCalled, {});
    if (this.phase === 'open') this.connectNamespace(member);
  }

  /** Unregister a namespace the app closed, telling the server if it is connected (now, or when the session resumes). */
  remove(member: NamespaceMember): void {
    if (this.members.get(member.namespace) !== member) return;
    this.members.delete(member.namespace);
    if (this.phase === 'open' && member.isNamespaceConnected) this.sendFrame({ type: 'disconnect', ns: member.namespace });
    else if (member.inSession) this.leftWhileAway.add(member.namespace);
  }

  start(): void {
    if (this.phase !== 'idle') return;
    if (this.options.network && this.options.reconnect.enabled) {
      this.network = new NetworkWatch(this.options.network, {
        offline: () => this.wentOffline(),
        online: () => this.cameOnline(),
        wake: () => this.woke(),
      });
    }
    this.forEachMember((m) => m.connectionChanged(ConnectionState.Connecting, ConnectionReason.ConnectCalled, {}));
    void this.attemptOpen();
  }

  /** Skip the backoff wait, or restart after a stop. For a namespace the server let go, reconnect just it. */
  reconnectNow(member: NamespaceMember): void {
    switch (this.phase) {
      case 'closed':
        throw closedError();
      case 'open':
        if (!member.isNamespaceConnected) {
          member.connectionChanged(ConnectionState.Connecting, ConnectionReason.ReconnectCalled, {});
          this.connectNamespace(member);
        }
        return;
      case 'waiting':
      case 'offline':
        this.retryNow();
        return;
      case 'idle':
      case 'stopped':
        this.schedule.reset();
        this.forEachMember((m) => m.connectionChanged(ConnectionState.Connecting, ConnectionReason.ReconnectCalled, {}));
        void this.attemptOpen();
        return;
      default:
        // opening or handshaking: an attempt is already under way.
        return;
    }
  }

  /**
   * Close for good: reject every request and reliable publish with `closed` and close the
   * socket with 1000, which ends the server session (a socket already down leaves it to expire).
   */
  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.generation++;
    this.sessionEpoch++;
    this.resumeToken = undefined;
    this.heldReplies = [];
    this.network?.stop();
    this.network = undefined;
    // Every request fails with `closed`, in flight or buffered: the app ended them, the network did not.
    this.requests.failAll(closedError());
    this.outbox.clear();
    // A probe that may carry the session already ends it too.
    this.upgrade.stop(CloseCode.Normal);
    this.teardown();
    this.transport?.close(CloseCode.Normal, 'client closed');
    this.transport = undefined;
    const members = [...this.members.values()];
    this.members.clear();
    for (const member of members) member.connectionClosed();
  }

  /**
   * Send a frame on the welcomed socket: now, or in order behind the frames the pacing holds
   * back. False when there is no such socket (the caller decides whether to buffer).
   */
  send(text: string, kind: FrameKind = 'plain'): boolean {
    return this.pacer.send({ kind, text });
  }

  /** Send a frame only if it can go right now: nothing waits before it and the rate allows. */
  sendNow(text: string, kind: FrameKind = 'plain'): boolean {
    return this.pacer.sendNow({ kind, text });
  }

  /**
   * Queue a frame that waits elsewhere (an emit buffer, the outbox) until its turn; its
   * `take` does the bookkeeping of sending it. False when there is no welcomed socket.
   */
  enqueue(frame: OutgoingFrame): boolean {
    return this.pacer.send(frame);
  }

  /**
   * Send the frame of a request made with requests.create(), now or in order behind what
   * waits. False (and nothing sent) when not connected. `wire` says what becomes of it if
   * the socket is replaced (see WireOptions): a frame still waiting when the socket goes
   * fares like one lost in flight.
   */
  sendRequest(ref: number, text: string, kind: FrameKind, wire: WireOptions = {}): boolean {
    if (!this.pacer.send({ kind, ref, text })) return false;
    this.requests.sent(ref, { ...wire, kind });
    return true;
  }

  /** sendRequest() for a `plain` frame, only if it can go right now. */
  sendRequestNow(ref: number, text: string, wire: WireOptions = {}): boolean {
    if (!this.pacer.sendNow({ kind: 'plain', text })) return false;
    this.requests.sent(ref, { ...wire, kind: 'plain' });
    return true;
  }

  /**
   * A sender for the reply to a server request, bound to the current session: the server
   * waits for it across a resume (held while the socket is down), but refs of a session that
   * is gone mean nothing to the next one.
   */
  replySender(): (text: string) => void {
    const epoch = this.sessionEpoch;
    return (text) => {
      if (epoch !== this.sessionEpoch) return;
      // Not before the welcome: until then nobody knows whether the session is still the one that asked.
      if (this.phase === 'open' && this.pacer.send({ kind: 'reply', text, dropped: () => this.holdReply(text, epoch) })) return;
      this.heldReplies.push(text);
    };
  }

  /** A reply still waiting in the pacing when the socket went: held for the session's resume, like one made while away. */
  private holdReply(text: string, epoch: number): void {
    if (epoch === this.sessionEpoch && this.phase !== 'closed') this.heldReplies.push(text);
  }

  /** `fallback`: the next transport of the round, after the last one failed on its own; otherwise a new round. */
  private async attemptOpen(fallback = false): Promise<void> {
    if (this.phase === 'closed') return;
    const generation = ++this.generation;
    const kind = fallback ? this.choice.current : this.choice.begin();
    this.phase = 'opening';
    const primary = this.members.get(this.options.namespace);
    let hello: string;
    try {
      const auth = await resolveAuth(primary?.auth);
      const frame: HelloFrame = { type: 'hello', v: PROTOCOL_VERSION, ns: this.options.namespace, auth };
      // Read after the auth function: the session may have ended (or been taken over) while it ran.
      this.presentedToken = this.resumeToken;
      if (this.presentedToken !== undefined) {
        frame.resume = this.presentedToken;
        frame.received = this.received;
      }
      // Encoded before the socket opens, so an auth payload JSON cannot carry fails here, not in onopen.
      hello = encodeFrame(frame);
    } catch (cause) {
      if (generation !== this.generation) return;
      const error =
        cause instanceof SwitchboardError ? cause : new SwitchboardError(ErrorCode.Unauthorized, `the auth function failed: ${errorText(cause)}`, { cause });
      this.lose(ConnectionReason.AuthFailed, { error }, true, error);
      return;
    }
    if (generation !== this.generation) return;
    this.lastErrorFrame = undefined;
    try {
      // Before the welcome, outside the pacing: the server does not count the hello.
      const handlers = this.transportHandlers(() => this.transport?.send(hello));
      this.transport = openTransport(kind, this.options, handlers, () => this.limit, () => this.resumeToken);
    } catch (cause) {
      // A constructor that throws (malformed URL) fails the same way every time: retrying cannot help.
      const error = new SwitchboardError(ErrorCode.Disconnected, `cannot open a ${kind} connection to ${this.options.url}: ${errorText(cause)}`, { cause });
      this.lose(ConnectionReason.TransportError, { error }, false, error);
      return;
    }
    this.phase = 'handshaking';
    // Infinity means "no timeout": setTimeout would turn it into 1 ms.
    if (Number.isFinite(this.options.connectTimeout)) this.connectTimer = setTimeout(() => this.connectTimedOut(), this.options.connectTimeout);
  }

  private transportHandlers(onOpen: () => void): TransportHandlers {
    return {
      onOpen,
      onText: (text) => this.receive(text),
      onBinary: () => this.reportToPrimary(new SwitchboardError(ErrorCode.BinaryNotSupported, 'the server sent a binary frame; protocol v1 carries JSON text only')),
      onClose: (closed) => this.transportClosed(closed),
    };
  }

  private receive(text: string): void {
    this.watchdog?.touch();
    // Every frame after the welcome counts, readable or not: the server numbers what it sent.
    if (this.phase === 'open') this.count(text);
    const decoded = decodeServerFrame(text);
    if (!decoded.ok) {
      this.reportToPrimary(new SwitchboardError(decoded.error.code, `unreadable frame from the server: ${decoded.error.message}`));
      return;
    }
    this.route(decoded.frame);
  }

  private route(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        if (this.phase === 'handshaking') this.welcomed(frame);
        return;
      case 'ping':
        this.sendFrame({ type: 'pong' });
        return;
      case 'pong':
        return; // Liveness only: receive() already touched the watchdog.
      case 'reply':
        this.requests.settle(frame);
        this.pacer.replied(frame.ref);
        return;
      case 'error':
        this.lastErrorFrame = { code: frame.code, message: typeof frame.message === 'string' ? frame.message : '' };
        // SwitchboardError keeps only well-formed details (payload issues) of what the server sent.
        if (frame.details !== undefined) this.lastErrorFrame.details = frame.details;
        if (this.phase === 'open') {
          const member = this.members.get(frame.ns ?? ROOT_NAMESPACE) ?? this.members.get(this.options.namespace);
          member?.receiveError(SwitchboardError.fromPayload(this.lastErrorFrame));
        }
        return;
      case 'event':
        this.routeEvent(frame);
        return;
      case 'presence': {
        const member = this.members.get(frame.ns ?? ROOT_NAMESPACE);
        if (member?.isNamespaceConnected) member.receivePresence(frame);
        return;
      }
      case 'position': {
        const member = this.members.get(frame.ns ?? ROOT_NAMESPACE);
        if (member?.isNamespaceConnected) member.receivePosition(frame);
        return;
      }
      case 'disconnect':
        this.members.get(frame.ns ?? ROOT_NAMESPACE)?.serverDisconnected();
        return;
      case 'reauth':
        this.reauth(frame);
        return;
    }
  }

  /**
   * The server says a namespace's credentials expired: call its `auth` again and answer with
   * the result (the session goes on if the server accepts it), or with the error the function
   * threw. An of() namespace without its own `auth` used the hello's, so it gets connect()'s.
   */
  private reauth(frame: ReauthFrame): void {
    const ns = frame.ns ?? ROOT_NAMESPACE;
    const send = this.replySender();
    const member = this.members.get(ns);
    if (!member) {
      const message = `the client is not connected to namespace ${ns}`;
      send(encodeFrame({ type: 'reply', ref: frame.ref, error: { code: ErrorCode.NamespaceNotConnected, message } }));
      return;
    }
    const auth = member.auth === undefined ? this.options.auth : member.auth;
    resolveAuth(auth)
      .then(
        (data): HandlerOutcome => ({ ok: true, data }),
        (cause: unknown): HandlerOutcome => ({
          ok: false,
          error: cause instanceof SwitchboardError ? cause.toPayload() : { code: ErrorCode.Unauthorized, message: `the auth function failed: ${errorText(cause)}` },
        }),
      )
      .then((outcome) => send(encodeReply(frame.ref, outcome, this.limit)));
  }

  private routeEvent(frame: EventFrame): void {
    const member = this.members.get(frame.ns ?? ROOT_NAMESPACE);
    if (member?.isNamespaceConnected) {
      member.receiveEvent(frame);
    } else if (frame.ref !== undefined) {
      // Answer anyway so the server's request does not wait for its timeout.
      const message = `the client is not connected to namespace ${frame.ns ?? ROOT_NAMESPACE}`;
      this.sendFrame({ type: 'reply', ref: frame.ref, error: { code: ErrorCode.NamespaceNotConnected, message } });
    }
  }

  private welcomed(welcome: WelcomeFrame): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (welcome.v !== PROTOCOL_VERSION) {
      const error = new SwitchboardError(ErrorCode.UnsupportedVersion, `the server speaks protocol v${welcome.v}, this client v${PROTOCOL_VERSION}: upgrade the older side`);
      this.transport?.close(CloseCode.Normal, 'unsupported protocol version');
      this.lose(ConnectionReason.UnsupportedVersion, { error }, false, error);
      return;
    }
    // Resumed only if this hello asked for it: a server cannot resume what it was not offered.
    const resumed = welcome.resumed === true && this.presentedToken !== undefined && welcome.sid === this.sessionId;
    // Another node took the session over: it knows the rooms and the handled reliable publishes, not the frames in flight.
    const restored = !resumed && welcome.restored === true && this.presentedToken !== undefined && welcome.sid === this.sessionId;
    this.resumeToken = typeof welcome.resume === 'string' && welcome.resume !== '' ? welcome.resume : undefined;
    this.presentedToken = undefined;
    if (restored) this.sessionMoved();
    else if (!resumed) this.sessionLost('the server did not resume the session (it expired or ended, or the server restarted)');
    this.sessionId = welcome.sid;
    this.phase = 'open';
    this.welcome = welcome;
    this.schedule.reset();
    this.lastErrorFrame = undefined;
    this.limit = positive(welcome.limits.maxMessageBytes);
    // Before anything is sent on the socket: re-sends, rejoins and flushes all go through it.
    this.pacer.start(pacingLimits(welcome.limits));
    const transport = this.transport as ClientTransport;
    this.choice.succeeded(transport.kind);
    if (isHttpTransport(transport) && this.options.upgrade) this.upgrade.start(this.upgradeHost);
    this.ackEvery = ackCadence(welcome.limits);
    const interval = positive(welcome.heartbeat.interval);
    const timeout = positive(welcome.heartbeat.timeout);
    if (interval !== undefined && timeout !== undefined) {
      this.watchdog = new HeartbeatWatchdog(interval + timeout, () => this.heartbeatMissed());
      this.watchdog.start();
    }
    // At once: it shows the server this client got the new token (the old one is retired) and
    // that the session is worth keeping if the link drops (resume.silentTtl).
    if (this.resumeToken !== undefined) this.acknowledge();
    if (resumed) this.resumeSession();
    else if (restored) this.continueMoved();
    this.enterNamespaces(resumed);
  }

  /** After a welcome: connect (or, resumed, confirm) each namespace the app wants; the hello's namespace rejoins its rooms and flushes. */
  private enterNamespaces(resumed: boolean): void {
    // Order matters (see the brief): other namespaces first, then the hello's namespace rejoins its rooms and flushes.
    const primary = this.members.get(this.options.namespace);
    for (const member of [...this.members.values()]) {
      if (member === primary || !member.wantsConnection || this.members.get(member.namespace) !== member) continue;
      // The session kept this namespace: it is connected already, with its rooms.
      if (resumed && member.inSession) member.namespaceReady(ConnectionReason.NamespaceConnected, true);
      else this.connectNamespace(member);
      if (this.phase !== 'open') return; // a listener closed the client
    }
    if (!primary || this.members.get(primary.namespace) !== primary) return;
    if (primary.wantsConnection) primary.namespaceReady(ConnectionReason.HandshakeOk, resumed);
    // The hello always connects its namespace; undo that for one the server had disconnected.
    else this.sendFrame({ type: 'disconnect', ns: primary.namespace });
  }

  /**
   * The session resumed on this socket: first what the server is owed from before the drop —
   * replies to its requests, namespaces the app closed meanwhile — then every request that
   * may be sent twice, with its ref (reliable publishes keep their seq). The server's replies
   * to what it already had come right after the welcome; a second reply to a ref is ignored.
   */
  private resumeSession(): void {
    for (const text of this.heldReplies.splice(0)) this.send(text, 'reply');
    for (const ns of this.leftWhileAway) if (!this.members.get(ns)?.isNamespaceConnected) this.sendFrame({ type: 'disconnect', ns });
    this.leftWhileAway.clear();
    this.requests.resume((text, kind) => this.send(text, kind));
  }

  /** What a session another node restored is owed first: the namespaces the app closed meanwhile, and the reliable publishes still unanswered. */
  private continueMoved(): void {
    // The restored session still has the namespaces the app closed while away.
    for (const ns of this.leftWhileAway) if (!this.members.get(ns)?.isNamespaceConnected) this.sendFrame({ type: 'disconnect', ns });
    this.leftWhileAway.clear();
    this.requests.resendReliable((text, kind) => this.send(text, kind));
  }

  /**
   * The session moved to another node, which restored it without the frames the old one
   * had in flight: the server's requests and the client's plain requests from before are
   * gone (`disconnected`), reliable publishes are re-sent with their sequence numbers (the
   * restored dedupe window answers those already handled), and every room is rejoined with
   * its position so durable rooms replay what was missed.
   */
  private sessionMoved(): void {
    const why = 'the session moved to another server node; frames in flight were lost';
    this.received = 0;
    this.heldReplies = [];
    this.requests.sessionMoved(disconnectedError(why));
    for (const member of this.members.values()) member.sessionEnded();
  }

  /**
   * The server session is gone: requests sent in it fail with `disconnected`, reliable
   * publishes sent in it with `unconfirmed` (the server may or may not have run their handlers),
   * and nothing of it is left on the server. Publishes never sent go out in the next session.
   */
  private sessionLost(why: string): void {
    this.sessionEpoch++;
    this.received = 0;
    this.heldReplies = [];
    this.leftWhileAway.clear();
    this.outbox.newSession();
    this.requests.sessionLost(disconnectedError(why), unconfirmedError(why));
    for (const member of this.members.values()) member.sessionEnded();
  }

  /**
   * Count a frame received in the session and acknowledge now and then, so the server can
   * forget what it kept for a resume: at a quarter of what it keeps (see ackCadence), and at
   * the latest ACK_DELAY_MS after the first frame not yet acknowledged.
   */
  private count(text: string): void {
    this.received++;
    if (this.resumeToken === undefined) return; // no resume: the server keeps nothing
    this.unackedFrames++;
    this.unackedSize += text.length;
    if (this.unackedFrames >= this.ackEvery.frames || this.unackedSize >= this.ackEvery.size) this.acknowledge();
    else if (this.ackTimer === undefined) {
      this.ackTimer = setTimeout(() => this.acknowledge(), ACK_DELAY_MS);
      unrefTimer(this.ackTimer);
    }
  }

  private acknowledge(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.unackedFrames = 0;
    this.unackedSize = 0;
    if (this.phase === 'open') this.sendFrame({ type: 'ack', received: this.received });
  }

  /** The socket is down. Without a resume token the session cannot come back, so what it carried fails now. */
  private dropped(): void {
    if (this.resumeToken === undefined) this.sessionLost('the connection was lost and the server offers no session resume');
  }

  /**
   * Send a namespace's `connect` frame. Synchronous unless its auth is a function, so after a
   * welcome the connect frames go out before the hello's namespace flushes its buffer.
   */
  private connectNamespace(member: NamespaceMember): void {
    const generation = this.generation;
    if (typeof member.auth !== 'function') {
      this.sendConnect(member, member.auth, generation);
      return;
    }
    resolveAuth(member.auth).then(
      (auth) => this.sendConnect(member, auth, generation),
      (cause: unknown) => {
        if (generation !== this.generation) return;
        member.refused(new SwitchboardError(ErrorCode.Unauthorized, `the auth function of ${member.namespace} failed: ${errorText(cause)}`, { cause }));
      },
    );
  }

  private sendConnect(member: NamespaceMember, auth: unknown, generation: number): void {
    const current = (): boolean => generation === this.generation && this.members.get(member.namespace) === member;
    if (!current() || this.phase !== 'open') return;
    const { ref, reply } = this.requests.create(this.options.ackTimeout, `connect to ${member.namespace}`);
    const frame: ClientFrame = auth === undefined ? { type: 'connect', ref, ns: member.namespace } : { type: 'connect', ref, ns: member.namespace, auth };
    try {
      // A resume sends a fresh connect for a namespace not yet connected (the server answers ok if it is).
      if (!this.sendRequest(ref, encodeFrame(frame), 'blocking', { renewOnResume: true })) this.requests.fail(ref, disconnectedError('the socket closed'));
    } catch (error) {
      this.requests.fail(ref, error as SwitchboardError); // unserializable auth: refused below, like a server refusal
    }
    reply.then(
      () => {
        if (current()) member.namespaceReady(ConnectionReason.NamespaceConnected, false);
        // Closed by the app while the connect was on its way: undo it on the server.
        else if (generation === this.generation && !this.members.has(member.namespace)) this.sendFrame({ type: 'disconnect', ns: member.namespace });
      },
      (error: SwitchboardError) => {
        // A drop is retried by the next welcome; close() ends everything anyway.
        if (current() && error.code !== ErrorCode.Disconnected && error.code !== ErrorCode.Closed) member.refused(error);
      },
    );
  }

  private transportClosed(closed: TransportClosed): void {
    let outcome = classifyClose(closed, {
      url: this.options.url,
      transport: this.transport?.kind ?? 'websocket',
      handshakeDone: this.phase === 'open',
      lastError: this.lastErrorFrame,
      maxMessageBytes: this.limit,
    });
    this.transport = undefined;
    if (closed.code === CloseCode.SessionTakenOver) {
      // Another connection holds the session now; presenting its token again would take it back.
      this.resumeToken = undefined;
      this.sessionLost('another connection took over the session');
    }
    if (this.phase === 'handshaking') {
      const round = this.fallBack(outcome, isTransportFailure(closed, this.lastErrorFrame), failureText(closed));
      if (!round) return;
      outcome = round;
    }
    this.lose(outcome.reason, outcome.details, outcome.reconnect, outcome.connectError);
  }

  /**
   * An attempt failed before the welcome. A failure of the transport itself moves on to the
   * next transport of the round at once (undefined); otherwise, what to report for the round.
   */
  private fallBack(outcome: CloseOutcome, transportFailed: boolean, why: string): CloseOutcome | undefined {
    if (!transportFailed || !this.choice.fallBack(outcome, why)) return this.choice.roundOutcome(outcome, transportFailed);
    this.teardown();
    this.transport = undefined;
    void this.attemptOpen(true);
    return undefined;
  }

  /** The probe moved the session onto a WebSocket: the app notices nothing. */
  private upgraded(webSocket: ClientTransport, welcome: WelcomeFrame, held: string[]): TransportHandlers {
    if (isHttpTransport(this.transport)) this.transport.abandon();
    this.transport = webSocket;
    this.welcome = welcome;
    this.resumeToken = typeof welcome.resume === 'string' && welcome.resume !== '' ? welcome.resume : undefined;
    this.limit = positive(welcome.limits.maxMessageBytes);
    this.choice.succeeded(webSocket.kind);
    this.watchdog?.touch();
    // Sent on HTTP after the POST the probe waited for: they go first, in order.
    for (const text of held) webSocket.send(text);
    if (welcome.restored === true) {
      // The WebSocket reached another node, which took the session over without the frames in flight.
      this.sessionMoved();
      this.continueMoved();
      this.enterNamespaces(false);
    }
    return this.transportHandlers(() => {});
  }

  /** The HTTP transport was let go at the upgrade's hello and the WebSocket did not take over: resume as after a drop. */
  private upgradeFailed(why: string): void {
    const http = this.transport;
    // Held back for the WebSocket and sent nowhere: they go first if the session resumes, like replies made while away.
    if (isHttpTransport(http)) this.heldReplies.push(...http.takeHeld());
    // 4005: the session stays for the resume; what HTTP brought after the hello is sent again then.
    http?.close(CloseCode.Reconnecting, 'upgrade failed');
    const error = new SwitchboardError(ErrorCode.Disconnected, why);
    this.lose(ConnectionReason.TransportClosed, { error }, true, undefined, true);
  }

  /**
   * `immediate`: reconnect without a backoff wait (the silence was found late, after a wake).
   * Closes with 4002, not 1000: the client comes back, so the server must keep the session.
   */
  private heartbeatMissed(immediate = false): void {
    this.transport?.close(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
    this.lose(ConnectionReason.HeartbeatTimeout, { closeCode: CloseCode.HeartbeatTimeout }, true, undefined, immediate);
  }

  private connectTimedOut(): void {
    this.connectTimer = undefined;
    // 4005: the server may have resumed the session on this socket already; it must keep it for the next attempt.
    this.transport?.close(CloseCode.Reconnecting, 'no welcome in time');
    const error = new SwitchboardError(ErrorCode.Timeout, `no welcome from ${this.options.url} within ${this.options.connectTimeout} ms`);
    // A proxy that buffers an event stream or eats WebSocket frames: another transport may get through.
    const outcome = { reason: ConnectionReason.ConnectTimeout, details: { error }, reconnect: true, connectError: error };
    const round = this.fallBack(outcome, true, `no welcome within ${this.options.connectTimeout} ms`);
    if (round) this.lose(round.reason, round.details, round.reconnect, round.connectError);
  }

  /**
   * The socket is gone (or never came): retry or stop. What was sent waits for the next
   * welcome to say whether the session resumed; stopping fails the requests among it.
   */
  private lose(reason: ConnectionReason, details: ChangeDetails, reconnect: boolean, connectError?: SwitchboardError, immediate = false): void {
    this.teardown();
    this.transport = undefined;
    this.dropped();
    if (reconnect && this.network?.offline) {
      this.waitForNetwork(reason, details, connectError);
      return;
    }
    const generation = this.generation;
    const retry = reconnect ? this.schedule.next() : undefined;
    if (retry) {
      if (immediate) retry.delay = 0;
      this.phase = 'waiting';
      this.forEachMember((m) => m.connectionChanged(ConnectionState.Connecting, reason, details), generation);
      if (connectError) this.forEachMember((m) => m.connectFailed(connectError), generation);
      this.forEachMember((m) => m.reconnecting({ ...retry, reason }), generation);
      // A listener may have closed the client or called reconnectNow() meanwhile.
      if (this.generation !== generation || this.phase !== 'waiting') return;
      if (retry.delay === 0) void this.attemptOpen();
      else this.schedule.wait(retry.delay, () => void this.attemptOpen());
      return;
    }
    this.phase = 'stopped';
    // Nobody may ever reconnect: requests fail now. Reliable publishes wait for reconnectNow() or close().
    this.requests.failOnWire(disconnectedError(`the connection was lost (${reason}) and the client stopped reconnecting`));
    const finalReason = reconnect && this.options.reconnect.enabled ? ConnectionReason.ReconnectExhausted : reason;
    this.forEachMember((m) => m.connectionChanged(ConnectionState.Disconnected, finalReason, details), generation);
    if (connectError) this.forEachMember((m) => m.connectFailed(connectError), generation);
  }

  /**
   * No network: an attempt now would fail and only burn a backoff step, so none is counted.
   * `online` brings the next attempt; a slow probe (every reconnect.maxDelay) covers a wrong
   * navigator.onLine, which reads false on a machine whose only network is loopback.
   */
  private waitForNetwork(reason: ConnectionReason, details: ChangeDetails, connectError?: SwitchboardError): void {
    const generation = this.generation;
    this.phase = 'offline';
    this.forEachMember((m) => m.connectionChanged(ConnectionState.Connecting, reason, details), generation);
    if (connectError) this.forEachMember((m) => m.connectFailed(connectError), generation);
    if (this.generation === generation && this.phase === 'offline') this.schedule.wait(this.options.reconnect.maxDelay, () => void this.attemptOpen());
  }

  private wentOffline(): void {
    if (this.phase !== 'opening' && this.phase !== 'handshaking' && this.phase !== 'open' && this.phase !== 'waiting') return;
    this.generation++; // an attempt still resolving its auth must not open a socket now
    // 4005, not 1000: the client comes back when the network does, and the server keeps the session meanwhile.
    this.transport?.close(CloseCode.Reconnecting, 'network offline');
    this.teardown();
    this.transport = undefined;
    this.dropped();
    this.waitForNetwork(ConnectionReason.NetworkOffline, {});
  }

  /** Back online: an attempt within ONLINE_SPREAD_MS, with the backoff started over (see ReconnectSchedule.afterOnline). */
  private cameOnline(): void {
    if (this.phase !== 'offline' && this.phase !== 'waiting') return;
    this.schedule.wait(this.schedule.afterOnline(), () => void this.attemptOpen());
  }

  /**
   * The page woke up. Timers were frozen or throttled meanwhile, so a backoff wait or a
   * heartbeat watchdog may be long overdue: act on the clock now. Wake events come in
   * bursts (visibilitychange, pageshow, focus); only the waiting phases start an attempt,
   * so a burst starts one at most.
   */
  private woke(): void {
    if (this.phase === 'waiting') this.retryNow();
    else if (this.phase === 'offline' && !this.network?.offline) this.cameOnline(); // the `online` event was missed
    else if (this.phase === 'open' && this.watchdog?.overdue) this.heartbeatMissed(true);
  }

  /** Skip the wait: one attempt now. Only from 'waiting' or 'offline', where no attempt is in flight. */
  private retryNow(): void {
    this.schedule.cancel();
    void this.attemptOpen();
  }

  /** Stop the timers of the current attempt. */
  private teardown(): void {
    this.upgrade.stop();
    this.watchdog?.stop();
    this.watchdog = undefined;
    // What this socket received and did not acknowledge is in `received`, presented on resume.
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.unackedFrames = 0;
    this.unackedSize = 0;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.schedule.cancel();
    // What waited to be sent on this socket is sent again the way anything lost with it is.
    this.pacer.stop();
  }

  private sendFrame(frame: ClientFrame): void {
    const text = encodeFrame(frame);
    // Free on the server and about nothing the app sent: they need no place in line.
    if (frame.type === 'pong' || frame.type === 'ack') this.transport?.send(text);
    else this.send(text, frame.type === 'reply' ? 'reply' : 'plain');
  }

  private reportToPrimary(error: SwitchboardError): void {
    this.members.get(this.options.namespace)?.receiveError(error);
  }

  /**
   * Tell every namespace. Listeners may add namespaces, close the client or call
   * reconnectNow() while being told: iterate over a snapshot, and stop once the attempt
   * being reported is no longer the current one.
   */
  private forEachMember(fn: (member: NamespaceMember) => void, generation = this.generation): void {
    for (const member of [...this.members.values()]) {
      if (this.generation !== generation || this.phase === 'closed') return;
      if (this.members.get(member.namespace) === member) fn(member);
    }
  }
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

export function closedError(): SwitchboardError {
  return new SwitchboardError(ErrorCode.Closed, 'the client was closed');
}

export function unconfirmedError(why: string): SwitchboardError {
  return new SwitchboardError(
    ErrorCode.Unconfirmed,
    `reliable publish sent but never acknowledged: ${why}, so the session it was sent in is lost and it cannot be known whether the server's handler ran; check the server's state and publish again if needed`,
  );
}
