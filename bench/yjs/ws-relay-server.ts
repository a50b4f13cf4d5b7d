import { WebSocketServer } from 'ws';
import { httpServer, listen, serve } from '../servers/harness.js';

/**
 * The native ceiling: plain `ws` that sends each binary message (a Yjs update) to every
 * other connection, as most hand-written relays do (`ws.send` per peer). It keeps no
 * document, checks nothing and cannot bring a late joiner up to date: the least a server
 * can do for collaborative editing.
 */
const http = httpServer();
const wss = new WebSocketServer({ server: http });

wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer, isBinary) => {
    for (const peer of wss.clients) if (peer !== ws) peer.send(data, { binary: isBinary });
  });
});

const port = await listen(http);
serve(
  {
    publish() {
      throw new Error('the relay publishes nothing of its own');
    },
    connections: () => wss.clients.size,
  },
  port,
);
