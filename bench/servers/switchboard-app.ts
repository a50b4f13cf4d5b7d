import { Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import { type BenchServer, httpServer, listen, serve } from './harness.js';

/**
 * Switchboard from src/, as `node --import tsx` runs it. The safe defaults that would
 * refuse a load generator on one IP are off (per-IP connections 100, handshakes 20/s,
 * frames 100/s per connection, 50,000 connections); everything else is as shipped unless
 * `options` says otherwise: session resume on, heartbeats, no compression. `more` adds
 * commands of its own before the runner is told the server is ready; `prepare` sets the
 * server up (durable rooms, say) before it listens.
 */
export async function serveSwitchboard(
  options: SwitchboardOptions = {},
  more?: (server: BenchServer) => void,
  prepare?: (sb: Switchboard) => void,
): Promise<void> {
  const http = httpServer();
  const sb = new Switchboard(http, {
    maxConnectionsPerIp: Infinity,
    handshakeRate: false,
    frameRate: false,
    maxConnections: Infinity,
    serveClient: false,
    ...options,
  });
  sb.on('connection', (socket) => {
    socket.on('echo', (data: unknown) => data);
  });
  prepare?.(sb);
  const port = await listen(http);
  // Ready only once a cluster adapter hears the other nodes, or the first messages would be lost.
  await sb.ready();
  const server: BenchServer = { publish: (room, data) => sb.to(room).emit('tick', data), connections: () => sb.connectionCount };
  // Commands of its own (a bench cluster's node answers `paced` too), before the runner hears it is ready.
  more?.(server);
  serve(server, port);
}
