import { type Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

/**
 * Carries one Awareness to and from the server: sends the local state when it changes (the
 * latest one per event-loop turn: a cursor dragged across a line is one message, not forty),
 * applies remote updates, greets people it has not seen yet with its own state, and drops
 * remote states while the link is down.
 */
export class AwarenessLink {
  /** Remote clientIDs that have been sent our state since they (re)appeared. */
  readonly #greeted = new Set<number>();
  #live = false;
  #flushScheduled = false;

  constructor(
    readonly awareness: Awareness,
    /** Sends an encoded awareness update to the server; only called while live. */
    private readonly send: (update: Uint8Array) => void,
  ) {
    awareness.on('update', this.#onUpdate);
  }

  /** Whether messages may go out: the namespace is connected and in the document's room. */
  get live(): boolean {
    return this.#live;
  }

  /** The link came up (after a sync) or went down. Going down forgets every remote state: the server tells them again at the next sync. */
  setLive(live: boolean): void {
    if (this.#live === live) return;
    this.#live = live;
    if (!live) this.#forgetRemoteStates();
  }

  /** Apply an update from the server. */
  receive(update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, this);
  }

  /**
   * Send the local state again with a clock the others will accept. While we were away the
   * server removed our state on their side with our last clock, and y-protocols ignores a
   * state whose clock is not newer than the one it removed (by one or, if the remover
   * bumped it, two): so the clock moves on by two.
   */
  announce(): void {
    const own = this.awareness.meta.get(this.awareness.clientID);
    const state = this.awareness.getLocalState();
    if (!own || state === null) return;
    own.clock += 1;
    this.awareness.setLocalState(state);
  }

  /** Remove the local state on the server (and so on every peer), then stop listening. */
  close(): void {
    if (this.#live && this.awareness.getLocalState() !== null) {
      removeAwarenessStates(this.awareness, [this.awareness.clientID], 'local');
      this.#flush();
    }
    this.awareness.off('update', this.#onUpdate);
    this.#live = false;
  }

  readonly #onUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    const own = this.awareness.clientID;
    if (origin === this) {
      for (const id of removed) this.#greeted.delete(id);
      let newcomer = false;
      for (const id of [...added, ...updated]) {
        if (id !== own && !this.#greeted.has(id)) {
          this.#greeted.add(id);
          newcomer = true;
        }
      }
      // Someone we have not met: they may be on another node and have missed our last
      // state, so send it now rather than at our next 15-second renewal.
      if (newcomer) this.#scheduleFlush();
      return;
    }
    // Only our own state is ours to tell; remote states timed out here time out everywhere.
    if (added.includes(own) || updated.includes(own) || removed.includes(own)) this.#scheduleFlush();
  };

  #scheduleFlush(): void {
    if (!this.#live || this.#flushScheduled) return;
    this.#flushScheduled = true;
    setTimeout(() => {
      this.#flushScheduled = false;
      this.#flush();
    }, 0);
  }

  #flush(): void {
    if (!this.#live || !this.awareness.meta.has(this.awareness.clientID)) return;
    this.send(encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]));
  }

  #forgetRemoteStates(): void {
    const removed: number[] = [];
    for (const id of [...this.awareness.states.keys()]) {
      if (id === this.awareness.clientID) continue;
      this.awareness.states.delete(id);
      removed.push(id);
    }
    // Their clocks go too, so that the states the next sync brings are taken whatever their clock.
    for (const id of [...this.awareness.meta.keys()]) if (id !== this.awareness.clientID) this.awareness.meta.delete(id);
    this.#greeted.clear();
    if (removed.length === 0) return;
    const change: AwarenessChange = { added: [], updated: [], removed };
    this.awareness.emit('change', [change, this]);
    this.awareness.emit('update', [change, this]);
  }
}
