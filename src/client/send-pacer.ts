import { unrefTimer } from './timers.js';
import type { PacingLimits } from './pacing-limits.js';
import { SendBudget } from './send-budget.js';

/**
 * How the server counts a frame, which decides how it is paced:
 * - `reply`: the answer to a server request. Free of the rate, as on the server (so are
 *   `pong` and `ack`, which do not go through the pacer at all), but it keeps its place in
 *   line, so the app's frames reach the server in the order it made them.
 * - `plain`: takes a token.
 * - `blocking`: a `join` or `connect`. Takes a token, and the server processes no later
 *   frame of the connection until it has answered it.
 */
export type FrameKind = 'reply' | 'plain' | 'blocking';

export interface OutgoingFrame {
  kind: FrameKind;
  /** A `blocking` frame's ref: its reply ends the wait of the frames behind it. */
  ref?: number;
  text?: string;
  /**
   * Instead of `text`, for a frame that waits elsewhere until its turn (an emit buffer, the
   * reliable outbox): called when it goes, returns its text, or undefined when it no longer
   * should go (timed out, answered, its namespace disconnected): the next frame goes instead.
   */
  take?: () => string | undefined;
  /** Called by stop() if the frame was still waiting when the socket went. */
  dropped?: () => void;
}

/**
 * The frames of one socket on their way out, paced so the SDK never trips the limits the
 * server announced in its welcome: a token bucket a little under the server's rate, and a
 * window on the frames sent while a `join` or `connect` is unanswered (the server queues
 * them, up to `maxQueuedFrames`).
 *
 * A frame goes out at once when nothing waits and the budget allows; otherwise it and
 * every later frame wait here in order, drained by one timer as tokens come back, or by
 * the reply that ends a `join`'s wait. Without announced limits (an older server, limits
 * off) every frame goes out at once, as if there were no pacer. The queue is the socket's:
 * stop() drops it when the socket goes; what waited is sent again the way anything lost
 * with the socket is (buffers and the outbox keep theirs until it is actually written).
 */
export class SendPacer {
  private queue: (OutgoingFrame | undefined)[] = [];
  private head = 0;
  private open = false;
  private budget: SendBudget | undefined;
  private window: number | undefined;
  private draining = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Frames written on this socket. */
  private written = 0;
  /** `blocking` frames written and not answered yet: ref → their number in `written`, oldest first. */
  private readonly outstanding = new Map<number, number>();

  constructor(
    private readonly write: (text: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** A socket was welcomed: pace its frames by `limits`, with a full budget, as the server's bucket is. */
  start(limits: PacingLimits): void {
    this.stop();
    this.open = true;
    this.budget = limits.rate && new SendBudget(limits.rate, this.now());
    this.window = limits.blockingWindow;
  }

  /** The socket is gone: drop what waits (telling the frames that want to know), stop the timer. */
  stop(): void {
    this.open = false;
    const left = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.written = 0;
    this.outstanding.clear();
    this.budget = undefined;
    this.window = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const frame of left) frame?.dropped?.();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Frames waiting for their turn. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Write the frame if it can go right now (nothing waits, the budget allows); otherwise false, and nothing is kept. */
  sendNow(frame: OutgoingFrame & { text: string }): boolean {
    if (!this.open || this.draining || this.waiting > 0 || this.delay(frame.kind) > 0) return false;
    return this.transmit(frame, frame.text);
  }

  /** Write the frame now, or queue it behind the frames that wait. False when there is no welcomed socket (nothing kept). */
  send(frame: OutgoingFrame): boolean {
    if (!this.open) return false;
    this.queue.push(frame);
    this.drain();
    return true;
  }

  /** A reply arrived: if it answers a `join` or `connect`, the frames held behind it may go. */
  replied(ref: number): void {
    if (this.outstanding.delete(ref) && this.waiting > 0) this.drain();
  }

  private drain(): void {
    // A frame's take() can run app code (an `error` listener) that sends: that frame queues up behind.
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.open && this.waiting > 0) {
        const frame = this.queue[this.head] as OutgoingFrame;
        const delay = this.delay(frame.kind);
        if (delay > 0) {
          this.arm(delay);
          return;
        }
        this.queue[this.head++] = undefined;
        this.compact();
        const text = frame.text ?? frame.take?.();
        if (text === undefined) continue;
        // The socket is closing: its close event stops the pacer.
        if (!this.transmit(frame, text)) return;
      }
    } finally {
      this.draining = false;
    }
  }

  /** Milliseconds before a frame of `kind` may go: 0 now, Infinity until a reply comes. */
  private delay(kind: FrameKind): number {
    if (kind === 'reply') return 0;
    if (this.window !== undefined && this.outstanding.size > 0) {
      const oldest = this.outstanding.values().next().value as number;
      if (this.written - oldest >= this.window) return Number.POSITIVE_INFINITY;
    }
    return this.budget?.waitMs(this.now()) ?? 0;
  }

  private transmit(frame: OutgoingFrame, text: string): boolean {
    if (!this.write(text)) return false;
    if (frame.kind !== 'reply') this.budget?.take(this.now());
    this.written++;
    if (frame.kind === 'blocking' && frame.ref !== undefined) this.outstanding.set(frame.ref, this.written);
    return true;
  }

  /** One timer for the whole queue; a wait for a reply needs none (the reply drains). */
  private arm(delay: number): void {
    if (delay === Number.POSITIVE_INFINITY || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, delay);
    unrefTimer(this.timer);
  }

  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.queue.length) return;
    this.queue = this.queue.slice(this.head);
    this.head = 0;
  }
}
