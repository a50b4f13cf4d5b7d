/**
 * The fan-out server of the metrics bench: Switchboard from the source tree SB_TREE (this
 * tree or a baseline worktree), as bench/servers/switchboard-app.ts sets it up, and with
 * SB_METRICS=1 createMetrics (from this tree) mounted on /metrics with sb.route.
 */
import { pathToFileURL } from 'node:url';
import { type BenchServer, httpServer, listen, serve } from '../servers/harness.js';

type ServerModule = typeof import('../../src/server/index.js');

const tree = process.env.SB_TREE;
if (!tree) throw new Error('SB_TREE: the source tree whose src/server/index.ts to run');
const { Switchboard } = (await import(pathToFileURL(`${tree}/src/server/index.ts`).href)) as ServerModule;

const http = httpServer();
// The limits that would refuse a load generator on one IP are off, as in bench/servers/switchboard-app.ts.
const sb = new Switchboard(http, { maxConnectionsPerIp: Infinity, handshakeRate: false, frameRate: false, maxConnections: Infinity, serveClient: false });
if (process.env.SB_METRICS === '1') {
  const { createMetrics } = await import('../../src/metrics/index.js');
  sb.route('/metrics', createMetrics(sb).handler);
}
const port = await listen(http);
await sb.ready();
const server: BenchServer = { publish: (room, data) => sb.to(room).emit('tick', data), connections: () => sb.connectionCount };
serve(server, port);
