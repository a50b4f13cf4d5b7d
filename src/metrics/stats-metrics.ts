/**
 * The counters and gauges of switchboard/metrics, each read from one `ServerStats`: what a
 * scrape exposes, as data, apart from prom-client so that the names, labels and help text
 * live in one table (docs/OPERATIONS.md lists the same table).
 */
import type { ServerStats } from '../server/index.js';

/** One series of a metric: its own labels (beside `node` and the app's labels) and its value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface StatsMetric {
  /** Without the prefix. */
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  /** The labels of its own, beside `node` and the app's constant labels. */
  labelNames: readonly string[];
  read(stats: ServerStats): Sample[];
}

/** The transports whose connection gauge is always there, at 0 when unused, so that a dashboard shows 0 rather than no data. */
const NATIVE_TRANSPORTS = ['websocket', 'sse', 'polling'] as const;

const one = (value: number): Sample[] => [{ labels: {}, value }];
const by = (label: string, values: Record<string, number>): Sample[] => Object.entries(values).map(([key, value]) => ({ labels: { [label]: key }, value }));

export const STATS_METRICS: readonly StatsMetric[] = [
  {
    name: 'connections',
    type: 'gauge',
    help: 'Open client connections, by transport.',
    labelNames: ['transport'],
    read: (s) => by('transport', { ...Object.fromEntries(NATIVE_TRANSPORTS.map((t) => [t, 0])), ...s.connections }),
  },
  {
    name: 'sessions',
    type: 'gauge',
    help: 'Sessions with a connection (connected) and sessions waiting to be resumed (waiting).',
    labelNames: ['state'],
    read: (s) => by('state', { connected: s.sessions.connected, waiting: s.sessions.waiting }),
  },
  { name: 'rooms', type: 'gauge', help: 'Rooms with at least one member on this node, over all namespaces.', labelNames: [], read: (s) => one(s.rooms) },
  {
    name: 'frames_total',
    type: 'counter',
    help: 'Frames received from clients (in) and sent to them (out); a broadcast counts once per recipient.',
    labelNames: ['direction'],
    read: (s) => by('direction', { in: s.frames.in, out: s.frames.out }),
  },
  {
    name: 'bytes_total',
    type: 'counter',
    help: 'Payload bytes of the frames received from clients (in) and queued for them (out).',
    labelNames: ['direction'],
    read: (s) => by('direction', { in: s.bytes.in, out: s.bytes.out }),
  },
  { name: 'broadcasts_total', type: 'counter', help: 'Broadcasts this node delivered to its members.', labelNames: [], read: (s) => one(s.broadcasts) },
  { name: 'deliveries_total', type: 'counter', help: "Frames of broadcasts handed to this node's connections.", labelNames: [], read: (s) => one(s.deliveries) },
  {
    name: 'handshakes_total',
    type: 'counter',
    help: 'Handshakes by outcome: a new session, a session resumed on this node, a session restored from the session store.',
    labelNames: ['outcome'],
    read: (s) => by('outcome', { new: s.handshakes.new, resumed: s.handshakes.resumed, restored: s.handshakes.restored }),
  },
  {
    name: 'recoveries_total',
    type: 'counter',
    help: 'Durable-room joins with a position, by outcome: the gap replayed (recovered) or recovered: false (unrecovered).',
    labelNames: ['outcome'],
    read: (s) => by('outcome', { recovered: s.recoveries.recovered, unrecovered: s.recoveries.unrecovered }),
  },
  {
    name: 'refusals_total',
    type: 'counter',
    help: 'Refusals by error code: connections, middleware and joins refused, frames refused for size or rate.',
    labelNames: ['code'],
    read: (s) => by('code', s.refusals),
  },
  { name: 'slow_consumers_total', type: 'counter', help: 'Connections closed as slow consumers (slow_consumer).', labelNames: [], read: (s) => one(s.slowConsumers) },
  {
    name: 'cluster_nodes',
    type: 'gauge',
    help: 'Nodes the cluster adapter knows to be alive, this one included (no sample when the adapter cannot tell).',
    labelNames: [],
    read: (s) => (s.cluster.nodes === undefined ? [] : one(s.cluster.nodes)),
  },
  { name: 'cluster_bus_messages_total', type: 'counter', help: 'Messages from other nodes received on the cluster bus.', labelNames: [], read: (s) => one(s.cluster.busMessages) },
  {
    // Not `cluster_bus_lag_seconds`: that is the OpenMetrics family name of the counter
    // `cluster_bus_lag_seconds_total` below, and two families of one name are refused by parsers.
    name: 'cluster_bus_last_lag_seconds',
    type: 'gauge',
    help: 'Lag of the last message received on the cluster bus (receive time minus send time).',
    labelNames: [],
    read: (s) => one(s.cluster.busLagSecondsLast),
  },
  {
    name: 'cluster_bus_lag_seconds_total',
    type: 'counter',
    help: 'Sum of the lags of the messages received on the cluster bus; divided by the rate of cluster_bus_messages_total, the mean lag.',
    labelNames: [],
    read: (s) => one(s.cluster.busLagSecondsSum),
  },
  { name: 'cluster_errors_total', type: 'counter', help: "Errors of the cluster adapter's connections (Redis errors).", labelNames: [], read: (s) => one(s.cluster.errors) },
  { name: 'uptime_seconds', type: 'gauge', help: 'Seconds since the server started.', labelNames: [], read: (s) => one(s.uptimeSeconds) },
];

/** The labels every metric has of its own, which the app's constant labels may not reuse. */
export const RESERVED_LABELS: readonly string[] = ['node', 'le', ...new Set(STATS_METRICS.flatMap((m) => m.labelNames))];
