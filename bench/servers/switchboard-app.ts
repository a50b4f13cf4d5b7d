import { Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import { httpServer, listen, serve } from './harness.js';

/**
 * Switchboard from src/, as `node --import tsx` runs it. The safe defaults that would
 * refuse a load generator on one IP are off (per-IP connections 100, handshakes 20/s,
 * frames 100/s per connection, 50,000 connections); everything else is as shipped unless
 * `options` says otherwise: session resume on, heartbeats, no compression.
 */
export async function serveSwitchboard(options: SwitchboardOptions = {}): Promise<void> {
  const http = httpServer();
  const sb = new Switchboard(http, {
    maxConnectionsPerIp: Infinity,
    handshakeRate: false,
    rateLimit: false,
    maxConnections: Infinity,
    serveClient: false,
    ...options,
  });
  sb.on('connection', (socket) => {
    socket.on('echo', (data: unknown) => data);
  });
  const port = await listen(http);
  serve({ publish: (room, data) => sb.to(room).emit('tick', data), connections: () => sb.connectionCount }, port);
}
