import type { ClusterAdapter } from '../cluster/adapter.js';
import type { ServerCounters } from './server-counters.js';
import type { ClusterStats, RoomStats, ServerStats, StatsOptions } from './server-stats.js';

/** What stats() reads of a session: gauges are counted over the sessions when asked, never kept on their paths. */
export interface CountedSession {
  readonly connected: boolean;
  readonly away: boolean;
  readonly transportKind: string | undefined;
}

/** What stats() reads of a namespace: its rooms, and its sockets (whose own rooms are not counted as rooms). */
export interface CountedNamespace {
  readonly name: string;
  readonly sockets: ReadonlyMap<string, unknown>;
  readonly rooms: { names(): IterableIterator<string>; size(room: string): number };
}

/** What an adapter without `stats()` reports: it cannot tell. */
const UNKNOWN_CLUSTER: ClusterStats = { nodes: undefined, busMessages: 0, busLagSecondsSum: 0, busLagSecondsLast: 0, errors: 0 };

/**
 * A node's numbers at call time: the counters as they stand, and the gauges (connections,
 * sessions, rooms) counted now over the sessions and namespaces — a pass proportional to
 * them, paid by whoever asks (a scrape), not by the paths that change them.
 */
export function collectStats(
  counters: ServerCounters,
  sessions: Iterable<CountedSession>,
  namespaces: Iterable<CountedNamespace>,
  cluster: ClusterAdapter,
  options: StatsOptions,
): ServerStats {
  const connections: Record<string, number> = {};
  let connected = 0;
  let waiting = 0;
  for (const session of sessions) {
    if (session.connected) {
      connected++;
      const kind = session.transportKind;
      if (kind !== undefined) connections[kind] = (connections[kind] ?? 0) + 1;
    } else if (session.away) waiting++;
  }
  const wanted = Math.max(0, Math.floor(options.rooms ?? 0));
  const busiest: RoomStats[] = [];
  let rooms = 0;
  for (const nsp of namespaces) {
    for (const room of nsp.rooms.names()) {
      // Every socket's own room is a room of one: counting them would count connections again.
      if (nsp.sockets.has(room)) continue;
      rooms++;
      if (wanted > 0) keepIfBusier(busiest, wanted, nsp.name, room, nsp.rooms.size(room));
    }
  }
  let cumulative = 0;
  const buckets = counters.requestBuckets.map((n) => (cumulative += n));
  return {
    nodeId: cluster.nodeId,
    uptimeSeconds: (Date.now() - counters.startedAt) / 1000,
    connections,
    sessions: { connected, waiting },
    rooms,
    frames: { in: counters.framesIn, out: counters.framesOut },
    bytes: { in: counters.bytesIn, out: counters.bytesOut },
    broadcasts: counters.broadcasts,
    deliveries: counters.deliveries,
    handshakes: { new: counters.handshakesNew, resumed: counters.handshakesResumed, restored: counters.handshakesRestored },
    recoveries: { recovered: counters.recovered, unrecovered: counters.unrecovered },
    refusals: { ...counters.refusals },
    slowConsumers: counters.slowConsumers,
    requests: { count: counters.requests, sumSeconds: counters.requestSeconds, buckets },
    cluster: clusterStats(cluster),
    recentRefusals: counters.recentRefusals(),
    busiestRooms: busiest,
  };
}

/**
 * Top-k selection for busiestRooms: `kept` stays sorted best first and at most `k` long, and
 * a room gets an object only when it ranks above the last one kept. A dashboard polls this
 * every second on every node: at 100k rooms, sorting them all (an object each) cost ~25 ms;
 * this is one comparison per room when k is small. Order: most members first, then
 * namespace, then room name (by UTF-16 code units, as `<` compares strings).
 */
function keepIfBusier(kept: RoomStats[], k: number, namespace: string, room: string, members: number): void {
  const last = kept[kept.length - 1];
  if (kept.length === k && last !== undefined && !ranksBefore(members, namespace, room, last)) return;
  let at = kept.length;
  while (at > 0 && ranksBefore(members, namespace, room, kept[at - 1] as RoomStats)) at--;
  kept.splice(at, 0, { namespace, room, members });
  if (kept.length > k) kept.pop();
}

function ranksBefore(members: number, namespace: string, room: string, other: RoomStats): boolean {
  if (members !== other.members) return members > other.members;
  if (namespace !== other.namespace) return namespace < other.namespace;
  return room < other.room;
}

/** The adapter's numbers; an adapter whose stats() throws is reported as one that cannot tell. */
function clusterStats(cluster: ClusterAdapter): ClusterStats {
  if (!cluster.stats) return { ...UNKNOWN_CLUSTER };
  try {
    return { ...cluster.stats() };
  } catch {
    return { ...UNKNOWN_CLUSTER };
  }
}
