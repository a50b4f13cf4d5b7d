import * as Y from 'yjs';

/**
 * Local Yjs updates on their way to the server. An update leaves at the end of the task
 * that made it (a microtask, not a timer: no keystroke waits a millisecond more), unless
 * the previous one is still unanswered: then what is made meanwhile waits for that answer
 * and leaves as one merged update. Idle typing goes out at once; a burst, or a slow link,
 * costs one request per round trip rather than one per keystroke.
 */
export class UpdateQueue {
  #updates: Uint8Array[] = [];
  #scheduled = false;
  #inFlight = false;
  /** Bumped by clear(): the answer to a request sent before it no longer releases the queue. */
  #generation = 0;

  /** `send` returns what settles when the server answered (or the request failed); undefined when nothing was sent. */
  constructor(private readonly send: (update: Uint8Array) => Promise<unknown> | undefined) {}

  push(update: Uint8Array): void {
    this.#updates.push(update);
    this.#schedule();
  }

  /** The waiting updates as one, and an empty queue; undefined when none waited. */
  take(): Uint8Array | undefined {
    const updates = this.#updates;
    this.#updates = [];
    if (updates.length === 0) return undefined;
    return updates.length === 1 ? updates[0] : Y.mergeUpdates(updates);
  }

  /** Forget what waits and what is unanswered: a sync sends it instead, as part of what the server is missing. */
  clear(): void {
    this.#updates = [];
    this.#scheduled = false;
    this.#inFlight = false;
    this.#generation++;
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    const generation = this.#generation;
    queueMicrotask(() => {
      if (generation !== this.#generation || !this.#scheduled) return;
      this.#scheduled = false;
      const update = this.take();
      const answered = update && this.send(update);
      if (!answered) return;
      this.#inFlight = true;
      const release = (): void => {
        if (generation !== this.#generation) return;
        this.#inFlight = false;
        if (this.#updates.length > 0) this.#schedule();
      };
      answered.then(release, release);
    });
  }
}

/** Whether an update carries anything: an item, or a deletion. */
export function carriesChanges(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update);
  return structs.length > 0 || ds.clients.size > 0;
}
