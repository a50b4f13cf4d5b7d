import { Switchboard } from '../../src/server/index.js';
import { servePaced } from '../cluster/paced.js';
import { type BenchServer, httpServer, listen, serve } from '../servers/harness.js';
import { flapHeartbeat } from './heartbeat.js';

/**
 * Switchboard for the flap benchmark: defaults (session resume on, its TTL 120 s) but the
 * benchmark's heartbeat and the per-IP limits that would refuse a load generator on one
 * address; with FLAP_DURABLE=1 every room is durable (default history bounds).
 */
const http = httpServer();
const sb = new Switchboard(http, {
  maxConnectionsPerIp: Infinity,
  handshakeRate: false,
  rateLimit: false,
  maxConnections: Infinity,
  serveClient: false,
  heartbeat: flapHeartbeat(),
});
if (process.env.FLAP_DURABLE === '1') sb.durable(/.*/);
const port = await listen(http);
await sb.ready();
const server: BenchServer = { publish: (room, data) => sb.to(room).emit('tick', data), connections: () => sb.connectionCount };
servePaced(server);
serve(server, port);
