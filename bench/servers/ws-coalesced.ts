import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Coalescer, serverFrame } from './coalescer.js';
import { httpServer, listen, serve } from './harness.js';
import { isJoin, joinReply, RoomSets } from './ws-rooms.js';

/**
 * `ws` for the handshake and parsing, hand-tuned for sending: each message is framed
 * once, and the frames bound for one socket within an event-loop turn leave in one
 * write (see Coalescer). The limit of this technique on this machine, which Switchboard
 * is measured against. Echoes requests back (coalesced too).
 */
const http = httpServer();
const wss = new WebSocketServer({ server: http, path: '/ws' });
const rooms = new RoomSets<Socket>();
const out = new Coalescer();
// ws keeps the net.Socket private; with compression off its own sends are synchronous
// writes to the same socket, so mixing them with ours keeps the order.
const rawSocket = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

wss.on('connection', (ws) => {
  const raw = rawSocket(ws);
  ws.on('message', (data: Buffer, isBinary) => {
    if (isJoin(data)) {
      const { ref, room } = JSON.parse(data.toString()) as { ref: number; room: string };
      rooms.join(room, raw);
      out.add(raw, serverFrame(joinReply(ref, room)));
      return;
    }
    out.add(raw, serverFrame(data, isBinary ? 0x2 : 0x1));
  });
  ws.on('close', () => rooms.leaveAll(raw));
});

const port = await listen(http);
serve(
  {
    publish(room, data) {
      const frame = serverFrame(JSON.stringify({ type: 'event', event: 'tick', room, data }));
      for (const socket of rooms.members(room)) out.add(socket, frame);
    },
    connections: () => wss.clients.size,
  },
  port,
);
