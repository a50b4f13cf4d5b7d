import { mayCarryBinary } from '../protocol/binary.js';
import { encodeFrame, utf8ByteLength } from '../protocol/codec.js';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ClientFrame, JoinFrame, LeaveFrame } from '../protocol/frames.js';
import { type BufferedFrame, EmitBuffer, type BufferLimit } from './emit-buffer.js';
import type { Outbound } from './outbound.js';
import type { OutgoingRequests } from './outgoing-requests.js';
import type { OutboxEntry, ReliableOutbox } from './reliable-outbox.js';

/** What a namespace's sending needs of the connection it shares. */
export interface SenderCarrier {
  readonly requests: OutgoingRequests;
  readonly outbox: ReliableOutbox;
  readonly outbound: Outbound;
  /** The server's frame limit from the last welcome. */
  readonly maxMessageBytes: number | undefined;
  /** Bytes of a frame as the connection would send it now (a frame carrying binary data: a binary message on a WebSocket). */
  frameBytes(text: string): number;
}

/**
 * How one namespace's frames leave in the order the app made them: straight to the socket
 * when the namespace is connected and nothing waits, otherwise into its offline buffer, from
 * which each is queued in the connection's pacing once connected; reliable publishes wait in
 * the connection's outbox likewise. It also tracks the namespace's requests, so they can be
 * failed together.
 */
export class NamespaceSender {
  private readonly buffer: EmitBuffer;
  /** Refs of this namespace's requests, buffered or on the wire. */
  private readonly requests = new Set<number>();
  /**
   * Bumped whenever the namespace becomes connected: frames of its buffer and outbox queued
   * for an earlier connection are not sent by that queue entry (they wait for this flush).
   */
  private epoch = 0;

  constructor(
    private readonly carrier: SenderCarrier,
    private readonly namespace: string,
    bufferLimit: BufferLimit,
    /** The namespace is connected on the current socket. */
    private readonly isConnected: () => boolean,
    /** A buffered emit turned out too big when its turn came. */
    private readonly reportError: (error: SwitchboardError) => void,
  ) {
    this.buffer = new EmitBuffer(bufferLimit);
  }

  /** Direct sends only when connected and nothing older waits in the buffer (offline or paced), so order holds. */
  get canSendNow(): boolean {
    return this.isConnected() && this.buffer.size === 0;
  }

  /** An event frame: now if it can go, otherwise buffered. Throws `buffer_full` when the buffer is full. */
  emit(text: string, bytes: number): void {
    if (this.canSendNow && this.carrier.outbound.sendNow(text)) return;
    // Offline, or held back by the pacing: either way it waits in the buffer, which bounds both.
    const entry: BufferedFrame = { text, bytes };
    this.buffer.push(entry);
    this.scheduleBuffered(entry);
  }

  /**
   * A request that waits in the offline buffer, in order with emits, when it cannot go out now.
   * `resend`: it may run twice on the server, so a resumed session gets it again.
   */
  request(describe: string, build: (ref: number) => ClientFrame, timeoutMs: number, resend: boolean): Promise<unknown> {
    const requests = this.carrier.requests;
    const { ref, reply } = requests.create(timeoutMs, describe);
    this.track(ref, reply);
    let text: string;
    try {
      text = encodeFrame(build(ref));
    } catch (error) {
      requests.fail(ref, error as SwitchboardError);
      return reply;
    }
    const bytes = utf8ByteLength(text);
    const tooBig = this.sizeError(this.wireBytes(text, bytes));
    if (tooBig) {
      requests.fail(ref, tooBig);
      return reply;
    }
    if (this.canSendNow && this.carrier.outbound.sendRequestNow(ref, text, resend ? { resend: text } : {})) return reply;
    const entry: BufferedFrame = resend ? { text, bytes, ref, resend } : { text, bytes, ref };
    try {
      this.buffer.push(entry);
    } catch (error) {
      requests.fail(ref, error as SwitchboardError);
      return reply;
    }
    // A request that times out while buffered must not be sent later, nor hold buffer space.
    const unbuffer = (): void => {
      this.buffer.remove(entry);
    };
    reply.then(unbuffer, unbuffer);
    this.scheduleBuffered(entry);
    return reply;
  }

  /**
   * A reliable publish: it waits in the connection's outbox until the server answers, and goes
   * out (again) whenever the namespace is connected. `build` makes its frame with the ref.
   */
  reliable(describe: string, build: (ref: number) => ClientFrame, timeoutMs: number): Promise<unknown> {
    const { requests, outbox } = this.carrier;
    const { ref, reply } = requests.create(timeoutMs, describe);
    this.track(ref, reply);
    try {
      const frame = encodeFrame(build(ref));
      const tooBig = this.sizeError(this.wireBytes(frame, outbox.sizeWithSeq(frame), outbox.seqBytes()));
      if (tooBig) throw tooBig;
      outbox.add(ref, this.namespace, frame);
    } catch (error) {
      requests.fail(ref, error as SwitchboardError);
      return reply;
    }
    // Out of the outbox however it ends: answered, timed out, unconfirmed or closed.
    const remove = (): void => outbox.remove(ref);
    reply.then(remove, remove);
    const entry = outbox.get(ref);
    if (entry) this.scheduleReliable(entry);
    return reply;
  }

  /** Send a join or leave now (not buffered: rooms are replayed by rejoin() on the next connection). `frame.ref` is assigned here. */
  roomRequest(frame: JoinFrame | LeaveFrame, timeoutMs: number, onReply?: (data: unknown) => void): Promise<unknown> {
    const describe = `${frame.type}("${frame.room}")`;
    const { ref, reply } = this.carrier.requests.create(timeoutMs, describe, onReply);
    this.track(ref, reply);
    frame.ref = ref;
    if (this.namespace !== ROOT_NAMESPACE) frame.ns = this.namespace;
    const text = encodeFrame(frame);
    // Joining or leaving twice is harmless: a resumed session gets the frame again, same ref.
    // The server handles nothing else of the connection while a join is pending: `blocking`.
    if (!this.carrier.outbound.sendRequest(ref, text, frame.type === 'join' ? 'blocking' : 'plain', { resend: text })) {
      this.carrier.requests.fail(ref, new SwitchboardError(ErrorCode.Disconnected, `not connected: ${describe} could not be sent`));
    }
    return reply;
  }

  /** The namespace became connected: what was queued for an earlier connection no longer goes from there. */
  connected(): void {
    this.epoch++;
  }

  /**
   * Queue every buffered frame, in order, then this namespace's reliable publishes that have
   * not gone out in this session, in call order (each takes the session's next sequence
   * number when its turn comes).
   */
  flush(): void {
    for (const entry of this.buffer.all()) this.scheduleBuffered(entry);
    for (const entry of this.carrier.outbox.unsent(this.namespace)) this.scheduleReliable(entry);
  }

  /** Fail every request of the namespace, sent or buffered. */
  failAll(error: SwitchboardError): void {
    for (const ref of [...this.requests]) this.carrier.requests.fail(ref, error);
  }

  /** Fail the namespace's requests that went out; reliable publishes keep waiting, since the session still answers them. */
  failOnWire(error: SwitchboardError): void {
    this.carrier.requests.failOnWire(error, this.requests);
  }

  /** Drop the buffered frames (the namespace is closed). */
  clear(): void {
    this.buffer.clear();
  }

  /**
   * Bytes of a frame as it would go out now: `utf8Bytes` (its UTF-8 size, counted by the
   * caller) unless it carries binary data, which a WebSocket sends as a smaller binary
   * message; `extra` is added to that (a reliable publish's sequence number).
   */
  wireBytes(text: string, utf8Bytes: number, extra = 0): number {
    return mayCarryBinary(text) ? this.carrier.frameBytes(text) + extra : utf8Bytes;
  }

  sizeError(bytes: number): SwitchboardError | undefined {
    const max = this.carrier.maxMessageBytes;
    if (max === undefined || bytes <= max) return undefined;
    return new SwitchboardError(ErrorCode.MessageTooBig, `message too big: ${bytes} bytes; the server accepts at most ${max} bytes`);
  }

  /**
   * Queue a buffered frame on the connection (when connected; otherwise the next flush
   * does). It leaves the buffer only when its turn comes, so the buffer bounds what the
   * pacing holds back too, and a frame still waiting when the socket goes is sent after
   * the next connect, like any buffered frame.
   */
  private scheduleBuffered(entry: BufferedFrame): void {
    if (!this.isConnected()) return;
    const epoch = this.epoch;
    this.carrier.outbound.enqueue({ kind: 'plain', take: () => this.takeBuffered(entry, epoch) });
  }

  /** Its turn came: the text to send, or undefined when it no longer goes from this queue entry. */
  private takeBuffered(entry: BufferedFrame, epoch: number): string | undefined {
    // Entries go in buffer order, so a live one is first; one that timed out is gone from the buffer.
    if (epoch !== this.epoch || !this.isConnected() || this.buffer.peek() !== entry) return undefined;
    this.buffer.shift();
    const tooBig = this.sizeError(this.wireBytes(entry.text, entry.bytes));
    if (tooBig) {
      // The limit is only known from a welcome, so a frame buffered before one can turn out too big.
      if (entry.ref !== undefined) this.carrier.requests.fail(entry.ref, tooBig);
      else this.reportError(tooBig);
      return undefined;
    }
    if (entry.ref !== undefined) this.carrier.requests.sent(entry.ref, entry.resend ? { resend: entry.text, kind: 'plain' } : { kind: 'plain' });
    return entry.text;
  }

  private scheduleReliable(entry: OutboxEntry): void {
    if (!this.isConnected()) return;
    const epoch = this.epoch;
    this.carrier.outbound.enqueue({ kind: 'plain', take: () => this.takeReliable(entry, epoch) });
  }

  private takeReliable(entry: OutboxEntry, epoch: number): string | undefined {
    const outbox = this.carrier.outbox;
    // Answered, timed out or closed meanwhile; or sent already (an earlier queue entry of the same publish).
    if (epoch !== this.epoch || !this.isConnected() || entry.seq !== undefined || outbox.get(entry.ref) !== entry) return undefined;
    const text = outbox.stamp(entry);
    // The limit comes with each welcome, so it may have shrunk since the call.
    const tooBig = this.sizeError(this.wireBytes(text, utf8ByteLength(text)));
    if (tooBig) {
      this.carrier.requests.fail(entry.ref, tooBig);
      return undefined;
    }
    this.carrier.requests.sent(entry.ref, { resend: text, reliable: true, kind: 'plain' });
    return text;
  }

  private track(ref: number, reply: Promise<unknown>): void {
    this.requests.add(ref);
    const untrack = (): void => {
      this.requests.delete(ref);
    };
    reply.then(untrack, untrack);
  }
}
