import * as Y from 'yjs';

/**
 * Local Yjs updates waiting to go to the server, merged into one per event-loop turn:
 * typing a word is a few requests, not one per keystroke and transaction.
 */
export class UpdateQueue {
  #updates: Uint8Array[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly flush: (update: Uint8Array) => void) {}

  push(update: Uint8Array): void {
    this.#updates.push(update);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      const update = this.take();
      if (update) this.flush(update);
    }, 0);
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
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Whether an update carries anything: an item, or a deletion. */
export function carriesChanges(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update);
  return structs.length > 0 || ds.clients.size > 0;
}
