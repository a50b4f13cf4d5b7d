import type { ServerStats } from '../server/index.js';

/** What metrics are read from: a Switchboard, or anything with its `stats()`. */
export interface StatsSource {
  /** The node's numbers now (`Switchboard.stats()`). */
  stats(): ServerStats;
}

/**
 * One `stats()` per scrape, shared by every collector. A registry starts every metric's
 * `get()` (and so its `collect()`) in one synchronous pass before awaiting any, so a
 * snapshot kept until the next microtask is read by all of them, and the next scrape reads
 * afresh. It also makes the series of one scrape agree with each other.
 */
export class ScrapeSnapshot {
  private current: ServerStats | undefined;

  constructor(private readonly source: StatsSource) {}

  read(): ServerStats {
    if (this.current === undefined) {
      this.current = this.source.stats();
      queueMicrotask(() => {
        this.current = undefined;
      });
    }
    return this.current;
  }
}
