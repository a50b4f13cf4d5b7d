/**
 * The request latency histogram, exposed from the cumulative buckets `ServerStats.requests`
 * already holds. prom-client's Histogram can only be fed by `observe()` one value at a time,
 * so this is a metric object of its own that the registry reads as it reads its own: `get()`
 * returns the `_bucket{le}`, `_sum` and `_count` series prom-client's Histogram would.
 */
import { REQUEST_LATENCY_BUCKETS, type ServerStats } from '../server/index.js';

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class LatencyHistogram {
  readonly type = 'histogram';
  /** How prom-client's AggregatorRegistry combines the workers of a Node cluster: bucket counts add up. */
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => { stats: ServerStats; labels: Record<string, string> },
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: HistogramValue[] }> {
    const { stats, labels } = this.read();
    const { count, sumSeconds, buckets } = stats.requests;
    const values: HistogramValue[] = REQUEST_LATENCY_BUCKETS.map((le, i) => ({
      metricName: `${this.name}_bucket`,
      labels: { ...labels, le },
      // A stats() without its buckets (a server that counts no requests) reads as all zeros.
      value: buckets[i] ?? 0,
    }));
    values.push(
      { metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
      { metricName: `${this.name}_sum`, labels: { ...labels }, value: sumSeconds },
      { metricName: `${this.name}_count`, labels: { ...labels }, value: count },
    );
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Nothing to reset: the values are the server's, read at each scrape (`Registry.resetMetrics` calls this). */
  reset(): void {}
}
