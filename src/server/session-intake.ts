import { decodeClientFrame, type DecodeResult } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ClientFrame, HelloFrame } from '../protocol/frames.js';
import { FrameRate } from './frame-rate.js';
import type { ResolvedOptions } from './options.js';
import type { ClientAnswers } from './session-outbox.js';
import type { SessionLifecycle } from './session-state.js';
import { DisconnectReason } from './socket.js';

/** What the intake needs of its session. */
export interface IntakeSession {
  readonly id: string;
  /** Welcomed (every frame but a hello is the client's to send), closing, over (queued frames are dropped). */
  readonly lifecycle: SessionLifecycle;
  fail(code: string, message: string, closeCode: number, why?: DisconnectReason): void;
  terminate(why: DisconnectReason): void;
  reportError(err: unknown, context: Record<string, unknown>): void;
}

/** Where frames go once decoded and in order. */
export interface FrameHandlers {
  /** The handshake: later frames wait for it. */
  hello(frame: HelloFrame): Promise<void>;
  /** A frame after the handshake; a promise holds later frames until it settles (connect, join). */
  dispatch(frame: ClientFrame): Promise<void> | undefined;
}

/** Free frames a client may send beyond what they answer (see FrameIntake.freeCredit). */
const FREE_CREDIT_MAX = 1000;

/** Frames that answer the server: not counted against the rate (see withinRate). */
const FREE_FRAMES: ReadonlySet<ClientFrame['type']> = new Set(['pong', 'ack', 'reply']);

interface QueuedFrame {
  data: string;
  binary: boolean;
}

/**
 * A session's incoming frames: counted against the connection's rate, decoded, and
 * processed in arrival order. While a handshake, namespace connect or join is pending,
 * later frames wait in a bounded queue.
 */
export class FrameIntake {
  /** This connection's frame rate (`rateLimit`); undefined when it is off. Moves with the connection on resume. */
  private frameRate: FrameRate | undefined;
  /** The first frame (the hello) has arrived: every later one counts against the rate. */
  private helloReceived = false;
  /**
   * The client sent a frame after its hello (the SDK acknowledges every welcome at once):
   * a session whose client never did is an abandoned connection, kept only `resume.silentTtl`.
   */
  heardAfterHello = false;
  /**
   * Free frames (`pong`, `ack`, `reply`) the client may still send without a token: one per
   * frame the server sent (what they answer), up to FREE_CREDIT_MAX. Past it they take
   * tokens of the frame rate like any frame, so a flood of them is cut off as abuse.
   */
  private freeCredit = FREE_CREDIT_MAX;
  /** Frames that arrived while a handshake, connect or join was pending. */
  private queue: QueuedFrame[] | undefined;
  private busy = false;

  constructor(
    private readonly session: IntakeSession,
    private readonly answers: ClientAnswers,
    private readonly handlers: FrameHandlers,
    private readonly options: ResolvedOptions,
  ) {
    if (options.rateLimit) this.frameRate = new FrameRate(options.rateLimit);
  }

  /** A frame from the session's connection. */
  receive(data: string, binary: boolean): void {
    let decoded: DecodeResult<ClientFrame> | undefined;
    if (this.helloReceived) {
      this.heardAfterHello = true;
      if (this.frameRate) {
        decoded = binary ? undefined : decodeClientFrame(data);
        if (!this.withinRate(this.frameRate, decoded)) return;
      }
    }
    this.helloReceived = true;
    this.take(data, binary, decoded);
  }

  /** A frame was sent to the client: one more answer to it is free. */
  sent(): void {
    if (this.freeCredit < FREE_CREDIT_MAX) this.freeCredit++;
  }

  /** This connection resumed `next`'s session: its rate (already counted) and the frames queued behind the hello go there. */
  handOver(next: FrameIntake, stillLive: () => boolean): void {
    const queued = this.queue ?? [];
    this.queue = undefined;
    next.frameRate = this.frameRate;
    for (const frame of queued) if (stillLive()) next.take(frame.data, frame.binary);
  }

  /** The session is over: what waits is dropped. */
  clear(): void {
    this.queue = undefined;
  }

  /** A frame the rate let through: process it now, or queue it behind a pending handshake, connect or join. */
  private take(data: string, binary: boolean, decoded?: DecodeResult<ClientFrame>): void {
    if (!this.busy) {
      this.process(data, binary, decoded);
      return;
    }
    const queue = (this.queue ??= []);
    if (queue.length >= this.options.maxQueuedFrames) {
      this.session.fail(ErrorCode.Overloaded, `more than ${this.options.maxQueuedFrames} frames sent while a handshake, connect or join was pending`, CloseCode.PolicyViolation);
      return;
    }
    queue.push({ data, binary });
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
  private withinRate(rate: FrameRate, decoded: DecodeResult<ClientFrame> | undefined): boolean {
    if (decoded?.ok && FREE_FRAMES.has(decoded.frame.type) && this.freeCredit > 0) {
      this.freeCredit--;
      return true;
    }
    const verdict = rate.take();
    if (verdict === 'accept') return true;
    const { rateLimit } = this.options;
    const limit = `${rateLimit?.perSecond} frames per second, burst ${rateLimit?.burst}`;
    const { session } = this;
    if (verdict === 'abuse') {
      // Once: a connection the server already closes for another reason is on its way out.
      if (session.lifecycle.closeReason !== undefined) return false;
      session.fail(ErrorCode.RateLimited, `kept sending past the rate limit (${limit}); closing`, CloseCode.PolicyViolation, DisconnectReason.RateLimited);
      // A flooder may not read, and then never completes the closing handshake.
      const timer = setTimeout(() => session.terminate(DisconnectReason.RateLimited), 1000);
      timer.unref();
      return false;
    }
    const error = { code: ErrorCode.RateLimited, message: `over the rate limit (${limit}): frame not processed; slow down` };
    const frame = decoded?.ok ? decoded.frame : undefined;
    const ref = frame ? requestRef(frame) : decoded?.ok === false ? decoded.ref : undefined;
    if (ref !== undefined) this.answers.replyError(ref, error);
    else if (verdict === 'reject') this.answers.sendError(error, frame && 'ns' in frame ? frame.ns : undefined);
    return false;
  }

  private process(data: string, binary: boolean, decoded?: DecodeResult<ClientFrame>): void {
    const { session, answers } = this;
    const handshaken = session.lifecycle.welcomed;
    if (binary) {
      if (!handshaken) session.fail(ErrorCode.BadHandshake, 'the first frame must be a JSON text hello frame', CloseCode.BadHandshake);
      else answers.sendError({ code: ErrorCode.BinaryNotSupported, message: 'protocol switchboard.v1 carries JSON text frames only' });
      return;
    }
    decoded ??= decodeClientFrame(data);
    if (!decoded.ok) {
      if (!handshaken) session.fail(ErrorCode.BadHandshake, `the first frame must be a valid hello: ${decoded.error.message}`, CloseCode.BadHandshake);
      else if (decoded.ref !== undefined) answers.replyError(decoded.ref, decoded.error);
      else answers.sendError(decoded.error);
      return;
    }
    const frame = decoded.frame;
    if (!handshaken) {
      if (frame.type === 'hello') this.exclusive(this.handlers.hello(frame));
      else session.fail(ErrorCode.BadHandshake, `the first frame must be a hello, got "${frame.type}"`, CloseCode.BadHandshake);
      return;
    }
    const pending = this.handlers.dispatch(frame);
    if (pending) this.exclusive(pending);
  }

  /** Run a control operation; frames that arrive meanwhile wait for it. */
  private exclusive(operation: Promise<void>): void {
    this.busy = true;
    operation
      .catch((err: unknown) => this.session.reportError(err, { session: this.session.id }))
      .finally(() => {
        this.busy = false;
        while (!this.busy && !this.session.lifecycle.over && this.queue !== undefined && this.queue.length > 0) {
          const next = this.queue.shift() as QueuedFrame;
          this.process(next.data, next.binary);
        }
      });
  }
}

/** The ref of a request frame (a `reply`'s ref belongs to the server's requests). */
function requestRef(frame: ClientFrame): number | undefined {
  return frame.type !== 'reply' && 'ref' in frame ? frame.ref : undefined;
}
