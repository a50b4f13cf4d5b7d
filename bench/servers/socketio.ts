import { Server } from 'socket.io';
import { httpServer, listen, serve } from './harness.js';

/** Socket.IO 4.8 with the WebSocket transport only (no long-polling upgrade), defaults otherwise. */
const http = httpServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
io.on('connection', (socket) => {
  socket.on('join', (room: string, ack?: () => void) => {
    void socket.join(room);
    ack?.();
  });
  socket.on('echo', (data: unknown, ack?: (d: unknown) => void) => ack?.(data));
});
const port = await listen(http);
serve({ publish: (room, data) => io.to(room).emit('tick', data), connections: () => io.engine.clientsCount }, port);
