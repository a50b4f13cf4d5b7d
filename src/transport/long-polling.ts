import { answerJson, type AnswerTarget } from './http-answer.js';
import { pollBody, type CloseNotice } from './http-frames.js';
import { DROPPED, HttpTransport, type HttpConnectionHost } from './http-transport.js';
import type { SharedFrame } from './shared-frame.js';
import type { TransportRequestInfo } from './transport.js';
import { writeCoalescer } from './write-coalescer.js';

export interface PollingLimits {
  /** Milliseconds a poll waits for frames before it is answered empty. */
  hold: number;
  /** Bytes of frames one response carries at most (at least one frame goes). */
  maxResponseBytes: number;
}

const EMPTY = pollBody([]);

/**
 * HTTP long-polling: frames for the client queue here, and a `GET poll` takes them —
 * at once when some are queued, else as soon as one is sent (with the rest of that
 * turn's), else empty when the hold time passes. One poll waits at a time; a newer one
 * answers the older empty. `bufferedAmount` is what is queued and not yet answered, so
 * volatile skips and the slow-consumer cap work as on a WebSocket.
 */
export class PollingTransport extends HttpTransport {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** The poll waiting for frames, and its hold timer (the only timer of a connection, and only while a poll waits). */
  private waiting: AnswerTarget | undefined;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private flushMarked = false;
  /** A close the client has not been told yet: the next poll carries it. */
  private untoldClose: CloseNotice | undefined;

  constructor(
    cid: string,
    info: TransportRequestInfo,
    host: HttpConnectionHost,
    private readonly limits: PollingLimits,
  ) {
    super(cid, info, host);
  }

  get kind(): 'polling' {
    return 'polling';
  }

  get bufferedAmount(): number {
    return this.queuedBytes;
  }

  send(frame: string | SharedFrame): void {
    if (!this.isOpen) return;
    const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame.payload;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    // The waiting poll is answered at the end of the turn, with every frame of the turn.
    if (this.waiting !== undefined && !this.flushMarked) {
      this.flushMarked = true;
      writeCoalescer.mark(this);
    }
  }

  flush(): void {
    this.flushMarked = false;
    if (this.waiting !== undefined && this.queue.length > 0) this.answer(this.waiting);
  }

  /** A `GET poll` of this connection. */
  poll(res: AnswerTarget): void {
    this.touched();
    // Never two holders: the older one is answered empty and the newer one waits.
    if (this.waiting !== undefined) this.answerEmpty(this.waiting);
    if (this.queue.length > 0 || this.untoldClose !== undefined) {
      this.answer(res);
      return;
    }
    this.waiting = res;
    this.holdTimer = setTimeout(holdPassed, this.limits.hold, this);
    res.once('close', () => {
      // The client gave up on this poll (or it was answered): the frames stay queued.
      if (this.waiting === res) this.stopWaiting();
    });
  }

  /** @internal The hold time of the waiting poll passed with nothing to send. */
  holdPassed(): void {
    this.holdTimer = undefined;
    if (this.waiting !== undefined) this.answerEmpty(this.waiting);
  }

  close(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.untoldClose = { code, reason };
    this.ended(code, reason);
    this.host.linger(this);
    if (this.waiting !== undefined) this.answer(this.waiting);
  }

  closedByClient(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.dropQueue();
    this.ended(code, reason);
    // Like the echo of a WebSocket close: a poll still waiting learns that it is over.
    this.untoldClose = { code, reason };
    if (this.waiting !== undefined) this.answer(this.waiting);
    this.host.forget(this);
  }

  terminate(): void {
    this.dropQueue();
    this.untoldClose = undefined;
    const waiting = this.waiting;
    this.stopWaiting();
    waiting?.destroy();
    this.ended(DROPPED, 'terminated');
    this.host.forget(this);
  }

  /** Answer `res` with what is queued, up to the response limit, and the close once all frames are out. */
  private answer(res: AnswerTarget): void {
    if (this.waiting === res) this.stopWaiting();
    // A poll the client already dropped would carry frames nowhere: they wait for the next one.
    if (res.destroyed) return;
    const frames = this.take();
    const close = this.queue.length === 0 ? this.untoldClose : undefined;
    answerJson(res, 200, pollBody(frames, close));
    if (close !== undefined) {
      this.untoldClose = undefined;
      this.host.forget(this);
    }
  }

  private answerEmpty(res: AnswerTarget): void {
    if (this.waiting === res) this.stopWaiting();
    answerJson(res, 200, EMPTY);
  }

  /** The frames of one response: in order, at most maxResponseBytes of them, and at least one. */
  private take(): Buffer[] {
    const queue = this.queue;
    let bytes = 0;
    let count = 0;
    while (count < queue.length) {
      const next = (queue[count] as Buffer).length;
      if (count > 0 && bytes + next > this.limits.maxResponseBytes) break;
      bytes += next;
      count++;
    }
    this.queuedBytes -= bytes;
    if (count === queue.length) {
      this.queue = [];
      return queue;
    }
    return queue.splice(0, count);
  }

  private stopWaiting(): void {
    this.waiting = undefined;
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  private dropQueue(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }
}

function holdPassed(connection: PollingTransport): void {
  connection.holdPassed();
}
