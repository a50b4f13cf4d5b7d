/**
 * The demo `npm run start:demo` runs: one HTTP server on PORT (default 3000) serving a small page
 * at / and the Switchboard protocol at /ws, everything in memory. The page speaks the
 * protocol with a bare `new WebSocket()` — no SDK — to show how little a client needs.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReplyError, Switchboard } from '../../src/server/index.js';
import { closeOnSignals } from '../shared/graceful-shutdown.js';

interface ClientEvents {
  say(data: { text: string }): { at: number };
}
interface ServerEvents {
  said(data: { from: string; text: string; at: number }): void;
}

const page = readFileSync(new URL('./index.html', import.meta.url));
const port = Number(process.env.PORT ?? 3000);

const http = createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not found\n');
});

const sb = new Switchboard<ClientEvents, ServerEvents>(http);

sb.on('connection', (socket) => {
  socket.on('say', (msg) => {
    // The event map types the data, but the client is untrusted: check what arrived.
    const text: unknown = msg?.text;
    if (typeof text !== 'string' || text.trim() === '') throw new ReplyError('bad_request', 'text must be a non-empty string');
    if (text.length > 1000) throw new ReplyError('bad_request', 'text is limited to 1000 characters');
    const at = Date.now();
    sb.to('lobby').emit('said', { from: socket.id.slice(0, 6), text, at });
    return { at };
  });
});

http.listen(port, () => {
  const { port: actual } = http.address() as AddressInfo;
  console.log(`Switchboard demo: http://localhost:${actual}  (protocol at ws://localhost:${actual}/ws)`);
});

// First signal: refuse new connections and requests, let replies in flight finish (up to
// SHUTDOWN_DEADLINE_MS, default 5000), close every connection with 1001, close the HTTP
// server, exit 0. A second signal exits at once. See examples/shared/graceful-shutdown.ts.
closeOnSignals({
  async close(deadline) {
    await sb.close({ deadline });
    // Switchboard leaves an HTTP server it did not create running: close it, and its idle keep-alive sockets.
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  },
});
