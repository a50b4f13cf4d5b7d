/**
 * switchboard/metrics on a real Switchboard: `/metrics` mounted with `sb.route`, known
 * traffic from raw protocol clients (three connections, a room, broadcasts, a request, a
 * refused origin, a resume), then a scrape with fetch whose Prometheus text is parsed and
 * held against that traffic.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type WebSocket from 'ws';
import { createMetrics, type SwitchboardMetrics } from '../../src/metrics/index.js';
import { REQUEST_LATENCY_BUCKETS, Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually } from '../helpers/server.js';
import { attemptUpgrade } from '../helpers/upgrade-attempt.js';

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format (0.0.4) as a scraper reads it: TYPE lines and samples. */
function parseExposition(text: string): { types: Map<string, string>; series: Series[] } {
  const types = new Map<string, string>();
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (typed) types.set(typed[1] as string, typed[2] as string);
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = (value as string).replace(/\\(.)/g, '$1');
    const raw = sample[3] as string;
    series.push({ name: sample[1] as string, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return { types, series };
}

const TICKS = 5;
const TICK = { n: 0, text: 'x'.repeat(40) };

describe('switchboard/metrics on a running Switchboard', () => {
  let sb: Switchboard;
  let metrics: SwitchboardMetrics;
  let base: string;
  const clients: BareClient[] = [];
  const welcomes: Record<string, unknown>[] = [];
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await sb.close();
  });

  /** One scrape of /metrics: the text parsed, and a lookup of one series' value (undefined when absent). */
  async function scrape(): Promise<{ types: Map<string, string>; series: Series[]; value(name: string, labels?: Record<string, string>): number | undefined }> {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const parsed = parseExposition(await res.text());
    const node = sb.stats().nodeId;
    return {
      ...parsed,
      value: (name, labels = {}) => parsed.series.find((s) => s.name === name && s.labels.node === node && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value,
    };
  }

  before(async () => {
    sb = new Switchboard(0, { allowedOrigins: ['http://app.example'] });
    sb.on('connection', (socket) => {
      socket.on('echo', (data: unknown) => data);
    });
    metrics = createMetrics(sb, { labels: { service: 'test' } });
    sb.route('/metrics', metrics.handler);
    await sb.ready();
    base = `http://127.0.0.1:${sb.port}`;
    const url = `ws://127.0.0.1:${sb.port}/ws`;

    // Three connections from the allowed origin, each joined to the room.
    for (let i = 0; i < 3; i++) {
      const c = await BareClient.open(url, 'switchboard.v1', { Origin: 'http://app.example' });
      clients.push(c);
      welcomes.push(await c.hello());
      c.send({ type: 'join', ref: 1, room: 'lobby' });
      await c.next({ type: 'reply', ref: 1 });
    }
    // TICKS broadcasts to the room: TICKS × 3 deliveries.
    for (let n = 0; n < TICKS; n++) sb.to('lobby').emit('tick', { ...TICK, n });
    for (const c of clients) await eventually(() => c.frames.filter((f) => f.event === 'tick').length === TICKS, 'every tick');
    // One request answered by a handler.
    (clients[0] as BareClient).send({ type: 'event', event: 'echo', data: 'hi', ref: 2 });
    await (clients[0] as BareClient).next({ type: 'reply', ref: 2 });
    // One connection refused for its origin: upgraded, then closed with 1008 (what a browser can see).
    const refused = await attemptUpgrade(url, { origin: 'https://evil.example' });
    assert.equal(refused.status, 101);
    const [code] = (await once(refused.ws as WebSocket, 'close')) as [number];
    assert.equal(code, 1008);
  });

  test('the exposition: every metric typed, every series labelled with node and the constant labels', async () => {
    const { types, series } = await scrape();
    assert.equal(types.get('switchboard_frames_total'), 'counter');
    assert.equal(types.get('switchboard_deliveries_total'), 'counter');
    assert.equal(types.get('switchboard_connections'), 'gauge');
    assert.equal(types.get('switchboard_request_duration_seconds'), 'histogram');
    assert.equal(types.get('process_cpu_user_seconds_total'), 'counter', 'process metrics are on by default on its own registry');
    for (const s of series.filter((s) => s.name.startsWith('switchboard_'))) {
      assert.equal(s.labels.node, sb.stats().nodeId, `${s.name} has the node label`);
      assert.equal(s.labels.service, 'test', `${s.name} has the constant label`);
    }
  });

  test('gauges: connections by transport, sessions, rooms, uptime', async () => {
    const m = await scrape();
    assert.equal(m.value('switchboard_sessions', { state: 'connected' }), 3);
    assert.equal(m.value('switchboard_sessions', { state: 'waiting' }), 0);
    assert.equal(m.value('switchboard_connections', { transport: 'websocket' }), 3);
    assert.equal(m.value('switchboard_connections', { transport: 'sse' }), 0);
    assert.ok((m.value('switchboard_rooms') ?? 0) >= 1, 'the room lobby has members');
    assert.ok((m.value('switchboard_uptime_seconds') ?? 0) > 0);
  });

  test('counters: the handshakes, broadcasts, deliveries, frames, bytes and the refused origin', async () => {
    const m = await scrape();
    assert.equal(m.value('switchboard_handshakes_total', { outcome: 'new' }), 3);
    assert.equal(m.value('switchboard_handshakes_total', { outcome: 'resumed' }), 0);
    assert.equal(m.value('switchboard_broadcasts_total'), TICKS);
    assert.equal(m.value('switchboard_deliveries_total'), TICKS * 3);
    assert.equal(m.value('switchboard_refusals_total', { code: 'origin_not_allowed' }), 1);
    assert.equal(m.value('switchboard_slow_consumers_total'), 0);
    // In: 3 hellos, 3 joins, 1 request (and whatever acks and pongs); out: 3 welcomes, 3 join replies, the deliveries, 1 reply.
    assert.ok((m.value('switchboard_frames_total', { direction: 'in' }) ?? 0) >= 7);
    assert.ok((m.value('switchboard_frames_total', { direction: 'out' }) ?? 0) >= 3 + 3 + TICKS * 3 + 1);
    const tickBytes = JSON.stringify({ ...TICK, n: 0 }).length;
    assert.ok((m.value('switchboard_bytes_total', { direction: 'out' }) ?? 0) >= TICKS * 3 * tickBytes);
    assert.ok((m.value('switchboard_bytes_total', { direction: 'in' }) ?? 0) > 0);
  });

  test('the request latency histogram counted the request, buckets cumulative up to +Inf = count', async () => {
    const m = await scrape();
    const count = m.value('switchboard_request_duration_seconds_count');
    assert.equal(count, 1, 'the echo request is counted (joins are not handler requests)');
    const buckets = REQUEST_LATENCY_BUCKETS.map((le) => m.value('switchboard_request_duration_seconds_bucket', { le: String(le) }) as number);
    for (let i = 1; i < buckets.length; i++) assert.ok((buckets[i] as number) >= (buckets[i - 1] as number), 'cumulative');
    assert.equal(m.value('switchboard_request_duration_seconds_bucket', { le: '+Inf' }), count);
    assert.ok((m.value('switchboard_request_duration_seconds_sum') ?? -1) >= 0);
  });

  test('a later scrape shows the counters grown by exactly the new traffic, and a resume', async () => {
    const before = await scrape();
    for (let n = 0; n < TICKS; n++) sb.to('lobby').emit('tick', { ...TICK, n });
    for (const c of clients) await eventually(() => c.frames.filter((f) => f.event === 'tick').length === 2 * TICKS, 'the second ticks');
    // The third client drops its connection and resumes its session on a new one.
    const third = clients[2] as BareClient;
    const welcome = welcomes[2] as Record<string, unknown>;
    third.ws.terminate();
    await eventually(() => sb.stats().sessions.waiting === 1, 'the session to wait for its resume');
    const again = await BareClient.open(`ws://127.0.0.1:${sb.port}/ws`, 'switchboard.v1', { Origin: 'http://app.example' });
    clients.push(again);
    const resumed = await again.hello({ resume: welcome.resume, received: third.received });
    assert.equal(resumed.resumed, true);
    const later = await scrape();
    assert.equal((later.value('switchboard_deliveries_total') ?? 0) - (before.value('switchboard_deliveries_total') ?? 0), TICKS * 3);
    assert.equal((later.value('switchboard_broadcasts_total') ?? 0) - (before.value('switchboard_broadcasts_total') ?? 0), TICKS);
    assert.equal(later.value('switchboard_handshakes_total', { outcome: 'resumed' }), 1);
    assert.equal(later.value('switchboard_handshakes_total', { outcome: 'new' }), 3);
    assert.equal(later.value('switchboard_sessions', { state: 'connected' }), 3);
  });
});
