/**
 * createMetrics: a Switchboard's `stats()` as Prometheus metrics on a prom-client registry.
 * Nothing is counted here: every value is read from one `stats()` call per scrape, inside the
 * collectors, so the server's own paths do no work for metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter, Gauge, Histogram, PrometheusContentType, Registry, RegistryContentType } from 'prom-client';
import { prom } from './prom-client.js';
import { LatencyHistogram } from './latency-histogram.js';
import { ScrapeSnapshot, type StatsSource } from './scrape-snapshot.js';
import { RESERVED_LABELS, STATS_METRICS } from './stats-metrics.js';

/** Options of `createMetrics`; `T` is the content type of the registry (`Registry<T>`), the Prometheus text format by default. */
export interface MetricsOptions<T extends RegistryContentType = PrometheusContentType> {
  /**
   * The prom-client registry to register on. Default: a new `Registry` of its own, which writes
   * the Prometheus text format 0.0.4. A registry created with `Registry.OPENMETRICS_CONTENT_TYPE` writes OpenMetrics.
   */
  registry?: Registry<T>;
  /** Put before every metric name. Default `'switchboard_'`. */
  prefix?: string;
  /** Constant labels on every metric (say `{ service: 'chat' }`), beside `node`. Default none. */
  labels?: Record<string, string>;
  /**
   * Also collect prom-client's default process metrics (`process_cpu_seconds_total`,
   * `nodejs_heap_size_used_bytes`, ...), labelled with `node` and `labels`. Default: true
   * when createMetrics creates the registry, false when you pass one (yours may have them already).
   */
  processMetrics?: boolean;
  /** Told of a scrape that failed (it was answered 500). Default: the server's `reportError` (its `error` event), else console.error. */
  onError?: (err: unknown) => void;
}

/** What `createMetrics` returns: the registry, the /metrics handler, and a way to take the metrics off again. */
export interface SwitchboardMetrics<T extends RegistryContentType = PrometheusContentType> {
  /** The registry the metrics are on. */
  readonly registry: Registry<T>;
  /** The metric names this instance registered (with the prefix; the histogram by its base name). */
  readonly names: readonly string[];
  /**
   * An HTTP handler answering GET and HEAD with the registry's text in the registry's format
   * and content type (405 for other methods, 500 when collecting fails). Mount it with
   * `sb.route('/metrics', metrics.handler)` or any framework's `(req, res)` route.
   * The Accept header is not read: prom-client renames a registry's counters in place when it
   * writes OpenMetrics (`x_total` becomes family `x`), so one registry cannot alternate formats.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The text a scrape gets (`registry.metrics()`). */
  text(): Promise<string>;
  /** Take this instance's metrics off the registry (the process metrics, if it added them, stay). */
  close(): void;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus metrics of `source` (a Switchboard) on a prom-client registry: see docs/OPERATIONS.md#metrics. */
export function createMetrics<T extends RegistryContentType = PrometheusContentType>(source: StatsSource, options: MetricsOptions<T> = {}): SwitchboardMetrics<T> {
  if (typeof source?.stats !== 'function') throw new TypeError('createMetrics(sb): sb must be a Switchboard (an object with stats())');
  const prefix = options.prefix ?? 'switchboard_';
  if (prefix !== '' && !METRIC_NAME.test(prefix)) throw new TypeError(`createMetrics: prefix ${JSON.stringify(prefix)} is not a valid start of a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
  const constLabels = { ...options.labels };
  for (const [name, value] of Object.entries(constLabels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new TypeError(`createMetrics: label name ${JSON.stringify(name)} is not a valid Prometheus label name`);
    if (RESERVED_LABELS.includes(name)) throw new TypeError(`createMetrics: label "${name}" is one the metrics set themselves (${RESERVED_LABELS.join(', ')})`);
    if (typeof value !== 'string') throw new TypeError(`createMetrics: label "${name}" must have a string value`);
  }
  const ownRegistry = options.registry === undefined;
  // Without a registry T is its default, the Prometheus text format: the type of a new Registry.
  const registry = options.registry ?? (new prom.Registry() as Registry<T>);
  const names = [...STATS_METRICS.map((m) => prefix + m.name), `${prefix}request_duration_seconds`];
  for (const name of names) {
    if (registry.getSingleMetric(name)) throw new TypeError(`createMetrics: the registry already has a metric "${name}" (one createMetrics per Switchboard and registry, or give each its own prefix)`);
  }

  const snapshot = new ScrapeSnapshot(source);
  // `node` tells the nodes of a cluster apart when their scrapes meet in one Prometheus.
  const read = () => {
    const stats = snapshot.read();
    return { stats, labels: { node: stats.nodeId, ...constLabels } };
  };
  const constNames = Object.keys(constLabels);
  // prom-client types `registers` as a list of Registry<one content type>, which a Registry<T> does not narrow to; the metrics do not depend on the format.
  const registers = [registry as Registry<RegistryContentType> as Registry];
  // Each metric registers itself on `registry` (prom-client's `registers`), where the scrapes find it.
  for (const metric of STATS_METRICS) {
    const labelNames = ['node', ...constNames, ...metric.labelNames];
    const config = { name: prefix + metric.name, help: metric.help, labelNames, registers };
    const samples = () => {
      const { stats, labels } = read();
      return metric.read(stats).flatMap((s) => (Number.isFinite(s.value) ? [{ labels: { ...labels, ...s.labels }, value: s.value }] : []));
    };
    if (metric.type === 'counter') {
      new prom.Counter({
        ...config,
        collect(this: Counter) {
          const current = samples();
          // The server's total, set as one increment from 0 at each scrape: prom-client counters have no set().
          this.reset();
          for (const s of current) this.inc(s.labels, Math.max(0, s.value));
        },
      });
    } else {
      new prom.Gauge({
        ...config,
        collect(this: Gauge) {
          const current = samples();
          this.reset();
          for (const s of current) this.set(s.labels, s.value);
        },
      });
    }
  }
  const histogram = new LatencyHistogram(`${prefix}request_duration_seconds`, 'Client requests answered by handlers, from the request frame to its reply (seconds).', read);
  // The registry reads any object with name, help, type and get() (prom-client's own Registry.merge relies on it).
  registry.registerMetric(histogram as unknown as Histogram);

  if (options.processMetrics ?? ownRegistry) {
    if (registry.getSingleMetric('process_cpu_user_seconds_total')) throw new TypeError('createMetrics: the registry has the process metrics already; pass processMetrics: false');
    prom.collectDefaultMetrics({ register: registry, labels: { node: source.stats().nodeId, ...constLabels } });
  }

  const reportError =
    options.onError ??
    ((err: unknown) => {
      const server = source as Partial<{ reportError(err: unknown, context: Record<string, unknown>): void }>;
      if (typeof server.reportError === 'function') server.reportError(err, { phase: 'metrics' });
      else console.error('[switchboard/metrics] scrape failed', err);
    });

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('metrics are read with GET\n');
      return;
    }
    let body: string;
    try {
      body = await registry.metrics();
    } catch (err) {
      // Answered here rather than rejected: under Express 4 a rejected handler is an unhandled rejection.
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
      reportError(err);
      return;
    }
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return {
    registry,
    names,
    handler,
    text: () => registry.metrics(),
    close: () => {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
