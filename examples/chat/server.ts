/**
 * What `npm start` runs: the chat on PORT (default 3000) — the page at /, the protocol at
 * /ws — with everything in memory. The first SIGINT/SIGTERM shuts down gracefully: no new
 * connections, requests being handled get SHUTDOWN_DEADLINE_MS (default 5000) to reply,
 * every connection is closed with 1001 (the pages reconnect to the next server), exit 0.
 * A second signal exits at once (130 / 143). See examples/shared/graceful-shutdown.ts.
 */
import { closeOnSignals, shutdownDeadline } from '../shared/graceful-shutdown.js';
import { startChatServer } from './chat-server.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(1);
}

try {
  const deadline = shutdownDeadline();
  const chat = await startChatServer({ port });
  console.log(`Switchboard chat: ${chat.url}  (open it in two tabs; protocol at ws://localhost:${chat.port}/ws)`);
  closeOnSignals({ deadline, close: (ms) => chat.close({ deadline: ms }) });
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') console.error(`Port ${port} is in use. Try another one: PORT=${port + 1} npm start`);
  else console.error(err);
  process.exit(1);
}
