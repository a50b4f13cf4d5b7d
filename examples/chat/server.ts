/**
 * What `npm start` runs: the chat on PORT (default 3000) — the page at /, the protocol at
 * /ws — with everything in memory. The first SIGINT/SIGTERM shuts down gracefully: no new
 * connections, requests being handled get SHUTDOWN_DEADLINE_MS (default 5000) to reply,
 * every connection is closed with 1001 (the pages reconnect to the next server), exit 0.
 * A second signal exits at once (130 / 143). See examples/shared/graceful-shutdown.ts.
 */
import { closeOnSignals, shutdownDeadline } from '../shared/graceful-shutdown.js';
import { failedToStart, portFromEnv } from '../shared/start-port.js';
import { startChatServer } from './chat-server.js';

const port = portFromEnv();

try {
  const deadline = shutdownDeadline();
  const chat = await startChatServer({ port });
  console.log(`Switchboard chat: ${chat.url}  (open it in two tabs; protocol at ws://localhost:${chat.port}/ws)`);
  closeOnSignals({ deadline, close: (ms) => chat.close({ deadline: ms }) });
} catch (err) {
  failedToStart(err, port, 'npm start');
}
