import { backoffDelay } from './backoff.js';
import type { ResolvedReconnect } from './options.js';

/**
 * The attempt after an `online` event comes within this many ms, drawn at random: the
 * phones behind one cell or access point get their network back at the same moment, and
 * should not all reach the server in the same millisecond. Short next to any backoff.
 */
export const ONLINE_SPREAD_MS = 300;

/**
 * When to try again. Counts consecutive failed attempts (a welcome resets the count) and
 * holds the one pending retry timer.
 */
export class ReconnectSchedule {
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly policy: ResolvedReconnect,
    private readonly random: () => number = Math.random,
  ) {}

  /** Count a failure and return the retry it earns, or undefined when reconnecting is off or exhausted. */
  next(): { attempt: number; delay: number } | undefined {
    if (!this.policy.enabled || this.failures >= this.policy.maxAttempts) return undefined;
    this.failures++;
    return { attempt: this.failures, delay: backoffDelay(this.failures - 1, this.policy.delay, this.policy.maxDelay, this.random) };
  }

  /** Run `retry` after `delay`. */
  wait(delay: number, retry: () => void): void {
    this.cancel();
    // Left referenced on purpose: a reconnecting client should keep a Node process alive, as an open socket does.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      retry();
    }, delay);
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The network came back: the failures counted against the missing network say nothing
   * about the server, so backoff starts over. Returns the delay of the next attempt.
   */
  afterOnline(): number {
    this.reset();
    return this.random() * ONLINE_SPREAD_MS;
  }

  /** The connection succeeded, or the app restarted it: backoff starts over. */
  reset(): void {
    this.failures = 0;
  }
}
