import { Switchboard } from '../../src/server/index.js';
import { httpServer, listen, serve } from './harness.js';

/**
 * Switchboard as in switchboard.ts but with `resume: false`: nothing is kept for a resume,
 * so what session resume costs (frames kept until acknowledged, the acks to read) shows as
 * the difference between the two in one run. Not in the default set: `--servers=` it.
 */
const http = httpServer();
const sb = new Switchboard(http, {
  maxConnectionsPerIp: Infinity,
  handshakeRate: false,
  rateLimit: false,
  maxConnections: Infinity,
  serveClient: false,
  resume: false,
});
sb.on('connection', (socket) => {
  socket.on('echo', (data: unknown) => data);
});
const port = await listen(http);
serve({ publish: (room, data) => sb.to(room).emit('tick', data), connections: () => sb.connectionCount }, port);
