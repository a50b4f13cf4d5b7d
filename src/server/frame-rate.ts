import type { RateLimit } from './options.js';

/**
 * What to do with one counted frame:
 * - `accept`: process it;
 * - `reject`: do not process it; it is the first rejected since the last accepted frame,
 *   so the client is told (a reply to a request, otherwise an error frame);
 * - `reject-quietly`: do not process it; answer it only if a request waits for the answer;
 * - `abuse`: the client went on sending past the limit: close the connection.
 */
export type FrameVerdict = 'accept' | 'reject' | 'reject-quietly' | 'abuse';

/**
 * The per-connection frame rate (`frameRate`): a token bucket that can go into debt.
 * It holds up to `burst` tokens and gains `perSecond` per second, refilled lazily from the
 * clock (no timer). Every counted frame takes a token — a rejected one too: a client over
 * the rate must slow down below it before its frames get through again, and one that
 * does not piles up debt. Once the debt would pass `burst` (the client sent `burst` frames
 * more than the bucket allowed: twice `burst` at once, or a steady stream over the rate
 * for `burst / (rate - perSecond)` seconds), the verdict is `abuse`.
 * Costs three numbers and a flag per connection.
 */
export class FrameRate {
  private tokens: number;
  private refilledAt: number;
  /** A rejection was reported since the last accepted frame. */
  private told = false;

  constructor(
    private readonly limit: RateLimit,
    now = Date.now(),
  ) {
    this.tokens = limit.burst;
    this.refilledAt = now;
  }

  take(now = Date.now()): FrameVerdict {
    // An infinite rate is no limit (and Infinity × 0 ms would be NaN).
    if (this.limit.perSecond === Number.POSITIVE_INFINITY) return 'accept';
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.refilledAt = now;
      this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed / 1000) * this.limit.perSecond);
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.told = false;
      return 'accept';
    }
    if (this.tokens - 1 < -this.limit.burst) return 'abuse';
    this.tokens -= 1;
    if (this.told) return 'reject-quietly';
    this.told = true;
    return 'reject';
  }
}
