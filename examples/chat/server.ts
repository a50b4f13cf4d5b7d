/**
 * What `npm start` runs: the chat on PORT (default 3000) — the page at /, the protocol at
 * /ws — with everything in memory. The first SIGINT/SIGTERM shuts down gracefully: no new
 * connections, requests being handled get SHUTDOWN_DEADLINE_MS (default 5000) to reply,
 * every connection is closed with 1001 (the pages reconnect to the next server), exit 0.
 * A second signal exits at once (130 / 143). See examples/shared/graceful-shutdown.ts.
 * With ADMIN_TOKEN set (16 characters at least), the live admin dashboard is at /admin.
 * Prometheus metrics are at /metrics; the server logs through pino, at LOG_LEVEL (default warn:
 * refused connections, slow consumers; `info` adds shutdown and refusals by the app's rules).
 */
import pino from 'pino';
import { adminDashboard } from '../../src/admin/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { closeOnSignals, shutdownDeadline } from '../shared/graceful-shutdown.js';
import { failedToStart, portFromEnv } from '../shared/start-port.js';
import { startChatServer } from './chat-server.js';

const port = portFromEnv();

try {
  const deadline = shutdownDeadline();
  const chat = await startChatServer({ port, logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }) });
  chat.sb.route('/metrics', createMetrics(chat.sb).handler);
  console.log(`Switchboard chat: ${chat.url}  (open it in two tabs; protocol at ws://localhost:${chat.port}/ws)`);
  // Opt-in: never mounted without a token. The token is asked for by the page, not put in a URL.
  const adminToken = process.env.ADMIN_TOKEN;
  if (adminToken) {
    const admin = adminDashboard(chat.sb, { token: adminToken });
    console.log(`Admin dashboard: ${chat.url.replace(/\/$/, '')}${admin.path}  (enter ADMIN_TOKEN there)`);
  }
  closeOnSignals({ deadline, close: (ms) => chat.close({ deadline: ms }) });
} catch (err) {
  failedToStart(err, port, 'npm start');
}
