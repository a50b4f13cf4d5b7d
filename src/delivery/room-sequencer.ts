/**
 * Runs the operations of one stream one after another — appends with their deliveries,
 * and joins with their replays — so a join's replay and the live publications that follow
 * it can neither overlap nor leave a gap, even with an asynchronous store.
 */
export class RoomSequencer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // Forget idle streams so the map holds only streams with work queued.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Nothing is queued for `key`: an operation may run at once without overtaking one. */
  idle(key: string): boolean {
    return !this.tails.has(key);
  }

  get busyStreams(): number {
    return this.tails.size;
  }
}
