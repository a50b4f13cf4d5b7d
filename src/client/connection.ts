import { CloseCode } from '../protocol/close-codes.js';
import { decodeServerBinary, decodeServerFrame, type DecodeResult, encodeFrame, utf8ByteLength } from '../protocol/codec.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ClientFrame, ErrorPayload, HelloFrame, ServerFrame, WelcomeFrame } from '../protocol/frames.js';
import { closedError, errorText } from './client-errors.js';
import { ClientSession, type SessionCarrier } from './client-session.js';
import { type ClientTransport, isHttpTransport, type TransportClosed, type TransportHandlers, type TransportKind } from './client-transport.js';
import { classifyClose, type CloseOutcome } from './close-outcome.js';
import type { Phase } from './connection-phase.js';
import { type ChangeDetails, ConnectionReason, ConnectionState } from './connection-state.js';
import { type FallbackTransports, fallbackTransports } from './fallback-loader.js';
import { HeartbeatWatchdog } from './heartbeat-watchdog.js';
import type { NamespaceMember } from './namespace-member.js';
import { NamespaceRouter, type RouterCarrier } from './namespace-router.js';
import { type ResolvedOptions, resolveAuth } from './options.js';
import { OutgoingRequests } from './outgoing-requests.js';
import { Outbound } from './outbound.js';
import { pacingLimits } from './pacing-limits.js';
import { Reconnection } from './reconnection.js';
import { ReliableOutbox } from './reliable-outbox.js';
import { failureText, isTransportFailure, openTransport, TransportChoice } from './transport-choice.js';
import { TransportUpgrade } from './transport-upgrade.js';

/**
 * One logical connection to a Switchboard server, and the one place where it moves between
 * phases (see Phase): opens WebSockets (or SSE or long-polling where they fail:
 * TransportChoice), handshakes, watches the heartbeat, and after a loss lets Reconnection
 * decide between a retry, a wait for the network and a stop. It composes the client's side
 * of the server session (ClientSession: resume, what is owed, acks), the namespaces on the
 * connection (NamespaceRouter), what they send (Outbound) and the move of an HTTP session
 * onto a WebSocket (TransportUpgrade); each sees only the port it needs of it.
 */
export class Connection implements SessionCarrier, RouterCarrier {
  /** Requests of every namespace: refs are per session, not per namespace. */
  readonly requests = new OutgoingRequests();
  /** Reliable publishes of every namespace: their sequence numbers are per session. */
  readonly outbox: ReliableOutbox;
  private phase: Phase = 'idle';
  private transport: ClientTransport | undefined;
  private readonly choice: TransportChoice;
  /** Bumped by every attempt and by close(), so async steps of a stale attempt stop. */
  private attempt = 0;
  private readonly reconnection: Reconnection;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: HeartbeatWatchdog | undefined;
  private lastErrorFrame: ErrorPayload | undefined;
  private welcome: WelcomeFrame | undefined;
  private limit: number | undefined;
  private readonly session: ClientSession = new ClientSession(this);
  private readonly router: NamespaceRouter = new NamespaceRouter(this);
  /** What the namespaces send, paced by the welcome's limits. */
  readonly outbound = new Outbound(this.requests, (text) => this.transport?.send(text) ?? false);
  private readonly upgrade: TransportUpgrade;

  constructor(readonly options: ResolvedOptions) {
    this.reconnection = new Reconnection(
      {
        phase: () => this.phase,
        generation: () => this.attempt,
        requests: this.requests,
        enter: (phase) => this.enter(phase),
        attemptOpen: () => void this.attemptOpen(),
      },
      this.router,
      options,
    );
    this.outbox = new ReliableOutbox(options.outboxLimit);
    this.choice = new TransportChoice(options.url, options.transports);
    this.upgrade = new TransportUpgrade({
      current: () => this.transport,
      movable: () => this.phase === 'open' && this.session.resumeToken !== undefined,
      openWebSocket: (handlers) => openTransport('websocket', this.options, handlers, () => this.limit),
      resumeHello: () => this.session.resumeHello(this.options.namespace),
      sessionId: () => this.session.id,
      connectTimeout: () => this.options.connectTimeout,
      switched: (webSocket, welcome, held) => this.switched(webSocket, welcome, held),
      lost: (why, held) => this.upgradeLost(why, held),
    });
  }

  get generation(): number {
    return this.attempt;
  }

  get isOpen(): boolean {
    return this.phase === 'open';
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

  /** Bytes of a frame as the transport in use would send it (without one: the text form, the larger). */
  frameBytes(text: string): number {
    return this.transport?.frameBytes(text) ?? utf8ByteLength(text);
  }

  member(namespace: string): NamespaceMember | undefined {
    return this.router.get(namespace);
  }

  members(): Iterable<NamespaceMember> {
    return this.router.all();
  }

  isNamespaceConnected(namespace: string): boolean {
    return this.router.isConnected(namespace);
  }

  /** Register a namespace. On a live connection its `connect` frame goes out now; otherwise after the next welcome. */
  add(member: NamespaceMember): void {
    if (this.phase === 'closed') throw closedError();
    this.router.add(member);
    if (member.namespace === this.options.namespace) return;
    if (this.phase === 'stopped' || this.phase === 'idle') return;
    member.connectionChanged(ConnectionState.Connecting, ConnectionReason.ConnectCalled, {});
    if (this.phase === 'open') this.router.connect(member);
  }

  /** Unregister a namespace the app closed, telling the server if it is connected (now, or when the session resumes). */
  remove(member: NamespaceMember): void {
    if (!this.router.delete(member)) return;
    if (this.phase === 'open' && member.isNamespaceConnected) this.sendFrame({ type: 'disconnect', ns: member.namespace });
    else if (member.inSession) this.session.leftWhileDown(member.namespace);
  }

  start(): void {
    if (this.phase !== 'idle') return;
    this.reconnection.watchNetwork(() => this.wentOffline(), () => this.woke());
    this.router.forEach((m) => m.connectionChanged(ConnectionState.Connecting, ConnectionReason.ConnectCalled, {}));
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
          this.router.connect(member);
        }
        return;
      case 'waiting':
      case 'offline':
        this.reconnection.retryNow();
        return;
      case 'idle':
      case 'stopped':
        this.reconnection.reset();
        this.router.forEach((m) => m.connectionChanged(ConnectionState.Connecting, ConnectionReason.ReconnectCalled, {}));
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
    this.enter('closed');
    this.attempt++;
    this.session.ended();
    this.reconnection.stop();
    // Every request fails with `closed`, in flight or buffered: the app ended them, the network did not.
    this.requests.failAll(closedError());
    this.outbox.clear();
    // A probe that may carry the session already ends it too.
    this.upgrade.stop(CloseCode.Normal);
    this.teardown();
    this.transport?.close(CloseCode.Normal, 'client closed');
    this.transport = undefined;
    for (const member of this.router.takeAll()) member.connectionClosed();
  }

  /** A sender for the reply to a server request, bound to the current session (see ClientSession.replySender). */
  replySender(): (text: string) => void {
    return this.session.replySender();
  }

  sendFrame(frame: ClientFrame): void {
    const text = encodeFrame(frame);
    // Free on the server and about nothing the app sent: they need no place in line.
    if (frame.type === 'pong' || frame.type === 'ack') this.transport?.send(text);
    else this.outbound.send(text, frame.type === 'reply' ? 'reply' : 'plain');
  }

  /** The one place the phase changes. */
  private enter(phase: Phase): void {
    this.phase = phase;
  }

  /** `fallback`: the next transport of the round, after the last one failed on its own; otherwise a new round. */
  private async attemptOpen(fallback = false): Promise<void> {
    if (this.phase === 'closed') return;
    const generation = ++this.attempt;
    const kind = fallback ? this.choice.current : this.choice.begin();
    this.enter('opening');
    let hello: string;
    try {
      const auth = await resolveAuth(this.router.primary?.auth);
      const frame: HelloFrame = { type: 'hello', v: PROTOCOL_VERSION, ns: this.options.namespace, auth };
      // Frames carrying binary data then come as binary messages; HTTP transports carry their text form.
      if (kind === 'websocket') frame.binary = true;
      this.session.present(frame);
      // Encoded before the socket opens, so an auth payload JSON cannot carry fails here, not in onopen.
      hello = encodeFrame(frame);
    } catch (cause) {
      if (generation !== this.attempt) return;
      const error =
        cause instanceof SwitchboardError ? cause : new SwitchboardError(ErrorCode.Unauthorized, `the auth function failed: ${errorText(cause)}`, { cause });
      this.lose(ConnectionReason.AuthFailed, { error }, true, error);
      return;
    }
    if (generation !== this.attempt) return;
    let httpTransports: FallbackTransports | undefined;
    if (kind !== 'websocket') {
      try {
        httpTransports = fallbackTransports.loaded ?? (await fallbackTransports.load());
      } catch (cause) {
        if (generation !== this.attempt) return;
        this.chunkFailed(cause as SwitchboardError);
        return;
      }
      if (generation !== this.attempt) return;
    }
    this.lastErrorFrame = undefined;
    try {
      // Before the welcome, outside the pacing: the server does not count the hello.
      const handlers = this.transportHandlers(() => this.transport?.send(hello));
      this.transport = openTransport(kind, this.options, handlers, () => this.limit, () => this.session.resumeToken, httpTransports);
    } catch (cause) {
      // A constructor that throws (malformed URL) fails the same way every time: retrying cannot help.
      const error = new SwitchboardError(ErrorCode.Disconnected, `cannot open a ${kind} connection to ${this.options.url}: ${errorText(cause)}`, { cause });
      this.lose(ConnectionReason.TransportError, { error }, false, error);
      return;
    }
    this.enter('handshaking');
    // Infinity means "no timeout": setTimeout would turn it into 1 ms.
    if (Number.isFinite(this.options.connectTimeout)) this.connectTimer = setTimeout(() => this.connectTimedOut(), this.options.connectTimeout);
  }

  private transportHandlers(onOpen: () => void): TransportHandlers {
    return {
      onOpen,
      onText: (text) => this.receive(decodeServerFrame(text), text.length),
      onBinary: (message) => this.receive(decodeServerBinary(message), message.length),
      onClose: (closed) => this.transportClosed(closed),
    };
  }

  /** `size`: the frame's length on the wire (acknowledgements are paced by it). */
  private receive(decoded: DecodeResult<ServerFrame>, size: number): void {
    this.watchdog?.touch();
    // Every frame after the welcome counts, readable or not: the server numbers what it sent.
    if (this.phase === 'open') this.session.count(size);
    if (!decoded.ok) {
      this.router.reportToPrimary(new SwitchboardError(decoded.error.code, `unreadable frame from the server: ${decoded.error.message}`));
      return;
    }
    this.route(decoded.frame);
  }

  private route(frame: ServerFrame): void {
    if (frame.type === 'welcome') {
      if (this.phase === 'handshaking') this.welcomed(frame);
    } else if (frame.type === 'error') {
      this.lastErrorFrame = { code: frame.code, message: typeof frame.message === 'string' ? frame.message : '' };
      // SwitchboardError keeps only well-formed details (payload issues) of what the server sent.
      if (frame.details !== undefined) this.lastErrorFrame.details = frame.details;
      if (this.phase === 'open') this.router.receiveError(frame.ns, SwitchboardError.fromPayload(this.lastErrorFrame));
    } else {
      this.router.route(frame);
      // Over SSE and long-polling every POST is a request: the pong takes the pending ack along
      // (the same POST), instead of a second request a second later for each heartbeat.
      if (frame.type === 'ping' && this.transport?.kind !== 'websocket') this.session.acknowledgePending();
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
    const step = this.session.welcomed(welcome);
    this.enter('open');
    this.welcome = welcome;
    this.reconnection.reset();
    this.lastErrorFrame = undefined;
    this.limit = positive(welcome.limits.maxMessageBytes);
    // Before anything is sent on the socket: re-sends, rejoins and flushes all go through it.
    this.outbound.start(pacingLimits(welcome.limits));
    const transport = this.transport as ClientTransport;
    this.choice.succeeded(transport.kind);
    if (isHttpTransport(transport) && this.options.upgrade) this.upgrade.start();
    const interval = positive(welcome.heartbeat.interval);
    const timeout = positive(welcome.heartbeat.timeout);
    if (interval !== undefined && timeout !== undefined) {
      this.watchdog = new HeartbeatWatchdog(interval + timeout, () => this.heartbeatMissed());
      this.watchdog.start();
    }
    this.session.acknowledgeWelcome();
    this.session.catchUp(step);
    this.router.enter(step.keepNamespaces, welcome.user);
  }

  /** The upgrade moved the session onto a WebSocket: the app notices nothing, unless another node restored it. */
  private switched(webSocket: ClientTransport, welcome: WelcomeFrame, held: readonly string[]): TransportHandlers {
    this.transport = webSocket;
    this.welcome = welcome;
    this.limit = positive(welcome.limits.maxMessageBytes);
    this.choice.succeeded(webSocket.kind);
    this.watchdog?.touch();
    // Sent on HTTP after the POST the probe waited for: they go first, in order.
    for (const text of held) webSocket.send(text);
    const step = this.session.upgraded(welcome);
    if (step.outcome === 'restored') {
      this.session.catchUp(step);
      this.router.enter(false, welcome.user);
    }
    return this.transportHandlers(() => {});
  }

  /** The HTTP transport was let go at the upgrade's hello and the WebSocket did not take over: resume as after a drop. */
  private upgradeLost(why: string, held: readonly string[]): void {
    this.session.hold(held);
    const error = new SwitchboardError(ErrorCode.Disconnected, why);
    this.lose(ConnectionReason.TransportClosed, { error }, true, undefined, true);
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
    if (closed.code === CloseCode.SessionTakenOver) this.session.takenOver();
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

  /**
   * `immediate`: reconnect without a backoff wait (the silence was found late, after a wake).
   * Closes with 4002, not 1000: the client comes back, so the server must keep the session.
   */
  private heartbeatMissed(immediate = false): void {
    this.transport?.close(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
    this.lose(ConnectionReason.HeartbeatTimeout, { closeCode: CloseCode.HeartbeatTimeout }, true, undefined, immediate);
  }

  /** The fallback transports could not be loaded: a failure of this transport, which a WebSocket later in the round may not share. */
  private chunkFailed(error: SwitchboardError): void {
    this.choice.skipHttpTransports();
    const outcome = { reason: ConnectionReason.TransportError, details: { error }, reconnect: true, connectError: error };
    const round = this.fallBack(outcome, true, error.message);
    if (round) this.lose(round.reason, round.details, round.reconnect, round.connectError);
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
    this.release();
    this.reconnection.lost({ reason, details, reconnect, connectError, immediate });
  }

  /** Let the socket go: stop its timers and tell the session, which fails what it carried if it cannot resume. */
  private release(): void {
    this.teardown();
    this.transport = undefined;
    this.session.dropped();
  }

  private wentOffline(): void {
    if (this.phase !== 'opening' && this.phase !== 'handshaking' && this.phase !== 'open' && this.phase !== 'waiting') return;
    this.attempt++; // an attempt still resolving its auth must not open a socket now
    // 4005, not 1000: the client comes back when the network does, and the server keeps the session meanwhile.
    this.transport?.close(CloseCode.Reconnecting, 'network offline');
    this.release();
    this.reconnection.waitForNetwork(ConnectionReason.NetworkOffline, {});
  }

  /**
   * The page woke up. Timers were frozen or throttled meanwhile, so a heartbeat watchdog may
   * be long overdue (and a backoff wait: see Reconnection.woke): act on the clock now.
   */
  private woke(): void {
    if (this.phase !== 'open') this.reconnection.woke();
    else if (this.watchdog?.overdue) this.heartbeatMissed(true);
  }

  /** Stop the timers of the current attempt. */
  private teardown(): void {
    this.upgrade.stop();
    this.watchdog?.stop();
    this.watchdog = undefined;
    this.session.stopAcks();
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.reconnection.cancel();
    // What waited to be sent on this socket is sent again the way anything lost with it is.
    this.outbound.stop();
  }
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
