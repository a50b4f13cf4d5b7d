/** Events of a DocumentProvider. */
export interface DocumentProviderEvents {
  /** The document matches the server's as of this sync: fired after every successful sync (the first, and after each reconnect). */
  synced: () => void;
  /** The provider's link to the server came up (`connected: true`, before the sync) or went down. */
  status: (status: DocumentStatus) => void;
  /**
   * Something went wrong that the provider cannot mend by itself: the room was refused
   * (`forbidden`, `not_a_document`), an update was refused (`read_only`, `document_too_large`,
   * `malformed_update`), or a sync failed and will be retried. `error.code` has the code.
   */
  error: (error: Error & { code?: string }) => void;
}

/** Payload of the provider's `status` event. */
export interface DocumentStatus {
  /** True while the client's namespace is connected. */
  connected: boolean;
}

type Listeners = { [E in keyof DocumentProviderEvents]: Set<DocumentProviderEvents[E]> };

/** The provider's listeners, one set per event. A listener that throws is reported in a microtask, not to the caller. */
export class ProviderListeners {
  readonly #listeners: Listeners = { synced: new Set(), status: new Set(), error: new Set() };

  add<E extends keyof DocumentProviderEvents>(event: E, listener: DocumentProviderEvents[E]): void {
    this.#listeners[event].add(listener);
  }

  remove<E extends keyof DocumentProviderEvents>(event: E, listener?: DocumentProviderEvents[E]): void {
    if (listener) this.#listeners[event].delete(listener);
    else this.#listeners[event].clear();
  }

  has(event: keyof DocumentProviderEvents): boolean {
    return this.#listeners[event].size > 0;
  }

  emit<E extends keyof DocumentProviderEvents>(event: E, ...args: Parameters<DocumentProviderEvents[E]>): void {
    for (const listener of [...this.#listeners[event]]) {
      try {
        (listener as (...a: Parameters<DocumentProviderEvents[E]>) => void)(...args);
      } catch (err) {
        // Like a DOM event listener: the provider's own work goes on.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  clear(): void {
    for (const set of Object.values(this.#listeners)) set.clear();
  }
}
