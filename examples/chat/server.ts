/**
 * What `npm start` runs: the chat on PORT (default 3000) — the page at /, the protocol at
 * /ws — with everything in memory. SIGINT/SIGTERM close every connection with 1001 (the
 * pages reconnect to the next server) and exit 0.
 */
import { startChatServer } from './chat-server.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(1);
}

try {
  const chat = await startChatServer({ port });
  console.log(`Switchboard chat: ${chat.url}  (open it in two tabs; protocol at ws://localhost:${chat.port}/ws)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: closing connections (1001) and exiting`);
      void chat.close().then(() => process.exit(0));
    });
  }
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') console.error(`Port ${port} is in use. Try another one: PORT=${port + 1} npm start`);
  else console.error(err);
  process.exit(1);
}
