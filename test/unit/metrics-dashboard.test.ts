/**
 * docs/grafana/switchboard-dashboard.json is an importable Grafana dashboard whose every
 * PromQL expression names only metrics switchboard/metrics exposes (with its default
 * prefix), so a renamed metric cannot leave a panel silently empty.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createMetrics } from '../../src/metrics/index.js';
import type { ServerStats } from '../../src/server/index.js';

const DASHBOARD = new URL('../../docs/grafana/switchboard-dashboard.json', import.meta.url);

interface Target {
  expr: string;
  refId: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}

/** PromQL functions, aggregations and keywords the dashboard may use: any other name must be a metric. */
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'irate', 'increase', 'histogram_quantile', 'clamp_min', 'and', 'or', 'unless', 'on', 'ignoring']);

/** The metric names an expression reads: label matchers, ranges, strings and grouping labels taken out first. */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    // A variable query, label_values(metric, label): the label is not a metric.
    .replace(/label_values\(([^,()]+),\s*\w+\)/g, '$1')
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return (bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((word) => !PROMQL_WORDS.has(word));
}

/** Every sample name a scrape of createMetrics has (process metrics off), histogram series included. */
async function exposedNames(): Promise<Set<string>> {
  const zeros: ServerStats = {
    nodeId: 'n',
    uptimeSeconds: 0,
    connections: {},
    sessions: { connected: 0, waiting: 0 },
    rooms: 0,
    frames: { in: 0, out: 0 },
    bytes: { in: 0, out: 0 },
    broadcasts: 0,
    deliveries: 0,
    handshakes: { new: 0, resumed: 0, restored: 0 },
    recoveries: { recovered: 0, unrecovered: 0 },
    refusals: { origin_not_allowed: 0 },
    slowConsumers: 0,
    requests: { count: 0, sumSeconds: 0, buckets: [] },
    cluster: { nodes: 1, busMessages: 0, busLagSecondsSum: 0, busLagSecondsLast: 0, errors: 0 },
    recentRefusals: [],
    busiestRooms: [],
  };
  const text = await createMetrics({ stats: () => zeros }, { processMetrics: false }).text();
  return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/, 1)[0] as string));
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    __inputs: Array<{ name: string; pluginId: string; type: string }>;
    schemaVersion: number;
    uid: string;
    title: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; definition?: string; datasource?: { uid?: string } }> };
  };
  const queries = dashboard.panels.filter((p) => p.type !== 'row');

  test('imports into Grafana 10/11 with a Prometheus data source chosen at import (DS_PROMETHEUS)', () => {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    assert.deepEqual(dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
    assert.equal(dashboard.uid, 'switchboard-overview');
    for (const p of queries) {
      assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `panel "${p.title}" uses the chosen data source`);
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has queries`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, '${DS_PROMETHEUS}');
    }
    for (const v of dashboard.templating.list) assert.equal(v.datasource?.uid, '${DS_PROMETHEUS}');
  });

  test('panel ids are unique and panels do not overlap on the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `panel "${p.title}" fits the grid`);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          assert.ok(!cells.has(`${i},${j}`), `panel "${p.title}" overlaps another at ${i},${j}`);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  test('every expression names only metrics switchboard/metrics exposes', async () => {
    const exposed = await exposedNames();
    const exprs = [...queries.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.definition ?? '')];
    for (const expr of exprs) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `no metric in ${expr}`);
      for (const name of names) assert.ok(exposed.has(name), `${name} (in ${expr}) is not a metric of switchboard/metrics`);
    }
  });

  test('the panels cover the metrics operators watch', () => {
    const used = new Set(queries.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNamesIn(t.expr))));
    const watched = [
      'switchboard_connections',
      'switchboard_sessions',
      'switchboard_deliveries_total',
      'switchboard_frames_total',
      'switchboard_bytes_total',
      'switchboard_refusals_total',
      'switchboard_slow_consumers_total',
      'switchboard_request_duration_seconds_bucket',
      'switchboard_handshakes_total',
      'switchboard_recoveries_total',
      'switchboard_cluster_nodes',
      'switchboard_cluster_bus_last_lag_seconds',
      'switchboard_cluster_bus_lag_seconds_total',
      'switchboard_cluster_errors_total',
    ];
    for (const name of watched) assert.ok(used.has(name), `no panel shows ${name}`);
    const quantiles = queries.flatMap((p) => (p.targets ?? []).map((t) => /^histogram_quantile\((0\.\d+),/.exec(t.expr)?.[1])).filter(Boolean);
    assert.deepEqual(quantiles, ['0.5', '0.95', '0.99']);
  });

  test('the expression check itself: it finds a metric that does not exist', async () => {
    const exposed = await exposedNames();
    assert.deepEqual(metricNamesIn('sum by (code) (rate(switchboard_refusal_total{node=~"$node"}[5m]))'), ['switchboard_refusal_total']);
    assert.ok(!exposed.has('switchboard_refusal_total'));
  });
});
