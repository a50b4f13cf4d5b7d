/**
 * Full-jitter exponential backoff: a uniformly random delay in
 * [0, min(maxDelay, delay * 2^attempt)). Jitter over the whole window, rather than around
 * the exponential value, spreads the reconnects of many clients dropped by one server
 * restart evenly instead of in synchronized waves.
 *
 * `attempt` counts from 0 for the first retry. `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, delay: number, maxDelay: number, random: () => number = Math.random): number {
  // 2 ** attempt overflows to Infinity for large attempts; min() then yields the cap.
  const window = Math.min(maxDelay, delay * 2 ** Math.max(0, attempt));
  return random() * window;
}
