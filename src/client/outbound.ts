import type { OutgoingRequests, WireOptions } from './outgoing-requests.js';
import { type FrameKind, type OutgoingFrame, SendPacer } from './send-pacer.js';

/**
 * What the namespaces send on the welcomed socket: in order through the pacing (SendPacer),
 * with the bookkeeping that makes a request's frame belong to the session once it is written.
 * Every frame after the welcome but `pong` and `ack` goes out through it.
 */
export class Outbound {
  private readonly pacer: SendPacer;

  constructor(
    private readonly requests: OutgoingRequests,
    write: (text: string) => boolean,
  ) {
    this.pacer = new SendPacer(write);
  }

  /** A socket was welcomed with these limits (see pacingLimits). */
  start(limits: Parameters<SendPacer['start']>[0]): void {
    this.pacer.start(limits);
  }

  /** The socket is gone: what waited is sent again the way anything lost with it is. */
  stop(): void {
    this.pacer.stop();
  }

  /** A reply arrived: a `blocking` frame's wait may be over. */
  replied(ref: number): void {
    this.pacer.replied(ref);
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
}
