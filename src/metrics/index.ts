/**
 * switchboard/metrics: Prometheus metrics of a Switchboard through prom-client (an optional
 * peer: `npm install prom-client`). `sb.route('/metrics', createMetrics(sb).handler)`.
 */
export { createMetrics, type MetricsOptions, type SwitchboardMetrics } from './create-metrics.js';
export type { StatsSource } from './scrape-snapshot.js';
export type { ServerStats, RecentRefusal, RoomStats, ClusterStats } from '../server/index.js';
