import type { RateLimit } from './options.js';

/**
 * A token bucket: holds up to `burst` tokens, refilled at `perSecond`; each action takes
 * one. Refilled lazily from the clock when asked, so it needs no timer — one per
 * connection or per IP costs two numbers.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limit: RateLimit,
    now = Date.now(),
  ) {
    this.tokens = limit.burst;
    this.refilledAt = now;
  }

  /** Take one token if there is one. */
  take(now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether the bucket is full again (nothing was taken for long enough): it can be forgotten. */
  isFull(now = Date.now()): boolean {
    this.refill(now);
    return this.tokens >= this.limit.burst;
  }

  private refill(now: number): void {
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return;
    this.refilledAt = now;
    this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed / 1000) * this.limit.perSecond);
  }
}
