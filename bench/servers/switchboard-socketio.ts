import { serveSwitchboard } from './switchboard-app.js';

/**
 * The Switchboard bench app (switchboard-app.ts) with the Socket.IO front door, driven by
 * the same Engine.IO/Socket.IO load dialect as servers/socketio.ts: the WebSocket
 * transport only and connection state recovery off, as that server has them (Socket.IO's
 * defaults but for the transports). As there, a client joins the bench room by an event
 * with an ack (`42<id>["join","bench"]`, answered `43<id>[]`), and `echo` answers with
 * its data (`socket.on('echo', (data) => data)` of the app: the return value is the ack).
 */
await serveSwitchboard({ socketIo: { transports: ['websocket'], recovery: false } }, undefined, (sb) => {
  sb.on('connection', (socket) => {
    socket.on('join', (room: unknown) => {
      socket.join(String(room));
    });
  });
});
