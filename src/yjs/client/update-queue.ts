import * as Y from 'yjs';

/**
 * Local Yjs updates waiting to go to the server, merged into one per task: the
 * transactions of one piece of code (a paste, a script's edits) are one request. A
 * microtask, not a timer: a timer would add a millisecond or more to every keystroke's
 * trip to the others, and the SDK writes a turn's requests in one write anyway.
 */
export class UpdateQueue {
  #updates: Uint8Array[] = [];
  #scheduled = false;

  constructor(private readonly flush: (update: Uint8Array) => void) {}

  push(update: Uint8Array): void {
    this.#updates.push(update);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      if (!this.#scheduled) return;
      this.#scheduled = false;
      const update = this.take();
      if (update) this.flush(update);
    });
  }

  /** The waiting updates as one, and an empty queue; undefined when none waited. */
  take(): Uint8Array | undefined {
    const updates = this.#updates;
    this.#updates = [];
    if (updates.length === 0) return undefined;
    return updates.length === 1 ? updates[0] : Y.mergeUpdates(updates);
  }

  /** Forget what waits: a sync sends it instead, as part of what the server is missing. */
  clear(): void {
    this.#updates = [];
    this.#scheduled = false;
  }
}

/** Whether an update carries anything: an item, or a deletion. */
export function carriesChanges(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update);
  return structs.length > 0 || ds.clients.size > 0;
}
