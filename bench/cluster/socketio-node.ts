import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { httpServer, listen, serve } from '../servers/harness.js';
import { servePaced } from './paced.js';

/**
 * One Socket.IO node of a bench cluster: as ../servers/socketio.ts (WebSocket transport
 * only, defaults otherwise) plus @socket.io/redis-adapter on BENCH_REDIS_URL, its channels
 * under BENCH_PREFIX.
 */
const redisUrl = process.env.BENCH_REDIS_URL;
if (!redisUrl) throw new Error('socketio-node needs BENCH_REDIS_URL');
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const http = httpServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub, { key: process.env.BENCH_PREFIX ?? 'sbbench-sio' }) });
io.on('connection', (socket) => {
  socket.on('join', (room: string, ack?: () => void) => {
    void socket.join(room);
    ack?.();
  });
});
const port = await listen(http);
// Whether the adapter has subscribed yet is checked by the runner: a first message must reach every client.
const server = { publish: (room: string, data: unknown) => io.to(room).emit('tick', data), connections: () => io.engine.clientsCount };
servePaced(server);
serve(server, port);
