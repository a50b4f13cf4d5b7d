import { encodeFrame } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload, EventFrame, ReplyFrame, ServerFrame } from '../protocol/frames.js';
import { PendingReplies } from '../protocol/pending-replies.js';
import type { SharedFrame } from '../transport/shared-frame.js';
import type { Transport } from '../transport/transport.js';
import type { ResolvedOptions } from './options.js';
import type { SessionLifecycle } from './session-state.js';
import { DisconnectReason } from './socket.js';

/** Answers to the client: what the parts of a session that handle its frames send back. */
export interface ClientAnswers {
  reply(ref: number, data: unknown): void;
  replyError(ref: number, error: ErrorPayload): void;
  sendError(error: ErrorPayload, ns?: string): void;
  /** A coded error for the client; anything else is reported and becomes `internal_error`. */
  errorFromHandler(err: unknown, context: Record<string, unknown>): ErrorPayload;
}

/** What the outbound path needs of its session. */
export interface OutboxSession {
  readonly id: string;
  /** The connection frames go onto; undefined while the session waits to be resumed. */
  readonly link: Transport | undefined;
  /** Frames can be sent: the connection is up, or the session waits and keeps them. */
  readonly isOpen: boolean;
  readonly lifecycle: SessionLifecycle;
  /** A frame went onto the link: kept for a resume, and one more free answer for the client. */
  sentOnLink(frame: string | SharedFrame, broadcast: boolean): void;
  /** A frame while away; false when it cannot be kept (nothing is kept, or past the bounds). */
  keptWhileAway(frame: string | SharedFrame, broadcast: boolean): boolean;
  /** Frames the session must keep are gone: it ends. */
  lostWhileAway(): void;
  close(code: number, reason: string, why: DisconnectReason): void;
  terminate(why: DisconnectReason): void;
  end(why: DisconnectReason): void;
  reportError(err: unknown, context: Record<string, unknown>): void;
}

/** Volatile frames are skipped while more than this many bytes wait to be written. */
const VOLATILE_BUFFER_LIMIT = 64 * 1024;

/**
 * A session's outbound path: frames onto the connection (kept until acknowledged), or
 * only kept while the session waits to be resumed; replies and errors to the client;
 * the server's requests to the client and their pending replies; the cut-off of a
 * connection too slow for a durable room.
 */
export class SessionOutbox implements ClientAnswers {
  /** The server's requests awaiting the client's reply; made on the first one. */
  private pendingReplies: PendingReplies | undefined;

  constructor(
    private readonly session: OutboxSession,
    private readonly options: ResolvedOptions,
  ) {}

  private get pending(): PendingReplies {
    return (this.pendingReplies ??= new PendingReplies());
  }

  /** Encode and send one frame. Throws `unserializable` for data JSON cannot carry. */
  sendFrame(frame: ServerFrame, volatile = false): boolean {
    if (!this.session.isOpen) return false;
    return this.put(encodeFrame(frame), volatile);
  }

  /** Send a frame encoded once, for this session alone (a join's replay). */
  sendEncoded(frame: SharedFrame, volatile: boolean): boolean {
    if (!this.session.isOpen) return false;
    return this.put(frame, volatile);
  }

  /** A broadcast's frame: while the session waits, the resume log keeps it, and it is only counted here. */
  sendBroadcast(frame: SharedFrame, volatile: boolean): boolean {
    if (!this.session.isOpen) return false;
    return this.put(frame, volatile, true);
  }

  /**
   * Send a durable room's publication. It is never skipped; if the connection already holds
   * more unsent bytes than the cap, it is closed with 4009 instead (memory stays bounded)
   * and the client recovers the gap from history when it rejoins.
   */
  sendDurable(frame: SharedFrame): void {
    if (!this.session.isOpen) return;
    this.put(frame, false, true);
    const link = this.session.link;
    if (link && link.bufferedAmount > this.options.maxBufferedBytes) this.cutOffSlowConsumer();
  }

  /**
   * Onto the connection (kept until acknowledged), or only kept while waiting for a resume.
   * A `broadcast` is one the resume log holds (BroadcastOperator, DurableFeed): past the
   * per-session bounds it is only counted here.
   */
  private put(frame: string | SharedFrame, volatile: boolean, broadcast = false): boolean {
    const { session } = this;
    const link = session.link;
    if (link) {
      if (volatile && link.bufferedAmount > VOLATILE_BUFFER_LIMIT) return false;
      link.send(frame);
      // A volatile broadcast is not in the resume log: kept as the session's own if it must be kept at all.
      session.sentOnLink(frame, broadcast && !volatile);
      return true;
    }
    if (volatile || !session.lifecycle.away) return false;
    if (!session.keptWhileAway(frame, broadcast)) {
      // Past the per-session bounds a resume would have a hole: end the session now and free its memory.
      session.lostWhileAway();
      return false;
    }
    return true;
  }

  /** Publications of a durable room in namespace `ns` were lost beyond history: like a slow consumer, the client rejoins and is told `recovered: false`. */
  lostPublications(ns: string): void {
    if (this.session.lifecycle.over) return;
    if (!this.session.link) {
      this.session.end(DisconnectReason.SlowConsumer);
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
      `more than ${this.options.maxBufferedBytes} bytes waited to be sent; reconnect and recover from history`,
      CloseCode.SlowConsumer,
      DisconnectReason.SlowConsumer,
    );
    // A peer that does not read will not finish the closing handshake either.
    const timer = setTimeout(() => this.session.terminate(DisconnectReason.SlowConsumer), 1000);
    timer.unref();
  }

  /** Tell the client why, then close. */
  fail(code: string, message: string, closeCode: number, why: DisconnectReason = DisconnectReason.TransportClosed): void {
    if (this.session.lifecycle.over) return;
    this.sendError({ code, message });
    this.session.close(closeCode, code, why);
  }

  // --- answers to the client --------------------------------------------------------------

  reply(ref: number, data: unknown): void {
    try {
      this.sendFrame({ type: 'reply', ref, data });
    } catch (err) {
      this.replyError(ref, this.errorFromHandler(err, { ref }));
    }
  }

  replyError(ref: number, error: ErrorPayload): void {
    const payload: ErrorPayload = { code: error.code, message: error.message };
    if (error.details) payload.details = error.details;
    this.sendFrame({ type: 'reply', ref, error: payload });
  }

  sendError(error: ErrorPayload, ns?: string): void {
    const frame: ServerFrame = { type: 'error', code: error.code, message: error.message };
    if (error.details) frame.details = error.details;
    if (ns !== undefined && ns !== ROOT_NAMESPACE) frame.ns = ns;
    this.sendFrame(frame);
  }

  /** Coded errors are meant for the client; anything else is a bug whose details stay here. */
  errorFromHandler(err: unknown, context: Record<string, unknown>): ErrorPayload {
    if (err instanceof SwitchboardError) return err.toPayload();
    this.session.reportError(err, { session: this.session.id, ...context });
    return { code: ErrorCode.InternalError, message: 'the handler failed; details are in the server log' };
  }

  // --- the server's requests to the client ------------------------------------------------

  /** Send an event frame as a request and await the client's reply. */
  request(frame: EventFrame, timeout: number | undefined, describe: string): Promise<unknown> {
    if (!this.session.isOpen) return Promise.reject(new SwitchboardError(ErrorCode.Disconnected, `cannot send ${describe}: the client is not connected`));
    const { ref, reply } = this.pending.create(timeout ?? this.options.ackTimeout, describe);
    try {
      this.sendFrame({ ...frame, ref });
    } catch (err) {
      this.pending.fail(ref, err instanceof SwitchboardError ? err : new SwitchboardError(ErrorCode.Unserializable, String(err)));
    }
    return reply;
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

  /** The client's reply to one of the server's requests. */
  settle(frame: ReplyFrame): void {
    this.pendingReplies?.settle(frame);
  }

  /** The session ended: what waits on the client is rejected. */
  close(): void {
    this.pendingReplies?.rejectAll(new SwitchboardError(ErrorCode.Disconnected, 'the connection closed before the client replied'));
  }
}
