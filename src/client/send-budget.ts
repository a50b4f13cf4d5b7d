/** A rate the client allows itself: `perSecond` frames per second, `burst` at once. */
export interface SendRate {
  perSecond: number;
  burst: number;
}

/**
 * The client's copy of the server's per-connection token bucket: holds up to `burst`
 * tokens, gains `perSecond` per second (refilled lazily from the clock), and each counted
 * frame takes one. Unlike the server's it never goes into debt: a frame that finds no
 * token waits, for `waitMs()`, instead of being sent and refused.
 */
export class SendBudget {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly rate: SendRate,
    now: number,
  ) {
    // The server's bucket is full when the connection opens, and nothing counted came before the welcome.
    this.tokens = rate.burst;
    this.refilledAt = now;
  }

  /** Milliseconds until a frame may go: 0 when a token is there now. */
  waitMs(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.rate.perSecond) * 1000));
  }

  /** A frame went out: it takes its token. Only after waitMs() said 0. */
  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  private refill(now: number): void {
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return;
    this.refilledAt = now;
    this.tokens = Math.min(this.rate.burst, this.tokens + (elapsed / 1000) * this.rate.perSecond);
  }
}
