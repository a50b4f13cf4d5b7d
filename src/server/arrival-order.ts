import { isThenable } from './validation.js';

/**
 * Starts the handlers of one connection's events in arrival order, even when an event
 * must first await an async schema. While nothing waits, an event's handlers start at
 * once (synchronously, as without schemas). Once one waits, the handlers of every later
 * event of the connection queue behind it; their own validation still runs meanwhile.
 * Only events are ordered here: other frames (join, leave, replies) do not wait.
 */
export class ArrivalOrder {
  private tail: Promise<void> | undefined;
  private waiting = 0;

  constructor(private readonly report: (err: unknown) => void) {}

  /** Call `start` with `value` once it is ready and every earlier event's `start` has run. */
  next<T>(value: T | Promise<T>, start: (value: T) => void): void {
    if (this.tail === undefined && !isThenable(value)) {
      start(value);
      return;
    }
    this.waiting++;
    this.tail = (this.tail ?? Promise.resolve())
      .then(() => value)
      .then(start)
      .catch(this.report)
      .finally(() => {
        if (--this.waiting === 0) this.tail = undefined;
      });
  }
}
