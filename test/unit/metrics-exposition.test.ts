/**
 * switchboard/metrics against a stand-in for `Switchboard.stats()` with known numbers: the
 * Prometheus text a scrape gets (names, types, labels, values), one stats() per scrape, the
 * options' checks and the HTTP handler. The real server's numbers are checked in
 * test/integration/metrics.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { createMetrics } from '../../src/metrics/index.js';
import { loadPromClient } from '../../src/metrics/prom-client.js';
import { sampleStats } from '../helpers/sample-stats.js';
import { REQUEST_LATENCY_BUCKETS, type ServerStats } from '../../src/server/index.js';


/** A stats() source that counts its calls, with numbers the test can change. */
function fakeServer(stats: ServerStats = sampleStats()): { stats(): ServerStats; calls: number; current: ServerStats } {
  return {
    calls: 0,
    current: stats,
    stats() {
      this.calls++;
      return this.current;
    },
  };
}

const lines = (text: string): string[] => text.split('\n');

describe('switchboard/metrics: the text a scrape gets', () => {
  test('every stats() number, under its name and type, with the node label', async () => {
    const text = await createMetrics(fakeServer()).text();
    const expected = [
      '# TYPE switchboard_connections gauge',
      'switchboard_connections{node="node-a",transport="websocket"} 3',
      'switchboard_connections{node="node-a",transport="sse"} 0',
      'switchboard_connections{node="node-a",transport="polling"} 0',
      'switchboard_connections{node="node-a",transport="socket.io/polling"} 1',
      'switchboard_sessions{node="node-a",state="connected"} 4',
      'switchboard_sessions{node="node-a",state="waiting"} 2',
      'switchboard_rooms{node="node-a"} 7',
      '# TYPE switchboard_frames_total counter',
      'switchboard_frames_total{node="node-a",direction="in"} 10',
      'switchboard_frames_total{node="node-a",direction="out"} 300',
      '# TYPE switchboard_bytes_total counter',
      'switchboard_bytes_total{node="node-a",direction="out"} 45000',
      '# TYPE switchboard_broadcasts_total counter',
      'switchboard_broadcasts_total{node="node-a"} 5',
      '# TYPE switchboard_deliveries_total counter',
      'switchboard_deliveries_total{node="node-a"} 290',
      '# TYPE switchboard_handshakes_total counter',
      'switchboard_handshakes_total{node="node-a",outcome="new"} 6',
      'switchboard_handshakes_total{node="node-a",outcome="resumed"} 2',
      'switchboard_handshakes_total{node="node-a",outcome="restored"} 1',
      'switchboard_recoveries_total{node="node-a",outcome="recovered"} 3',
      'switchboard_recoveries_total{node="node-a",outcome="unrecovered"} 1',
      '# TYPE switchboard_refusals_total counter',
      'switchboard_refusals_total{node="node-a",code="origin_not_allowed"} 2',
      'switchboard_refusals_total{node="node-a",code="rate_limited"} 1',
      '# TYPE switchboard_slow_consumers_total counter',
      'switchboard_slow_consumers_total{node="node-a"} 1',
      '# TYPE switchboard_cluster_nodes gauge',
      'switchboard_cluster_nodes{node="node-a"} 3',
      '# TYPE switchboard_cluster_bus_messages_total counter',
      'switchboard_cluster_bus_messages_total{node="node-a"} 20',
      '# TYPE switchboard_cluster_bus_last_lag_seconds gauge',
      'switchboard_cluster_bus_last_lag_seconds{node="node-a"} 0.002',
      '# TYPE switchboard_cluster_bus_lag_seconds_total counter',
      'switchboard_cluster_bus_lag_seconds_total{node="node-a"} 0.04',
      '# TYPE switchboard_cluster_errors_total counter',
      'switchboard_cluster_errors_total{node="node-a"} 1',
      '# TYPE switchboard_uptime_seconds gauge',
      'switchboard_uptime_seconds{node="node-a"} 42.5',
    ];
    for (const line of expected) assert.ok(lines(text).includes(line), `missing line: ${line}\n${text}`);
  });

  test('request latency is a histogram: cumulative buckets over REQUEST_LATENCY_BUCKETS, +Inf, _sum and _count', async () => {
    const text = await createMetrics(fakeServer()).text();
    const histogram = lines(text).filter((l) => l.startsWith('switchboard_request_duration_seconds'));
    const buckets = [1, 2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4];
    assert.deepEqual(histogram, [
      ...REQUEST_LATENCY_BUCKETS.map((le, i) => `switchboard_request_duration_seconds_bucket{node="node-a",le="${le}"} ${buckets[i]}`),
      'switchboard_request_duration_seconds_bucket{node="node-a",le="+Inf"} 4',
      'switchboard_request_duration_seconds_sum{node="node-a"} 0.0135',
      'switchboard_request_duration_seconds_count{node="node-a"} 4',
    ]);
    assert.ok(lines(text).includes('# TYPE switchboard_request_duration_seconds histogram'));
    assert.ok(lines(text).some((l) => l.startsWith('# HELP switchboard_request_duration_seconds ')));
  });

  test('every metric has help text', async () => {
    const text = await createMetrics(fakeServer(), { processMetrics: false }).text();
    const typed = lines(text).filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    const helped = lines(text).filter((l) => /^# HELP \S+ \S/.test(l)).map((l) => l.split(' ')[2]);
    assert.equal(typed.length, 18);
    assert.deepEqual(helped, typed);
  });

  test('a counter shows the server total at each scrape, not a sum of scrapes', async () => {
    const server = fakeServer();
    const metrics = createMetrics(server);
    await metrics.text();
    server.current = sampleStats({ deliveries: 1000, refusals: { origin_not_allowed: 2, rate_limited: 1, unauthorized: 4 } });
    const text = await metrics.text();
    assert.ok(lines(text).includes('switchboard_deliveries_total{node="node-a"} 1000'));
    assert.ok(lines(text).includes('switchboard_refusals_total{node="node-a",code="origin_not_allowed"} 2'));
    assert.ok(lines(text).includes('switchboard_refusals_total{node="node-a",code="unauthorized"} 4'));
  });

  test('cluster_nodes has no sample when the adapter cannot tell', async () => {
    const stats = sampleStats();
    const text = await createMetrics(fakeServer({ ...stats, cluster: { ...stats.cluster, nodes: undefined } })).text();
    assert.ok(lines(text).includes('# TYPE switchboard_cluster_nodes gauge'));
    assert.ok(!lines(text).some((l) => l.startsWith('switchboard_cluster_nodes{')));
  });

  test('one stats() call per scrape, shared by every metric', async () => {
    const server = fakeServer();
    const metrics = createMetrics(server, { processMetrics: false });
    assert.equal(server.calls, 0);
    await metrics.text();
    assert.equal(server.calls, 1);
    await Promise.all([metrics.registry.metrics(), metrics.registry.getMetricsAsJSON()]);
    assert.equal(server.calls, 2, 'two scrapes started in one turn may share a read, never need more than one each');
    await metrics.text();
    assert.equal(server.calls, 3);
  });

  test('prefix and constant labels', async () => {
    const text = await createMetrics(fakeServer(), { prefix: 'chat_', labels: { service: 'chat', region: 'eu' } }).text();
    assert.ok(lines(text).includes('chat_deliveries_total{node="node-a",service="chat",region="eu"} 290'));
    assert.ok(lines(text).includes('chat_request_duration_seconds_count{node="node-a",service="chat",region="eu"} 4'));
    assert.ok(!text.includes('switchboard_'));
  });
});

describe('switchboard/metrics: registries and options', () => {
  test("process metrics: on a registry of its own by default, labelled with node; off on the app's registry", async () => {
    const own = await createMetrics(fakeServer()).text();
    assert.match(own, /^process_cpu_user_seconds_total\{node="node-a"\} /m);
    const registry = new Registry();
    const shared = await createMetrics(fakeServer(), { registry }).text();
    assert.doesNotMatch(shared, /process_cpu_user_seconds_total/);
    assert.match(await createMetrics(fakeServer(), { processMetrics: false }).text(), /switchboard_rooms/);
    assert.doesNotMatch(await createMetrics(fakeServer(), { processMetrics: false }).text(), /process_cpu/);
  });

  test("on the app's registry beside its own metrics; twice with one prefix is refused, a second prefix works, close() removes", async () => {
    const registry = new Registry();
    const metrics = createMetrics(fakeServer(), { registry });
    assert.throws(() => createMetrics(fakeServer(), { registry }), /already has a metric "switchboard_connections"/);
    const other = createMetrics(fakeServer(sampleStats({ nodeId: 'node-b' })), { registry, prefix: 'second_' });
    const text = await registry.metrics();
    assert.ok(lines(text).includes('switchboard_rooms{node="node-a"} 7'));
    assert.ok(lines(text).includes('second_rooms{node="node-b"} 7'));
    other.close();
    metrics.close();
    assert.equal(await registry.metrics(), '\n');
    assert.equal(metrics.names.length, 18);
  });

  test('bad options are TypeErrors that say what is wrong', () => {
    const server = fakeServer();
    assert.throws(() => createMetrics({} as never), { name: 'TypeError', message: /must be a Switchboard/ });
    assert.throws(() => createMetrics(server, { prefix: '1x_' }), { name: 'TypeError', message: /prefix "1x_"/ });
    assert.throws(() => createMetrics(server, { labels: { node: 'x' } }), { name: 'TypeError', message: /label "node" is one the metrics set themselves/ });
    assert.throws(() => createMetrics(server, { labels: { transport: 'x' } }), /label "transport"/);
    assert.throws(() => createMetrics(server, { labels: { 'bad-name': 'x' } }), /label name "bad-name"/);
    assert.throws(() => createMetrics(server, { labels: { n: 1 as unknown as string } }), /must have a string value/);
  });

  test('without prom-client the error says how to install it', async () => {
    await assert.rejects(loadPromClient('prom-client-that-is-not-installed'), (err: Error) => {
      assert.match(err.message, /npm install prom-client/);
      assert.ok(err.cause, 'the import error is kept as cause');
      return true;
    });
  });
});

describe('switchboard/metrics: the HTTP handler', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
  });
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const http = createServer(handler);
    servers.push(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`;
  }

  test('GET answers the text with the registry content type; HEAD the headers only; other methods 405', async () => {
    const metrics = createMetrics(fakeServer(), { processMetrics: false });
    const url = await serve(metrics.handler);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(await res.text(), await metrics.text());
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const post = await fetch(url, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  test('a failing stats() answers 500 with the reason and tells onError', async () => {
    const errors: unknown[] = [];
    const broken = {
      stats(): ServerStats {
        throw new Error('stats broke');
      },
    };
    const url = await serve(createMetrics(broken, { processMetrics: false, onError: (err) => errors.push(err) }).handler);
    const res = await fetch(url);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'metrics collection failed: stats broke\n');
    assert.deepEqual(errors.map((e) => (e as Error).message), ['stats broke']);
  });

  test("without onError a failed scrape goes to the server's reportError", async () => {
    const reported: Array<[unknown, Record<string, unknown>]> = [];
    const broken = {
      stats(): ServerStats {
        throw new Error('stats broke');
      },
      reportError(err: unknown, context: Record<string, unknown>) {
        reported.push([err, context]);
      },
    };
    const url = await serve(createMetrics(broken, { processMetrics: false }).handler);
    assert.equal((await fetch(url)).status, 500);
    assert.equal(reported.length, 1);
    assert.deepEqual(reported[0]?.[1], { phase: 'metrics' });
  });
});
