/**
 * What a node has done and holds, as plain numbers read at call time (`Switchboard.stats()`):
 * the server counts with integer increments on its paths, and metrics exporters (switchboard/metrics,
 * the admin dashboard) read these when they are scraped, so counting costs the fan-out path
 * nothing it could measure. Counters only grow from the server's start; gauges are read now.
 */

import type { ClusterStats } from '../cluster/adapter.js';

export type { ClusterStats };

/** Upper bounds, in seconds, of the request latency histogram (`ServerStats.requests`); +Inf is implied. */
export const REQUEST_LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A connection refused, or a client refused something, as `ServerStats.recentRefusals` keeps it (never a token). */
export interface RecentRefusal {
  /** When, in ms since the epoch. */
  at: number;
  /** The error code the client got (see ERRORS.md): `origin_not_allowed`, `rate_limited`, `unauthorized`, `message_too_big`, ... */
  code: string;
  /** The transport tried (`websocket`, `sse`, `polling`, `socket.io/websocket`, `socket.io/polling`). */
  transport: string;
  /** The client's address (`trustProxy` applied). */
  address: string;
  /** The page's origin, when the request had one. */
  origin?: string;
  /** The namespace, when the refusal came from one (middleware, authorization, a rate-limited frame that named one). */
  namespace?: string;
}

/** A room with the most members on this node (`stats({ rooms: n })`). */
export interface RoomStats {
  namespace: string;
  room: string;
  /** This node's members. */
  members: number;
}

export interface StatsOptions {
  /** How many of the busiest rooms to list in `busiestRooms` (this node's members). Default 0: none, and no work. */
  rooms?: number;
}


/** One node's numbers (`Switchboard.stats()`). Counters count from the server's start. */
export interface ServerStats {
  /** This node's id in the cluster (the adapter's `nodeId`). */
  nodeId: string;
  /** Seconds since the server started. */
  uptimeSeconds: number;
  /** Gauge: open connections by what carries them, keyed as `socket.transport` (`websocket`, `sse`, `polling`, `socket.io/websocket`, `socket.io/polling`); absent keys are 0. */
  connections: Record<string, number>;
  /** Gauge: sessions with a connection, and sessions waiting to be resumed. */
  sessions: { connected: number; waiting: number };
  /** Gauge: rooms with at least one member on this node, over all namespaces (user rooms included; each socket's own room is not counted). */
  rooms: number;
  /** Counters: frames received from clients and sent to them (a broadcast counts once per recipient). */
  frames: { in: number; out: number };
  /** Counters: bytes of those frames (payload bytes, as read and as queued for the network). */
  bytes: { in: number; out: number };
  /** Counter: broadcasts this node delivered to its members (`to(...).emit`, namespace emits, cluster broadcasts, durable publications, presence announcements). */
  broadcasts: number;
  /** Counter: frames of those broadcasts (presence announcements included) handed to this node's connections. */
  deliveries: number;
  /** Counters: handshakes by outcome — a new session, a session resumed on this node, a session restored from the session store (taken over from another node). */
  handshakes: { new: number; resumed: number; restored: number };
  /** Counters: durable-room joins with a position, by outcome (the whole gap replayed, or `recovered: false`). */
  recoveries: { recovered: number; unrecovered: number };
  /** Counters: refusals by error code — connections refused (origin, limits, rate, disabled transport), middleware refusals, refusals by authorization (`authorizeJoin`, private and user rooms, `authorize`), frames refused (size, Socket.IO's `maxPayload` included; `rate_limited` counts each time the client is told, not each frame dropped). */
  refusals: Record<string, number>;
  /** Counter: connections closed as slow consumers (`slow_consumer`). */
  slowConsumers: number;
  /** Histogram of client requests answered by handlers, from the request frame to its reply (seconds): `buckets[i]` counts requests that took at most `REQUEST_LATENCY_BUCKETS[i]` (cumulative, as Prometheus). */
  requests: { count: number; sumSeconds: number; buckets: readonly number[] };
  /** The cluster adapter's own numbers. */
  cluster: ClusterStats;
  /** The last refusals (newest last, at most 50). */
  recentRefusals: readonly RecentRefusal[];
  /** The busiest rooms on this node, most members first (`stats({ rooms })`; empty by default). */
  busiestRooms: readonly RoomStats[];
}
