import { Server } from 'socket.io';
import { servePaced } from '../cluster/paced.js';
import { httpServer, listen, serve } from '../servers/harness.js';
import { flapHeartbeat } from './heartbeat.js';

/**
 * Socket.IO 4.8 for the flap benchmark: WebSocket transport only, the benchmark's heartbeat,
 * and with FLAP_RECOVERY=1 connection state recovery for as long as Switchboard's resume
 * TTL (120 s). Clients (re)join the room with `join`, acknowledged.
 */
const recovery = process.env.FLAP_RECOVERY === '1';
const { interval, timeout } = flapHeartbeat();
const http = httpServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  pingInterval: interval,
  pingTimeout: timeout,
  ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true } } : {}),
});
io.on('connection', (socket) => {
  socket.on('join', (room: string, ack?: () => void) => {
    void socket.join(room);
    ack?.();
  });
});
const port = await listen(http);
const server = { publish: (room: string, data: unknown) => io.to(room).emit('tick', data), connections: () => io.engine.clientsCount };
servePaced(server);
serve(server, port);
