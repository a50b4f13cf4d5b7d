import type { ServerStats } from '../../src/server/index.js';

/** A `stats()` snapshot with known numbers for the metrics tests; `over` replaces fields. */
export function sampleStats(over: Partial<ServerStats> = {}): ServerStats {
  return {
    nodeId: 'node-a',
    uptimeSeconds: 42.5,
    connections: { websocket: 3, 'socket.io/polling': 1 },
    sessions: { connected: 4, waiting: 2 },
    rooms: 7,
    frames: { in: 10, out: 300 },
    bytes: { in: 1000, out: 45000 },
    broadcasts: 5,
    deliveries: 290,
    handshakes: { new: 6, resumed: 2, restored: 1 },
    recoveries: { recovered: 3, unrecovered: 1 },
    refusals: { origin_not_allowed: 2, rate_limited: 1 },
    slowConsumers: 1,
    requests: { count: 4, sumSeconds: 0.0135, buckets: [1, 2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4] },
    cluster: { nodes: 3, busMessages: 20, busLagSecondsSum: 0.04, busLagSecondsLast: 0.002, errors: 1 },
    recentRefusals: [],
    busiestRooms: [],
    ...over,
  };
}
