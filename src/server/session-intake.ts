import { decodeClientBinary, decodeClientFrame, type DecodeResult } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ClientFrame } from '../protocol/frames.js';
import { FrameRate } from './frame-rate.js';
import type { ResolvedOptions } from './options.js';
import type { RefusedClient, ServerCounters } from './server-counters.js';
import { type FrameServices, type RoutedSession, routeFrame } from './session-requests.js';
import { DisconnectReason } from './socket.js';

/** What the intake keeps of each session (fields of the session: no object per session). */
export interface IntakeState {
  /** This connection's frame rate (`frameRate`); undefined when it is off. Moves with the connection on resume. */
  frameRate: FrameRate | undefined;
  /** The first frame (the hello) has arrived: every later one counts against the rate. */
  helloReceived: boolean;
  /**
   * The client sent a frame after its hello (the SDK acknowledges every welcome at once):
   * a session whose client never did is an abandoned connection, kept only `resume.silentTtl`.
   */
  heardAfterHello: boolean;
  /**
   * Free frames (`pong`, `ack`, `reply`) the client may still send without a token: one per
   * frame the server sent (what they answer), up to FREE_CREDIT_MAX. Past it they take
   * tokens of the frame rate like any frame, so a flood of them is cut off as abuse.
   */
  freeCredit: number;
  /** Frames that arrived while a handshake, connect or join was pending. */
  queue: QueuedFrame[] | undefined;
  /** A handshake, connect or join is pending. */
  busy: boolean;
}

/** What the intake needs of a session. */
export interface IntakeSession extends RoutedSession, IntakeState, RefusedClient {}

/** Free frames a client may send beyond what they answer (see IntakeState.freeCredit). */
export const FREE_CREDIT_MAX = 1000;

/** Frames that answer the server: not counted against the rate (see withinRate). */
const FREE_FRAMES: ReadonlySet<ClientFrame['type']> = new Set(['pong', 'ack', 'reply']);

/** A text frame's JSON, or a binary message's bytes (see protocol/binary.ts). */
export type QueuedFrame = string | Uint8Array;

/**
 * Sessions' incoming frames: counted against the connection's rate, decoded, and
 * processed in arrival order. While a handshake, namespace connect or join is pending,
 * later frames wait in a bounded queue. One per server; what it keeps of a session is
 * the session's IntakeState.
 */
export class FrameIntake {
  constructor(
    private readonly options: ResolvedOptions,
    private readonly reportError: (err: unknown, context: Record<string, unknown>) => void,
    /** Where frames go once in order; and the answers to those refused here. */
    private readonly services: FrameServices,
    private readonly counters: ServerCounters,
  ) {}

  /** The rate of a new connection; undefined when `frameRate` is off. */
  newRate(): FrameRate | undefined {
    return this.options.frameRate ? new FrameRate(this.options.frameRate) : undefined;
  }

  /** A frame from the session's connection. */
  receive(session: IntakeSession, data: QueuedFrame): void {
    this.counters.frameIn(data);
    let decoded: DecodeResult<ClientFrame> | undefined;
    if (session.helloReceived) {
      session.heardAfterHello = true;
      if (session.frameRate) {
        decoded = decodeFrame(data);
        if (!this.withinRate(session, session.frameRate, decoded)) return;
      }
    }
    session.helloReceived = true;
    this.take(session, data, decoded);
  }

  /** A frame was sent to the client: one more answer to it is free. */
  sent(session: IntakeState): void {
    if (session.freeCredit < FREE_CREDIT_MAX) session.freeCredit++;
  }

  /** The connection of `from` resumed `to`: its rate (already counted) and the frames queued behind its hello go there. */
  handOver(from: IntakeSession, to: IntakeSession): void {
    const queued = from.queue ?? [];
    from.queue = undefined;
    to.frameRate = from.frameRate;
    for (const frame of queued) if (!to.over) this.take(to, frame);
  }

  /** A frame the rate let through: process it now, or queue it behind a pending handshake, connect or join. */
  private take(session: IntakeSession, data: QueuedFrame, decoded?: DecodeResult<ClientFrame>): void {
    if (!session.busy) {
      this.process(session, data, decoded);
      return;
    }
    const queue = (session.queue ??= []);
    if (queue.length >= this.options.maxQueuedFrames) {
      this.services.outbox.fail(session, ErrorCode.Overloaded, `more than ${this.options.maxQueuedFrames} frames sent while a handshake, connect or join was pending`, CloseCode.PolicyViolation);
      return;
    }
    queue.push(data);
  }

  /**
   * Count a frame after the hello against the connection's rate; false when it must not be
   * processed. Frames that answer the server (`pong`, `ack`, `reply`) are free while they
   * answer something: their number follows what the server sends, and they make it send
   * nothing. Beyond one per frame the server sent (see freeCredit) they take tokens like any
   * frame, so a client flooding acks is rate limited and closed like any flooder. A request over the rate
   * always gets its `rate_limited` reply (nothing waits for a timeout); of the other frames
   * only the first rejected since the last accepted one gets an error frame.
   */
  private withinRate(session: IntakeSession, rate: FrameRate, decoded: DecodeResult<ClientFrame> | undefined): boolean {
    if (decoded?.ok && FREE_FRAMES.has(decoded.frame.type) && session.freeCredit > 0) {
      session.freeCredit--;
      return true;
    }
    const verdict = rate.take();
    if (verdict === 'accept') return true;
    const { frameRate } = this.options;
    const limit = `${frameRate?.perSecond} frames per second, burst ${frameRate?.burst}`;
    if (verdict === 'abuse') {
      // Once: a connection the server already closes for another reason is on its way out.
      if (session.closeReason !== undefined) return false;
      this.counters.refusedIn(session, ErrorCode.RateLimited);
      this.services.outbox.fail(session, ErrorCode.RateLimited, `kept sending past the rate limit (${limit}); closing`, CloseCode.PolicyViolation, DisconnectReason.RateLimited);
      // A flooder may not read, and then never completes the closing handshake.
      const timer = setTimeout(() => session.terminate(DisconnectReason.RateLimited), 1000);
      timer.unref();
      return false;
    }
    const error = { code: ErrorCode.RateLimited, message: `over the rate limit (${limit}): frame not processed; slow down` };
    const frame = decoded?.ok ? decoded.frame : undefined;
    const ref = frame ? requestRef(frame) : decoded?.ok === false ? decoded.ref : undefined;
    const { outbox } = this.services;
    // Counted as the client is told: a request's reply, or the first error since the last accepted frame.
    if (ref !== undefined || verdict === 'reject') this.counters.refusedIn(session, ErrorCode.RateLimited, frame && 'ns' in frame ? frame.ns : undefined);
    if (ref !== undefined) outbox.replyError(session, ref, error);
    else if (verdict === 'reject') outbox.sendError(session, error, frame && 'ns' in frame ? frame.ns : undefined);
    return false;
  }

  private process(session: IntakeSession, data: QueuedFrame, decoded?: DecodeResult<ClientFrame>): void {
    const handshaken = session.welcomed;
    const { outbox } = this.services;
    if (!handshaken && typeof data !== 'string') {
      outbox.fail(session, ErrorCode.BadHandshake, 'the first frame must be a JSON text hello frame, not a binary message', CloseCode.BadHandshake);
      return;
    }
    decoded ??= decodeFrame(data);
    if (!decoded.ok) {
      if (!handshaken) outbox.fail(session, ErrorCode.BadHandshake, `the first frame must be a valid hello: ${decoded.error.message}`, CloseCode.BadHandshake);
      else if (decoded.ref !== undefined) outbox.replyError(session, decoded.ref, decoded.error);
      else outbox.sendError(session, decoded.error);
      return;
    }
    const frame = decoded.frame;
    if (!handshaken) {
      if (frame.type !== 'hello') {
        outbox.fail(session, ErrorCode.BadHandshake, `the first frame must be a hello, got "${frame.type}"`, CloseCode.BadHandshake);
        return;
      }
      // Per connection: a resume or an upgrade onto another WebSocket says it again in its own hello.
      if (frame.binary === true) session.link?.acceptBinary?.();
      this.exclusive(session, this.services.handshake.hello(session, frame));
      return;
    }
    const pending = routeFrame(session, frame, this.services);
    if (pending) this.exclusive(session, pending);
  }

  /** Run a control operation; frames that arrive meanwhile wait for it. */
  private exclusive(session: IntakeSession, operation: Promise<void>): void {
    session.busy = true;
    operation
      .catch((err: unknown) => this.reportError(err, { session: session.id }))
      .finally(() => {
        session.busy = false;
        while (!session.busy && !session.over && session.queue !== undefined && session.queue.length > 0) {
          const next = session.queue.shift() as QueuedFrame;
          this.process(session, next);
        }
      });
  }
}

function decodeFrame(data: QueuedFrame): DecodeResult<ClientFrame> {
  return typeof data === 'string' ? decodeClientFrame(data) : decodeClientBinary(data);
}

/** The ref of a request frame (a `reply`'s ref belongs to the server's requests). */
function requestRef(frame: ClientFrame): number | undefined {
  return frame.type !== 'reply' && 'ref' in frame ? frame.ref : undefined;
}
