import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type Logger, Switchboard } from '../../src/server/index.js';
import { closeHttp, listen } from '../shared/http-server.js';
import { type ChatSwitchboard, installChat } from './chat-handlers.js';
import { RoomDirectory } from './chat-rooms.js';
import { serveStatic } from './static-files.js';

export interface ChatServerOptions {
  /** Port to listen on; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default: all of them, so a phone on the same network can join. */
  host?: string;
  /** Rooms the server keeps at most (default 100). */
  maxRooms?: number;
  /** Where the server logs refusals, slow consumers and shutdown (server.ts passes pino). Default: quiet. */
  logger?: Logger;
}

export interface ChatServer {
  readonly http: HttpServer;
  readonly sb: ChatSwitchboard;
  readonly rooms: RoomDirectory;
  readonly port: number;
  /** Where to open the chat, e.g. http://localhost:3000/ */
  readonly url: string;
  /**
   * Close every connection (1001, so pages reconnect) and stop listening. Requests being
   * handled get up to `deadline` ms (default 2000) to reply first.
   */
  close(options?: { deadline?: number }): Promise<void>;
}

const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Start the chat: the page and Switchboard on one HTTP server. Switchboard answers the
 * WebSocket upgrades on /ws, serves its browser client at /switchboard/client.js, and
 * answers Socket.IO clients under /socket.io/ (with connection state recovery); every
 * other request reaches the static files. Resolves once the server listens.
 */
export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const files = serveStatic(publicDir);
  const http = createServer((req, res) => void files(req, res));
  // The Socket.IO front door too: an unchanged socket.io-client (socketio-client.mjs) joins the same rooms.
  const sb: ChatSwitchboard = new Switchboard(http, { socketIo: { recovery: true }, logger: options.logger });
  const rooms = installChat(sb, new RoomDirectory(options.maxRooms));

  const port = await listen(http, options.port ?? 3000, options.host);

  let closing: Promise<void> | undefined;
  return {
    http,
    sb,
    rooms,
    port,
    url: `http://localhost:${port}/`,
    close({ deadline = 2000 } = {}) {
      closing ??= (async () => {
        await sb.close({ deadline });
        await closeHttp(http);
      })();
      return closing;
    },
  };
}
