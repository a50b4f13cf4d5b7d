/**
 * Metric families of switchboard/metrics in both exposition formats a scraper may ask for:
 * the Prometheus text format 0.0.4 and OpenMetrics 1.0. In OpenMetrics a counter's family is
 * named without `_total` (its sample is `NAME_total`), so a gauge `x` beside a counter `x_total`
 * are two families named `x`, which parsers refuse; a histogram `x` owns `x_bucket`, `x_sum`
 * and `x_count` in both. These tests read the `# TYPE` lines as a scraper does and check that
 * no two families share a name or could share a sample name, and that every sample belongs
 * to exactly one family: the one declared above it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Counter, Gauge, type OpenMetricsContentType, Registry, type RegistryContentType } from 'prom-client';
import { createMetrics } from '../../src/metrics/index.js';
import { REQUEST_LATENCY_BUCKETS, type ServerStats } from '../../src/server/index.js';
import { sampleStats } from '../helpers/sample-stats.js';

type Format = 'prometheus' | 'openmetrics';

/**
 * The sample names a family of each type may have, as suffixes of the family name. In 0.0.4 a
 * counter's family name is its sample name (`_total` included); OpenMetrics adds `_total` and
 * reserves `_created` (prom-client writes none, another exporter on the registry may).
 */
const SUFFIXES: Record<Format, Record<string, readonly string[]>> = {
  prometheus: {
    counter: [''],
    gauge: [''],
    untyped: [''],
    histogram: ['_bucket', '_sum', '_count'],
    summary: ['', '_sum', '_count'],
  },
  openmetrics: {
    counter: ['_total', '_created'],
    gauge: [''],
    unknown: [''],
    stateset: [''],
    info: ['_info'],
    histogram: ['_bucket', '_sum', '_count', '_created'],
    gaugehistogram: ['_bucket', '_gsum', '_gcount'],
    summary: ['', '_sum', '_count', '_created'],
  },
};

interface Family {
  name: string;
  type: string;
  /** Every sample name the family may have. */
  sampleNames: string[];
}

/** What is wrong with an exposition's families, one message each; empty when nothing is. */
function familyProblems(text: string, format: Format): string[] {
  const problems: string[] = [];
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (typed) {
      const [, name, type] = typed as unknown as [string, string, string];
      const suffixes = SUFFIXES[format][type];
      if (!suffixes) problems.push(`family ${name}: type ${type} is not a ${format} type`);
      if (families.has(name)) problems.push(`family ${name} is declared twice (${families.get(name)?.type} and ${type})`);
      current = { name, type, sampleNames: (suffixes ?? ['']).map((s) => name + s) };
      families.set(name, current);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    if (sample === undefined) {
      problems.push(`not a sample line: ${line}`);
      continue;
    }
    const owners = [...families.values()].filter((f) => f.sampleNames.includes(sample)).map((f) => f.name);
    if (owners.length !== 1) problems.push(`sample ${sample} belongs to ${owners.length} families (${owners.join(', ')})`);
    else if (owners[0] !== current?.name) problems.push(`sample ${sample} belongs to ${owners[0]} but follows the TYPE of ${current?.name}`);
  }
  // A clash can hide while one side has no sample (a counter at 0 written by another exporter, `_created`): check what each family may write.
  const claimed = new Map<string, string>();
  for (const family of families.values()) {
    for (const sampleName of family.sampleNames) {
      const other = claimed.get(sampleName);
      if (other !== undefined && other !== family.name) problems.push(`families ${other} and ${family.name} may both write ${sampleName}`);
      claimed.set(sampleName, family.name);
    }
  }
  if (format === 'openmetrics' && !text.endsWith('# EOF\n')) problems.push('OpenMetrics text does not end with "# EOF"');
  return [...new Set(problems)];
}

/** A snapshot in which every number is non-zero, so that every series of every metric is written. */
const EVERY_FIELD: ServerStats = sampleStats({
  connections: { websocket: 3, sse: 2, polling: 1, 'socket.io/websocket': 4, 'socket.io/polling': 1 },
  requests: { count: 14, sumSeconds: 9.5, buckets: REQUEST_LATENCY_BUCKETS.map((_, i) => i + 1) },
});

const CONTENT_TYPES: Record<Format, RegistryContentType> = { prometheus: Registry.PROMETHEUS_CONTENT_TYPE, openmetrics: Registry.OPENMETRICS_CONTENT_TYPE };

/**
 * A registry that writes `format`. prom-client's constructor takes the content type, but its
 * typings declare no argument, so this is the typed way (docs/OPERATIONS.md shows the same).
 */
function registryFor(format: Format): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(CONTENT_TYPES[format]);
  return registry;
}

describe('switchboard/metrics: families in both exposition formats', () => {
  for (const format of ['prometheus', 'openmetrics'] as const) {
    for (const processMetrics of [false, true]) {
      test(`${format}${processMetrics ? ', process metrics on' : ''}: every family is named once and owns its samples`, async () => {
        const registry = registryFor(format);
        const metrics = createMetrics({ stats: () => EVERY_FIELD }, { registry, processMetrics });
        const text = await metrics.text();
        assert.deepEqual(familyProblems(text, format), []);
        // Every metric wrote samples, so the check above looked at all of them.
        const typed = text.split('\n').filter((l) => l.startsWith('# TYPE switchboard_')).map((l) => l.split(' ')[2]);
        assert.equal(typed.length, metrics.names.length);
        for (const family of typed) assert.match(text, new RegExp(`^${family}(_total|_bucket)?\\{`, 'm'), `${family} has samples`);
        // prom-client renames a counter in place when it writes OpenMetrics: a second scrape must name the same.
        const ours = (t: string) => t.split('\n').filter((l) => l.includes('switchboard_'));
        assert.deepEqual(ours(await metrics.text()), ours(text));
      });
    }
  }

  test('the bus lag: a gauge of the last lag and a counter of their sum, as two families in OpenMetrics', async () => {
    const registry = registryFor('openmetrics');
    const text = await createMetrics({ stats: () => EVERY_FIELD }, { registry, processMetrics: false }).text();
    const lines = text.split('\n');
    for (const line of [
      '# TYPE switchboard_cluster_bus_last_lag_seconds gauge',
      'switchboard_cluster_bus_last_lag_seconds{node="node-a"} 0.002',
      '# TYPE switchboard_cluster_bus_lag_seconds counter',
      'switchboard_cluster_bus_lag_seconds_total{node="node-a"} 0.04',
    ]) {
      assert.ok(lines.includes(line), `missing line: ${line}\n${text}`);
    }
  });

  test('the check itself: it finds a gauge X beside a counter X_total, and a histogram beside X_count', async () => {
    const clash = registryFor('openmetrics');
    new Gauge({ name: 'x_lag_seconds', help: 'last', registers: [clash] }).set(1);
    new Counter({ name: 'x_lag_seconds_total', help: 'sum', registers: [clash] }).inc(2);
    assert.deepEqual(familyProblems(await clash.metrics(), 'openmetrics'), [
      'family x_lag_seconds is declared twice (gauge and counter)',
    ]);
    // In 0.0.4 the same pair is two families; the checker finds nothing there, as a 0.0.4 parser would.
    const prometheusClash = new Registry();
    new Gauge({ name: 'x_lag_seconds', help: 'last', registers: [prometheusClash] }).set(1);
    new Counter({ name: 'x_lag_seconds_total', help: 'sum', registers: [prometheusClash] }).inc(2);
    assert.deepEqual(familyProblems(await prometheusClash.metrics(), 'prometheus'), []);

    const histogramClash = new Registry();
    createMetrics({ stats: () => EVERY_FIELD }, { registry: histogramClash, processMetrics: false });
    new Counter({ name: 'switchboard_request_duration_seconds_count', help: 'clash', registers: [histogramClash] }).inc();
    assert.deepEqual(familyProblems(await histogramClash.metrics(), 'prometheus'), [
      'sample switchboard_request_duration_seconds_count belongs to 2 families (switchboard_request_duration_seconds, switchboard_request_duration_seconds_count)',
      'families switchboard_request_duration_seconds and switchboard_request_duration_seconds_count may both write switchboard_request_duration_seconds_count',
    ]);
  });
});

describe('switchboard/metrics: the handler answers in its registry format', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
  });

  test('an OpenMetrics registry is served as OpenMetrics, whatever the Accept header; close() still takes the metrics off', async () => {
    // As docs/OPERATIONS.md#openmetrics writes it; the registry keeps its type through createMetrics.
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const metrics = createMetrics({ stats: () => EVERY_FIELD }, { registry, processMetrics: false });
    const typed: Registry<OpenMetricsContentType> = metrics.registry;
    assert.equal(typed.contentType, Registry.OPENMETRICS_CONTENT_TYPE);
    const http = createServer(metrics.handler);
    servers.push(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`;
    for (const accept of ['application/openmetrics-text; version=1.0.0', 'text/plain; version=0.0.4']) {
      const res = await fetch(url, { headers: { accept } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), Registry.OPENMETRICS_CONTENT_TYPE);
      assert.deepEqual(familyProblems(await res.text(), 'openmetrics'), []);
    }
    metrics.close();
    assert.equal(await registry.metrics(), '\n# EOF\n');
  });

  test('the default registry is served as Prometheus text 0.0.4, even to a scraper that prefers OpenMetrics', async () => {
    const metrics = createMetrics({ stats: () => EVERY_FIELD }, { processMetrics: false });
    const http = createServer(metrics.handler);
    servers.push(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4' },
    });
    assert.equal(res.headers.get('content-type'), Registry.PROMETHEUS_CONTENT_TYPE);
    assert.deepEqual(familyProblems(await res.text(), 'prometheus'), []);
  });
});
