import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSnapshot } from '../../src/admin/admin-snapshot.js';
import { AdminToken } from '../../src/admin/admin-token.js';
import { NodeRateMeter } from '../../src/admin/node-rates.js';
import type { ServerStats } from '../../src/server/index.js';

/** A node's stats as documented in server-stats.ts, with the counters given. */
function stats(nodeId: string, counters: Partial<{ in: number; out: number; deliveries: number; bytesIn: number; bytesOut: number; refused: number }> = {}, more: Partial<ServerStats> = {}): ServerStats {
  return {
    nodeId,
    uptimeSeconds: 10,
    connections: { websocket: 2 },
    sessions: { connected: 2, waiting: 1 },
    rooms: 3,
    frames: { in: counters.in ?? 0, out: counters.out ?? 0 },
    bytes: { in: counters.bytesIn ?? 0, out: counters.bytesOut ?? 0 },
    broadcasts: 0,
    deliveries: counters.deliveries ?? 0,
    handshakes: { new: 0, resumed: 0, restored: 0 },
    recoveries: { recovered: 0, unrecovered: 0 },
    refusals: { rate_limited: counters.refused ?? 0 },
    slowConsumers: 0,
    requests: { count: 0, sumSeconds: 0, buckets: [] },
    cluster: { nodes: undefined, busMessages: 0, busLagSecondsSum: 0, busLagSecondsLast: 0.002, errors: 0 },
    recentRefusals: [],
    busiestRooms: [],
    ...more,
  };
}

describe('NodeRateMeter', () => {
  test('rates are counter growth over the time between readings; none on the first reading', () => {
    const meter = new NodeRateMeter();
    assert.equal(meter.read(stats('a', { in: 100 }), 1_000), null);
    assert.deepEqual(meter.read(stats('a', { in: 300, out: 50, deliveries: 40, bytesIn: 2048, bytesOut: 512, refused: 2 }), 3_000), {
      messagesIn: 100,
      messagesOut: 25,
      deliveries: 20,
      bytesIn: 1024,
      bytesOut: 256,
      refusals: 1,
    });
  });

  test('a restarted node (counters went down) has no rate rather than a negative one; clear() starts afresh', () => {
    const meter = new NodeRateMeter();
    meter.read(stats('a', { in: 500 }), 1_000);
    assert.equal(meter.read(stats('a', { in: 10 }), 2_000), null);
    assert.equal(meter.read(stats('a', { in: 20 }), 3_000)?.messagesIn, 10);
    meter.clear();
    assert.equal(meter.read(stats('a', { in: 30 }), 4_000), null);
  });
});

describe('buildSnapshot', () => {
  test('sums the nodes, merges rooms across nodes, orders refusals newest first, leaves out private rooms', () => {
    const meter = new NodeRateMeter();
    const a = stats('a', {}, {
      connections: { websocket: 2, sse: 1 },
      busiestRooms: [{ namespace: '/', room: 'lobby', members: 5 }, { namespace: '/', room: 'ops', members: 1 }],
      recentRefusals: [{ at: 10, code: 'origin_not_allowed', transport: 'websocket', address: '10.0.0.1', origin: 'https://evil.example' }],
    });
    const b = stats('b', {}, {
      busiestRooms: [{ namespace: '/', room: 'lobby', members: 4 }, { namespace: '/chat', room: 'lobby', members: 2 }],
      recentRefusals: [{ at: 20, code: 'rate_limited', transport: 'sse', address: '10.0.0.2' }],
    });
    const snapshot = buildSnapshot(
      {
        at: 1_000,
        node: 'b',
        stats: [b, a],
        sockets: [
          { id: 's1', ns: '/', rooms: ['s1', 'lobby'], data: {}, node: 'a', user: 'ada' },
          { id: 's2', ns: '/', rooms: ['s2'], data: {}, node: 'b' },
        ],
        maxSessions: 1,
        maxRooms: 2,
        problems: [],
      },
      meter,
    );
    assert.deepEqual(snapshot.nodes.map((n) => n.id), ['a', 'b']);
    assert.deepEqual(snapshot.total.connections, { websocket: 4, sse: 1 });
    assert.deepEqual(snapshot.total.sessions, { connected: 4, waiting: 2 });
    assert.equal(snapshot.total.rooms, 6);
    assert.equal(snapshot.total.rates, null);
    assert.deepEqual(snapshot.busiestRooms, [
      { namespace: '/', room: 'lobby', members: 9 },
      { namespace: '/chat', room: 'lobby', members: 2 },
    ]);
    assert.deepEqual(snapshot.recentRefusals.map((r) => [r.code, r.node]), [['rate_limited', 'b'], ['origin_not_allowed', 'a']]);
    assert.deepEqual(snapshot.sessions, { total: 2, list: [{ id: 's1', ns: '/', node: 'a', user: 'ada', rooms: ['lobby'] }] });
  });
});

describe('AdminToken', () => {
  test('accepts only { token } with the exact token', () => {
    const token = new AdminToken('0123456789abcdef');
    assert.equal(token.accepts({ token: '0123456789abcdef' }), true);
    for (const auth of [{ token: '0123456789abcde' }, { token: '0123456789abcdefg' }, { token: 12 }, '0123456789abcdef', null, undefined, {}]) {
      assert.equal(token.accepts(auth), false, JSON.stringify(auth));
    }
  });
});
