import { encodeFrame } from '../protocol/codec.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import type { ClientFrame, HelloFrame, WelcomeFrame } from '../protocol/frames.js';
import { unrefTimer } from './timers.js';
import { ACK_DELAY_MS, ackCadence, type AckCadence } from './ack-cadence.js';
import { unconfirmedError } from './client-errors.js';
import type { NamespaceMember } from './namespace-member.js';
import { disconnectedError, type OutgoingRequests } from './outgoing-requests.js';
import type { ReliableOutbox } from './reliable-outbox.js';
import type { Outbound } from './outbound.js';
import type { OutgoingFrame } from './send-pacer.js';
import { endedMirror, meetWelcome, NO_SESSION, type SessionMirror, type WelcomeStep } from './session-mirror.js';

/** What the client's side of the session needs of the connection that carries it. */
export interface SessionCarrier {
  readonly requests: OutgoingRequests;
  readonly outbox: ReliableOutbox;
  /** A welcomed socket carries the session now. */
  readonly isOpen: boolean;
  readonly isClosed: boolean;
  /** Through the pacing, on the welcomed socket. */
  readonly outbound: Pick<Outbound, 'enqueue'>;
  sendFrame(frame: ClientFrame): void;
  members(): Iterable<NamespaceMember>;
  isNamespaceConnected(namespace: string): boolean;
}

/**
 * The client's side of the server session. Every reconnect presents the last resume token
 * and the count of frames received; the welcome says whether the session was resumed, restored
 * on another node or replaced (meetWelcome). What was sent in the session is decided then, not
 * at the drop: kept and re-sent on a resume, failed on a new session.
 *
 * It also acknowledges what it receives, so the server can forget what it kept for a resume.
 */
export class ClientSession {
  /** Id, token and epoch; the parts below change between welcomes, so they are kept apart and joined by snapshot(). */
  private mirror: SessionMirror = NO_SESSION;
  private received = 0;
  private heldReplies: string[] = [];
  private readonly leftWhileAway = new Set<string>();
  /** The token the hello of the current attempt carried. */
  private presentedToken: string | undefined;
  /** How often to acknowledge, from the last welcome's limits (until one arrives: what a server with defaults keeps). */
  private ackEvery: AckCadence = ackCadence(undefined);
  /** Received since the last `ack`: frames and UTF-16 code units. */
  private unackedFrames = 0;
  private unackedSize = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly carrier: SessionCarrier) {}

  get id(): string | undefined {
    return this.mirror.sessionId;
  }

  get resumeToken(): string | undefined {
    return this.mirror.resumeToken;
  }

  /** Ask for the session back in this hello, if there is one to ask for. Read after the auth function: the session may have ended meanwhile. */
  present(hello: HelloFrame): void {
    this.presentedToken = this.mirror.resumeToken;
    if (this.presentedToken === undefined) return;
    hello.resume = this.presentedToken;
    hello.received = this.received;
  }

  /** The hello that resumes the session at this instant, for an upgrade to WebSocket. */
  resumeHello(namespace: string): string {
    // Always on a WebSocket: it asks for binary messages, as any hello on one does.
    return encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, ns: namespace, resume: this.mirror.resumeToken, received: this.received, binary: true });
  }

  /**
   * A welcome on a new socket. What the server no longer has fails now, before anything is
   * sent on the socket; catchUp() sends what the server is owed once the socket is in use.
   */
  welcomed(welcome: WelcomeFrame): WelcomeStep {
    const step = meetWelcome(welcome, this.snapshot(), this.presentedToken);
    this.presentedToken = undefined;
    this.adopt(step);
    this.ackEvery = ackCadence(welcome.limits);
    return step;
  }

  /**
   * The upgrade probe's WebSocket took the session over. Resumed, nothing was lost (what HTTP
   * held back goes first on the WebSocket); restored on another node, the frames in flight were.
   */
  upgraded(welcome: WelcomeFrame): WelcomeStep {
    const step = meetWelcome(welcome, this.snapshot(), this.mirror.resumeToken);
    if (step.outcome === 'restored') this.adopt(step);
    else this.mirror = { ...this.mirror, resumeToken: step.mirror.resumeToken };
    return step;
  }

  /** After a welcome, on the welcomed socket: first what the server is owed from before the drop, then the requests to send again. */
  catchUp(step: WelcomeStep): void {
    const send = (text: string, kind: OutgoingFrame['kind']): boolean => this.carrier.outbound.enqueue({ kind, text });
    for (const text of step.replay) send(text, 'reply');
    for (const namespace of step.disconnect) if (!this.carrier.isNamespaceConnected(namespace)) this.carrier.sendFrame({ type: 'disconnect', ns: namespace });
    // The server's replies to what it already had come right after the welcome; a second reply to a ref is ignored.
    if (step.requests === 'resend') this.carrier.requests.resume(send);
    else if (step.requests === 'resend_reliable') this.carrier.requests.resendReliable(send);
  }

  /** The socket is down. Without a resume token the session cannot come back, so what it carried fails now. */
  dropped(): void {
    if (this.mirror.resumeToken === undefined) this.lost('the connection was lost and the server offers no session resume');
  }

  /** Another connection holds the session now; presenting its token again would take it back. */
  takenOver(): void {
    this.mirror = { ...this.mirror, resumeToken: undefined };
    this.lost('another connection took over the session');
  }

  /** close(): nothing is sent into the session any more, and it is not resumed. */
  ended(): void {
    this.mirror = { ...this.mirror, epoch: this.mirror.epoch + 1, resumeToken: undefined };
    this.heldReplies = [];
  }

  /** A namespace the app closed while the socket was down, which the session still holds. */
  leftWhileDown(namespace: string): void {
    this.leftWhileAway.add(namespace);
  }

  /** Frames a failed upgrade held back and sent nowhere: they go first if the session resumes, like replies made while away. */
  hold(texts: readonly string[]): void {
    this.heldReplies.push(...texts);
  }

  /**
   * A sender for the reply to a server request, bound to the current session: the server
   * waits for it across a resume (held while the socket is down), but refs of a session that
   * is gone mean nothing to the next one.
   */
  replySender(): (text: string) => void {
    const epoch = this.mirror.epoch;
    return (text) => {
      if (epoch !== this.mirror.epoch) return;
      // Not before the welcome: until then nobody knows whether the session is still the one that asked.
      if (this.carrier.isOpen && this.carrier.outbound.enqueue({ kind: 'reply', text, dropped: () => this.holdReply(text, epoch) })) return;
      this.heldReplies.push(text);
    };
  }

  /**
   * Count a frame received in the session and acknowledge now and then, so the server can
   * forget what it kept for a resume: at a quarter of what it keeps (see ackCadence), and at
   * the latest ACK_DELAY_MS after the first frame not yet acknowledged.
   */
  count(size: number): void {
    this.received++;
    if (this.mirror.resumeToken === undefined) return; // no resume: the server keeps nothing
    this.unackedFrames++;
    this.unackedSize += size;
    if (this.unackedFrames >= this.ackEvery.frames || this.unackedSize >= this.ackEvery.size) this.acknowledge();
    else if (this.ackTimer === undefined) {
      this.ackTimer = setTimeout(() => this.acknowledge(), ACK_DELAY_MS);
      unrefTimer(this.ackTimer);
    }
  }

  /**
   * At once after a welcome: it shows the server this client got the new token (the old one
   * is retired) and that the session is worth keeping if the link drops (resume.silentTtl).
   */
  acknowledgeWelcome(): void {
    if (this.mirror.resumeToken !== undefined) this.acknowledge();
  }

  /** Acknowledge now what is waiting for the ack timer, if anything. */
  acknowledgePending(): void {
    if (this.unackedFrames > 0) this.acknowledge();
  }

  /** The socket is gone: what it received and did not acknowledge is in `received`, presented on resume. */
  stopAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.unackedFrames = 0;
    this.unackedSize = 0;
  }

  private acknowledge(): void {
    this.stopAcks();
    if (this.carrier.isOpen) this.carrier.sendFrame({ type: 'ack', received: this.received });
  }

  /** A reply still waiting in the pacing when the socket went: held for the session's resume, like one made while away. */
  private holdReply(text: string, epoch: number): void {
    if (epoch === this.mirror.epoch && !this.carrier.isClosed) this.heldReplies.push(text);
  }

  /**
   * The server session is gone: requests sent in it fail with `disconnected`, reliable
   * publishes sent in it with `unconfirmed` (the server may or may not have run their handlers),
   * and nothing of it is left on the server. Publishes never sent go out in the next session.
   */
  private lost(why: string): void {
    this.take(endedMirror(this.snapshot()));
    this.fail(why, 'fail');
  }

  private snapshot(): SessionMirror {
    return { ...this.mirror, received: this.received, heldReplies: this.heldReplies, leftWhileAway: [...this.leftWhileAway] };
  }

  /** Take the step's mirror, and fail what the server no longer has. */
  private adopt(step: WelcomeStep): void {
    this.take(step.mirror);
    if (step.lost !== undefined) this.fail(step.lost, step.requests);
  }

  private take(mirror: SessionMirror): void {
    this.mirror = mirror;
    this.received = mirror.received;
    this.heldReplies = [...mirror.heldReplies];
    this.leftWhileAway.clear();
    for (const namespace of mirror.leftWhileAway) this.leftWhileAway.add(namespace);
  }

  /** The requests of a session the server no longer has: all of them (`fail`), or all but the reliable publishes, which it can still answer once. */
  private fail(why: string, requests: WelcomeStep['requests']): void {
    const error = disconnectedError(why);
    if (requests === 'fail') {
      this.carrier.outbox.newSession();
      this.carrier.requests.sessionLost(error, unconfirmedError(why));
    } else {
      this.carrier.requests.sessionMoved(error);
    }
    for (const member of this.carrier.members()) member.sessionEnded();
  }
}
