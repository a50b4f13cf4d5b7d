import { WebSocketServer, type WebSocket } from 'ws';
import { httpServer, listen, serve } from './harness.js';
import { isJoin, joinReply, RoomSets } from './ws-rooms.js';

/**
 * Plain `ws` as most code uses it: a message is serialized once, then `ws.send` per
 * member (each send frames it again and writes it at once). Requests are echoed back
 * unchanged: the raw `ws` echo that request/ack round-trips are compared with.
 */
const http = httpServer();
const wss = new WebSocketServer({ server: http, path: '/ws' });
const rooms = new RoomSets<WebSocket>();

wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer, isBinary) => {
    if (isJoin(data)) {
      const { ref, room } = JSON.parse(data.toString()) as { ref: number; room: string };
      rooms.join(room, ws);
      ws.send(joinReply(ref, room));
      return;
    }
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', () => rooms.leaveAll(ws));
});

const port = await listen(http);
serve(
  {
    publish(room, data) {
      const msg = JSON.stringify({ type: 'event', event: 'tick', room, data });
      for (const client of rooms.members(room)) client.send(msg);
    },
    connections: () => wss.clients.size,
  },
  port,
);
