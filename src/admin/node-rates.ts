import type { ServerStats } from '../server/index.js';

/** Per-second rates of one node, from the growth of its counters between two snapshots. */
export interface NodeRates {
  /** Frames received from clients per second. */
  messagesIn: number;
  /** Frames sent to clients per second (a broadcast counts once per recipient). */
  messagesOut: number;
  /** Broadcast frames handed to connections per second. */
  deliveries: number;
  /** Bytes received from clients per second. */
  bytesIn: number;
  /** Bytes queued for clients per second. */
  bytesOut: number;
  /** Refusals (all codes) per second. */
  refusals: number;
}

/** The counters a rate is taken of, read from a node's stats. */
function counters(stats: ServerStats): NodeRates {
  let refusals = 0;
  for (const count of Object.values(stats.refusals)) refusals += count;
  return {
    messagesIn: stats.frames.in,
    messagesOut: stats.frames.out,
    deliveries: stats.deliveries,
    bytesIn: stats.bytes.in,
    bytesOut: stats.bytes.out,
    refusals,
  };
}

/**
 * Turns counters into rates: it keeps each node's last reading, and a rate is the growth
 * since then over the time between the readings. A node seen for the first time, or whose
 * counters went down (it restarted, counting from zero again), has no rate yet (null)
 * rather than a made-up one.
 */
export class NodeRateMeter {
  readonly #last = new Map<string, { at: number; counters: NodeRates }>();

  /** The rates of `stats` read at `at` (ms), and remember the reading. */
  read(stats: ServerStats, at: number): NodeRates | null {
    const now = counters(stats);
    const last = this.#last.get(stats.nodeId);
    this.#last.set(stats.nodeId, { at, counters: now });
    if (!last || at <= last.at) return null;
    const seconds = (at - last.at) / 1000;
    const rates = {} as NodeRates;
    for (const key of Object.keys(now) as (keyof NodeRates)[]) {
      const grown = now[key] - last.counters[key];
      if (grown < 0) return null;
      rates[key] = grown / seconds;
    }
    return rates;
  }

  /** Forget nodes not in `nodeIds` (gone from the cluster), so the map does not grow with every restart. */
  keepOnly(nodeIds: ReadonlySet<string>): void {
    for (const id of this.#last.keys()) if (!nodeIds.has(id)) this.#last.delete(id);
  }

  /** Forget every reading: the next snapshot starts afresh (nobody watched in between). */
  clear(): void {
    this.#last.clear();
  }
}

/** The sum of rates, null when no node has one yet. */
export function sumRates(all: readonly (NodeRates | null)[]): NodeRates | null {
  const known = all.filter((rates): rates is NodeRates => rates !== null);
  if (known.length === 0) return null;
  const sum: NodeRates = { messagesIn: 0, messagesOut: 0, deliveries: 0, bytesIn: 0, bytesOut: 0, refusals: 0 };
  for (const rates of known) for (const key of Object.keys(sum) as (keyof NodeRates)[]) sum[key] += rates[key];
  return sum;
}
