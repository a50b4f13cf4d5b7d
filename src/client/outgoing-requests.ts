import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ReplyFrame } from '../protocol/frames.js';
import { PendingReplies } from '../protocol/pending-replies.js';
import { replyTimers } from './timers.js';
import type { FrameKind } from './send-pacer.js';

/** How a sent request fares when its socket is replaced. */
export interface WireOptions {
  /**
   * The frame to send again, with the same ref, when the session resumes: for requests the
   * server may run twice (join, leave, history) and reliable publishes (deduped by `seq`).
   * The first reply settles the request; the second, with the same ref, is ignored.
   */
  resend?: string;
  /** A reliable publish: a lost session fails it with `unconfirmed`; nothing else fails it but its reply, its timeout or close(). */
  reliable?: boolean;
  /** Failed on a resume, because its caller sends it anew (a namespace's `connect`). */
  renewOnResume?: boolean;
  /** How the server counts the frame (see FrameKind): a re-sent frame is paced like the first. Default `plain`. */
  kind?: FrameKind;
}

/**
 * Requests this client sent or will send, awaiting replies. A request is created when the
 * app makes it (its timeout runs from then) but may sit in an offline buffer before it is
 * sent. Requests that went out belong to the server session, not to one socket: when the
 * socket drops they wait for the next welcome, which either resumes the session (their
 * replies come after it) or starts a new one (they can never be answered and fail).
 */
export class OutgoingRequests {
  private readonly pending = new PendingReplies(replyTimers);
  /** Refs sent in the current server session and not answered yet, in the order sent. */
  private readonly onWire = new Map<number, WireOptions>();
  /** Callbacks run synchronously with a successful reply, by ref. */
  private readonly onData = new Map<number, (data: unknown) => void>();

  /**
   * Allocate a ref and the promise of its reply; the timeout runs from now. `onData` runs
   * synchronously when a successful reply arrives, before any later frame is handled (the
   * promise settles a microtask later): for bookkeeping that must follow the wire order.
   */
  create(timeoutMs: number, describe: string, onData?: (data: unknown) => void): { ref: number; reply: Promise<unknown> } {
    const request = this.pending.create(timeoutMs, describe);
    if (onData) this.onData.set(request.ref, onData);
    const forget = (): void => this.forget(request.ref);
    request.reply.then(forget, forget);
    return request;
  }

  /** The request's frame went out in the current session. */
  sent(ref: number, options: WireOptions = {}): void {
    this.onWire.set(ref, options);
  }

  /** Settle the request a reply answers; a late or repeated reply (after a timeout, or to a re-sent frame) is dropped. */
  settle(frame: ReplyFrame): void {
    const onData = this.onData.get(frame.ref);
    this.forget(frame.ref);
    if (this.pending.settle(frame) && onData && !frame.error) onData(frame.data);
  }

  fail(ref: number, error: SwitchboardError): void {
    this.forget(ref);
    this.pending.fail(ref, error);
  }

  /**
   * The session resumed on a new socket: re-send what may be re-sent, fail what its caller
   * renews, and keep the rest waiting (their replies come right after the welcome).
   */
  resume(send: (text: string, kind: FrameKind) => boolean): void {
    for (const [ref, wire] of [...this.onWire]) {
      if (wire.resend !== undefined) send(wire.resend, wire.kind ?? 'plain');
      else if (wire.renewOnResume) this.fail(ref, disconnectedError('the session moved to a new connection'));
    }
  }

  /** The session moved to another node without its frames in flight: only reliable publishes can still be answered (they are re-sent). */
  sessionMoved(error: SwitchboardError): void {
    for (const [ref, wire] of [...this.onWire]) if (!wire.reliable) this.fail(ref, error);
  }

  /** Re-send the reliable publishes still waiting, with their refs and sequence numbers (see sessionMoved). */
  resendReliable(send: (text: string, kind: FrameKind) => boolean): void {
    for (const wire of this.onWire.values()) if (wire.reliable && wire.resend !== undefined) send(wire.resend, wire.kind ?? 'plain');
  }

  /** The server session is gone (a new one started, or another connection took it): nothing sent in it will be answered. */
  sessionLost(error: SwitchboardError, unconfirmed: SwitchboardError): void {
    for (const [ref, wire] of [...this.onWire]) this.fail(ref, wire.reliable ? unconfirmed : error);
  }

  /**
   * Fail those of `refs` that were sent (all of them when omitted): reconnecting stopped, or
   * the server let the namespace go. Reliable publishes are kept: the next welcome decides.
   */
  failOnWire(error: SwitchboardError, refs: Iterable<number> = [...this.onWire.keys()]): void {
    for (const ref of [...refs]) {
      const wire = this.onWire.get(ref);
      if (wire && !wire.reliable) this.fail(ref, error);
    }
  }

  /** Fail everything, sent or buffered (the app closed the client). */
  failAll(error: SwitchboardError): void {
    this.onWire.clear();
    this.onData.clear();
    this.pending.rejectAll(error);
  }

  private forget(ref: number): void {
    this.onWire.delete(ref);
    this.onData.delete(ref);
  }
}

export function disconnectedError(why: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.Disconnected, `no reply, and none can come: ${why}`);
}
