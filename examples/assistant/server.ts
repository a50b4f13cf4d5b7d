/**
 * What `npm run start:assistant` runs: the assistant on PORT (default 3000). In memory by
 * default; with REDIS_URL set, several processes (on different PORTs) with the same REDIS_URL
 * (and REDIS_PREFIX, default 'assistant') serve the same conversations, and the answers are
 * published through a redis Emitter. SIGINT/SIGTERM shut down gracefully, as for the chat.
 */
import { closeOnSignals, shutdownDeadline } from '../shared/graceful-shutdown.js';
import { failedToStart, portFromEnv } from '../shared/start-port.js';
import { startAssistantServer } from './assistant-server.js';

const port = portFromEnv();

try {
  const deadline = shutdownDeadline();
  const assistant = await startAssistantServer({ port, redisUrl: process.env.REDIS_URL || undefined, redisPrefix: process.env.REDIS_PREFIX || undefined });
  const where = process.env.REDIS_URL ? `conversations in Redis at ${process.env.REDIS_URL}` : 'conversations in memory';
  console.log(`Switchboard assistant: ${assistant.url}  (${where}; ask something, then reload mid-answer)`);
  closeOnSignals({ deadline, close: (ms) => assistant.close({ deadline: ms }) });
} catch (err) {
  failedToStart(err, port, 'npm run start:assistant');
}
