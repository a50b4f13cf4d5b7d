import { encodeFrame } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload, EventFrame, ServerFrame } from '../protocol/frames.js';
import { PendingReplies } from '../protocol/pending-replies.js';
import { replyTimers } from './reply-timers.js';
import type { SharedFrame } from '../transport/shared-frame.js';
import type { Transport } from '../transport/transport.js';
import type { ResolvedOptions } from './options.js';
import type { RefusedClient, ServerCounters } from './server-counters.js';
import type { SessionLifecycle } from './session-state.js';
import { DisconnectReason } from './socket.js';

/** What the outbound path keeps of each session and needs of it. */
export interface OutboxSession extends SessionLifecycle, RefusedClient {
  readonly id: string;
  /** The connection frames go onto; undefined while the session waits to be resumed. */
  readonly link: Transport | undefined;
  /** Frames can be sent: the connection is up, or the session waits and keeps them. */
  readonly isOpen: boolean;
  /** The server's requests awaiting the client's reply; made on the first one. */
  pendingReplies: PendingReplies | undefined;
  /** A frame went onto the link: kept for a resume, and one more free answer for the client. */
  sentOnLink(frame: string | SharedFrame, broadcast: boolean): void;
  /** A frame while away; false when it cannot be kept (nothing is kept, or past the bounds). */
  keptWhileAway(frame: string | SharedFrame, broadcast: boolean): boolean;
  close(code: number, reason: string, why: DisconnectReason): void;
  terminate(why: DisconnectReason): void;
  end(why: DisconnectReason): void;
}

/** Volatile frames are skipped while more than this many bytes wait to be written. */
const VOLATILE_BUFFER_LIMIT = 64 * 1024;

/**
 * Sessions' outbound path: frames onto the connection (kept until acknowledged), or only
 * kept while the session waits to be resumed; replies and errors to the client; the
 * server's requests to the client and their pending replies; the cut-off of a connection
 * too slow for a durable room. One per server.
 */
export class SessionOutbox {
  constructor(
    private readonly options: ResolvedOptions,
    private readonly reportError: (err: unknown, context: Record<string, unknown>) => void,
    /** The node's numbers: every frame onto a connection is counted here (stats()). */
    private readonly counters: ServerCounters,
  ) {}

  /** Encode and send one frame. Throws `unserializable` for data JSON cannot carry. */
  sendFrame(session: OutboxSession, frame: ServerFrame, volatile = false): boolean {
    if (!session.isOpen) return false;
    return this.put(session, encodeFrame(frame), volatile);
  }

  /** Send a frame encoded once, for this session alone (a join's replay). */
  sendEncoded(session: OutboxSession, frame: SharedFrame, volatile: boolean): boolean {
    if (!session.isOpen) return false;
    return this.put(session, frame, volatile);
  }

  /** A broadcast's frame: while the session waits, the resume log keeps it, and it is only counted here. */
  sendBroadcast(session: OutboxSession, frame: SharedFrame, volatile: boolean): boolean {
    if (!session.isOpen) return false;
    return this.put(session, frame, volatile, true);
  }

  /**
   * Send a durable room's publication. It is never skipped; if the connection already holds
   * more unsent bytes than the cap, it is closed with 4009 instead (memory stays bounded)
   * and the client recovers the gap from history when it rejoins.
   */
  sendDurable(session: OutboxSession, frame: SharedFrame): void {
    if (!session.isOpen) return;
    this.put(session, frame, false, true);
    const link = session.link;
    if (link && link.bufferedAmount > this.options.maxBufferedBytes) this.cutOffSlowConsumer(session);
  }

  /**
   * Onto the connection (kept until acknowledged), or only kept while waiting for a resume.
   * A `broadcast` is one the resume log holds (BroadcastOperator, DurableFeed): past the
   * per-session bounds it is only counted here.
   */
  private put(session: OutboxSession, frame: string | SharedFrame, volatile: boolean, broadcast = false): boolean {
    const link = session.link;
    if (link) {
      if (volatile && link.bufferedAmount > VOLATILE_BUFFER_LIMIT) return false;
      link.send(frame);
      const counters = this.counters;
      counters.frameOut(frame);
      if (broadcast) counters.deliveries++;
      // A volatile broadcast is not in the resume log: kept as the session's own if it must be kept at all.
      session.sentOnLink(frame, broadcast && !volatile);
      return true;
    }
    if (volatile || !session.away) return false;
    if (!session.keptWhileAway(frame, broadcast)) {
      // Past the per-session bounds a resume would have a hole: end the session now and free its memory.
      session.end(session.lossReason ?? DisconnectReason.TransportClosed);
      return false;
    }
    return true;
  }

  /** Publications of a durable room in namespace `ns` were lost beyond history: like a slow consumer, the client rejoins and is told `recovered: false`. */
  lostPublications(session: OutboxSession, ns: string): void {
    if (session.over) return;
    this.countSlowConsumer(session);
    if (!session.link) {
      session.end(DisconnectReason.SlowConsumer);
      return;
    }
    this.fail(
      session,
      ErrorCode.SlowConsumer,
      `publications of a durable room of namespace "${ns}" were lost before they reached this node and are no longer in history; rejoin to be told what is recoverable`,
      CloseCode.SlowConsumer,
      DisconnectReason.SlowConsumer,
    );
  }

  private cutOffSlowConsumer(session: OutboxSession): void {
    this.countSlowConsumer(session);
    this.fail(
      session,
      ErrorCode.SlowConsumer,
      `more than ${this.options.maxBufferedBytes} bytes waited to be sent; reconnect and recover from history`,
      CloseCode.SlowConsumer,
      DisconnectReason.SlowConsumer,
    );
    // A peer that does not read will not finish the closing handshake either.
    const timer = setTimeout(() => session.terminate(DisconnectReason.SlowConsumer), 1000);
    timer.unref();
  }

  /** Once per connection: later frames over the cap find it closing already. */
  private countSlowConsumer(session: OutboxSession): void {
    if (!session.over && session.closeReason !== DisconnectReason.SlowConsumer) this.counters.slowConsumer(session, session.link?.bufferedAmount);
  }

  /** Tell the client why, then close. */
  fail(session: OutboxSession, code: string, message: string, closeCode: number, why: DisconnectReason = DisconnectReason.TransportClosed): void {
    if (session.over) return;
    this.sendError(session, { code, message });
    session.close(closeCode, code, why);
  }

  // --- answers to the client --------------------------------------------------------------

  reply(session: OutboxSession, ref: number, data: unknown): void {
    try {
      this.sendFrame(session, { type: 'reply', ref, data });
    } catch (err) {
      this.replyError(session, ref, this.errorFromHandler(session, err, { ref }));
    }
  }

  replyError(session: OutboxSession, ref: number, error: ErrorPayload): void {
    const payload: ErrorPayload = { code: error.code, message: error.message };
    if (error.details) payload.details = error.details;
    this.sendFrame(session, { type: 'reply', ref, error: payload });
  }

  sendError(session: OutboxSession, error: ErrorPayload, ns?: string): void {
    const frame: ServerFrame = { type: 'error', code: error.code, message: error.message };
    if (error.details) frame.details = error.details;
    if (ns !== undefined && ns !== ROOT_NAMESPACE) frame.ns = ns;
    this.sendFrame(session, frame);
  }

  /** Coded errors are meant for the client; anything else is a bug whose details stay here. */
  errorFromHandler(session: OutboxSession, err: unknown, context: Record<string, unknown>): ErrorPayload {
    if (err instanceof SwitchboardError) return err.toPayload();
    this.reportError(err, { session: session.id, ...context });
    return { code: ErrorCode.InternalError, message: 'the handler failed; details are in the server log' };
  }

  // --- the server's requests to the client ------------------------------------------------

  /** Send an event frame as a request and await the client's reply. */
  request(session: OutboxSession, frame: EventFrame, timeout: number | undefined, describe: string): Promise<unknown> {
    if (!session.isOpen) return Promise.reject(new SwitchboardError(ErrorCode.Disconnected, `cannot send ${describe}: the client is not connected`));
    const pending = (session.pendingReplies ??= new PendingReplies(replyTimers));
    const { ref, reply } = pending.create(timeout ?? this.options.ackTimeout, describe);
    try {
      this.sendFrame(session, { ...frame, ref });
    } catch (err) {
      pending.fail(ref, err instanceof SwitchboardError ? err : new SwitchboardError(ErrorCode.Unserializable, String(err)));
    }
    return reply;
  }

  /** Ask the client for fresh credentials of namespace `ns`. No timer here: the caller keeps the deadline. */
  askReauth(session: OutboxSession, ns: string): { ref: number; reply: Promise<unknown> } {
    const pending = (session.pendingReplies ??= new PendingReplies(replyTimers));
    const { ref, reply } = pending.create(Number.POSITIVE_INFINITY, `reauth of namespace "${ns}"`);
    this.sendFrame(session, ns === ROOT_NAMESPACE ? { type: 'reauth', ref } : { type: 'reauth', ref, ns });
    return { ref, reply };
  }

  forgetRequest(session: OutboxSession, ref: number): void {
    session.pendingReplies?.fail(ref, new SwitchboardError(ErrorCode.Timeout, 'the request was given up'));
  }

  /** The session ended: what waits on the client is rejected. */
  close(session: OutboxSession): void {
    session.pendingReplies?.rejectAll(new SwitchboardError(ErrorCode.Disconnected, 'the connection closed before the client replied'));
  }
}
