import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';
import { httpServer, listen, serve } from '../servers/harness.js';

/**
 * y-websocket's server as its bin/server.js runs it: `setupWSConnection` from
 * y-websocket/bin/utils for every connection, the document named by the URL path, kept in
 * memory (no YPERSISTENCE). One difference: the `ws` package is the one every server in
 * this bench uses (8.x), where bin/server.js requires the ws@6 y-websocket 1.5 depends on.
 */
const require = createRequire(import.meta.url);
const { setupWSConnection } = require('y-websocket/bin/utils') as {
  setupWSConnection: (conn: unknown, req: unknown, options?: { docName?: string; gc?: boolean }) => void;
};

const http = httpServer();
const wss = new WebSocketServer({ server: http });
wss.on('connection', (conn, req) => setupWSConnection(conn, req));

const port = await listen(http);
serve(
  {
    publish() {
      throw new Error('y-websocket publishes nothing of its own here');
    },
    connections: () => wss.clients.size,
  },
  port,
);
