/**
 * The optional pages `serve` mounts with `sb.route()` beside the HTTP API: Prometheus
 * metrics (switchboard/metrics) and the admin dashboard (switchboard/admin). Metrics are
 * loaded only when configured, because they need prom-client, an optional peer: a missing
 * one is a config error (exit 2) that says how to install it, before anything listens.
 */
import { adminDashboard } from '../../admin/index.js';
import type { Switchboard } from '../../server/index.js';
import { ConfigError } from './config-reader.js';
import type { ServeConfig } from './serve-config.js';

type MetricsModule = typeof import('../../metrics/index.js');

/** A mounted page: where it is, for the startup lines, and how to stop it. */
export interface Mount {
  label: string;
  path: string;
  close(): void;
}

/** switchboard/metrics when `metrics` is on; throws a ConfigError naming `npm install prom-client` when prom-client is missing. */
export async function loadMetrics(config: ServeConfig): Promise<MetricsModule | undefined> {
  if (!config.metrics) return undefined;
  try {
    return await import('../../metrics/index.js');
  } catch (err) {
    // switchboard/metrics loads prom-client at import, and fails with its own install hint.
    if (!/prom-client/.test((err as Error).message)) throw err;
    throw new ConfigError('metrics', '"metrics" needs the prom-client package (an optional peer dependency): npm install prom-client', { cause: err });
  }
}

/** Mount what the config turns on; the mounts in the order of the startup lines. */
export function mountPages(sb: Switchboard, config: ServeConfig, metricsModule: MetricsModule | undefined): Mount[] {
  const mounts: Mount[] = [];
  if (config.metrics && metricsModule) {
    const metrics = metricsModule.createMetrics(sb);
    sb.route(config.metrics.path, metrics.handler);
    mounts.push({ label: 'Prometheus metrics', path: config.metrics.path, close: () => metrics.close() });
  }
  if (config.admin) {
    // The page connects to the WebSocket path this server has, wherever `path` put it.
    const admin = adminDashboard(sb, { token: config.admin.token, path: config.admin.path, endpoint: config.path });
    mounts.push({ label: 'admin dashboard', path: admin.path, close: () => admin.close() });
  }
  return mounts;
}
