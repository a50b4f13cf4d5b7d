import { RedisAdapter } from '../../src/cluster/redis/index.js';
import { Switchboard } from '../../src/server/index.js';
import { httpServer, listen, serve } from '../servers/harness.js';
import { servePaced } from './paced.js';

/**
 * One Switchboard node of a bench cluster: with BENCH_REDIS_URL and BENCH_PREFIX on the
 * RedisAdapter, else the in-memory adapter (a cluster of one). The limits that would refuse
 * a load generator on one IP are off, as in ../servers/switchboard-app.ts.
 */
const redisUrl = process.env.BENCH_REDIS_URL;
const http = httpServer();
const sb = new Switchboard(http, {
  maxConnectionsPerIp: Infinity,
  handshakeRate: false,
  rateLimit: false,
  maxConnections: Infinity,
  serveClient: false,
  ...(redisUrl ? { adapter: new RedisAdapter(redisUrl, { prefix: process.env.BENCH_PREFIX ?? 'sbbench' }) } : {}),
});
const port = await listen(http);
// Ready only once the adapter hears the other nodes, or the first messages would be lost.
await sb.ready();
const server = { publish: (room: string, data: unknown) => sb.to(room).emit('tick', data), connections: () => sb.connectionCount };
servePaced(server);
serve(server, port);
