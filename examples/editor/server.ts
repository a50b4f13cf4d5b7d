/**
 * What `npm run start:editor` runs: the collaborative editor on PORT (default 3000).
 * Documents are kept as files under EDITOR_DATA_DIR (default examples/editor/data); with
 * REDIS_URL set, in Redis instead, and several processes (on different PORTs) with the same
 * REDIS_URL (and REDIS_PREFIX, default 'editor') serve the same documents. SIGINT/SIGTERM shut down gracefully, as for the chat.
 */
import { closeOnSignals, shutdownDeadline } from '../shared/graceful-shutdown.js';
import { failedToStart, portFromEnv } from '../shared/start-port.js';
import { startEditorServer } from './editor-server.js';

const port = portFromEnv();

try {
  const deadline = shutdownDeadline();
  const editor = await startEditorServer({ port, dataDir: process.env.EDITOR_DATA_DIR || undefined, redisUrl: process.env.REDIS_URL || undefined, redisPrefix: process.env.REDIS_PREFIX || undefined });
  const where = process.env.REDIS_URL ? `documents in Redis at ${process.env.REDIS_URL}` : `documents in ${process.env.EDITOR_DATA_DIR || 'examples/editor/data'}`;
  console.log(`Switchboard editor: ${editor.url}  (${where}; open it in two tabs)`);
  closeOnSignals({ deadline, close: (ms) => editor.close({ deadline: ms }) });
} catch (err) {
  failedToStart(err, port, 'npm run start:editor');
}
