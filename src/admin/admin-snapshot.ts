import type { RecentRefusal, RoomStats, ServerStats, SocketInfo } from '../server/index.js';
import { type NodeRateMeter, type NodeRates, sumRates } from './node-rates.js';

/** How many recent refusals the page shows, newest first, over all nodes. */
const REFUSALS_SHOWN = 20;

/** One node as the page shows it. */
export interface AdminNode {
  id: string;
  uptimeSeconds: number;
  /** Open connections by transport. */
  connections: Record<string, number>;
  sessions: { connected: number; waiting: number };
  rooms: number;
  /** Per-second rates since the previous snapshot; null on the first one. */
  rates: NodeRates | null;
  /** Seconds from send to receive of the last message from another node (0 on a single node). */
  busLagSeconds: number;
  /** Errors of the cluster adapter's connections since the start. */
  clusterErrors: number;
}

/** A session as the page lists it. */
export interface AdminSession {
  id: string;
  ns: string;
  node: string;
  user?: string;
  /** Rooms it is in, its own private room left out. */
  rooms: string[];
}

/** What the dashboard pushes to the page every `interval` (event `snapshot` in the admin namespace). */
export interface AdminSnapshot {
  /** When it was taken, ms since the epoch. */
  at: number;
  /** The node that took it (where the page is connected). */
  node: string;
  nodes: AdminNode[];
  /** Sums over the nodes. */
  total: {
    connections: Record<string, number>;
    sessions: { connected: number; waiting: number };
    rooms: number;
    rates: NodeRates | null;
  };
  /** The busiest rooms over all nodes (members summed), most members first. */
  busiestRooms: RoomStats[];
  /** The last refusals over all nodes, newest first, with the node that refused. */
  recentRefusals: (RecentRefusal & { node: string })[];
  /** Sessions of the listed namespaces on every node: `total` of them, the first `maxSessions` in `list`. */
  sessions: { total: number; list: AdminSession[] };
  /** Why part of the numbers is missing (another node did not answer, a query failed); absent when all is there. */
  problems: string[];
}

/** What a snapshot is made of. */
export interface SnapshotParts {
  at: number;
  node: string;
  stats: readonly ServerStats[];
  sockets: readonly SocketInfo[];
  maxSessions: number;
  maxRooms: number;
  problems: string[];
}

/** Merge the nodes' stats and the sockets into what the page shows. */
export function buildSnapshot(parts: SnapshotParts, meter: NodeRateMeter): AdminSnapshot {
  const stats = [...parts.stats].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  meter.keepOnly(new Set(stats.map((s) => s.nodeId)));
  const nodes = stats.map((s): AdminNode => ({
    id: s.nodeId,
    uptimeSeconds: s.uptimeSeconds,
    connections: { ...s.connections },
    sessions: { ...s.sessions },
    rooms: s.rooms,
    rates: meter.read(s, parts.at),
    busLagSeconds: s.cluster.busLagSecondsLast,
    clusterErrors: s.cluster.errors,
  }));
  const connections: Record<string, number> = {};
  for (const node of nodes) for (const [transport, count] of Object.entries(node.connections)) connections[transport] = (connections[transport] ?? 0) + count;
  return {
    at: parts.at,
    node: parts.node,
    nodes,
    total: {
      connections,
      sessions: { connected: sum(nodes, (n) => n.sessions.connected), waiting: sum(nodes, (n) => n.sessions.waiting) },
      rooms: sum(nodes, (n) => n.rooms),
      rates: sumRates(nodes.map((n) => n.rates)),
    },
    busiestRooms: busiestRooms(stats, parts.maxRooms),
    recentRefusals: stats
      .flatMap((s) => s.recentRefusals.map((refusal) => ({ ...refusal, node: s.nodeId })))
      .sort((a, b) => b.at - a.at)
      .slice(0, REFUSALS_SHOWN),
    sessions: {
      total: parts.sockets.length,
      list: parts.sockets.slice(0, parts.maxSessions).map((s) => ({
        id: s.id,
        ns: s.ns,
        node: s.node,
        ...(s.user === undefined ? {} : { user: s.user }),
        rooms: s.rooms.filter((room) => room !== s.id),
      })),
    },
    problems: parts.problems,
  };
}

/** A room's members summed over the nodes: each node counts only its own. */
function busiestRooms(stats: readonly ServerStats[], max: number): RoomStats[] {
  const rooms = new Map<string, RoomStats>();
  for (const s of stats) {
    for (const room of s.busiestRooms) {
      const key = JSON.stringify([room.namespace, room.room]);
      const known = rooms.get(key);
      if (known) known.members += room.members;
      else rooms.set(key, { ...room });
    }
  }
  return [...rooms.values()].sort((a, b) => b.members - a.members || a.room.localeCompare(b.room)).slice(0, max);
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += of(item);
  return total;
}
