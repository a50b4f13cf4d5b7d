import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import { ReplyError, Switchboard } from '../../src/server/index.js';
import { acceptTokenStreamCancels, type TokenStreamPublisher } from '../../src/token-streams/index.js';
import { AnswerWorker } from './answer-worker.js';
import { type PageBundle, bundlePage } from './page-bundle.js';

export interface AssistantServerOptions {
  /** Port to listen on; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default: all of them. */
  host?: string;
  /**
   * A Redis URL: the server joins the cluster of every assistant server on that Redis, and
   * the worker publishes through a redis `Emitter`, as a worker process with no clients
   * would. Without it, one process and the worker publishes through the Switchboard.
   */
  redisUrl?: string;
  /** Prefix of the Redis keys and channels. Default 'assistant'. */
  redisPrefix?: string;
  /** Multiplies the generator's pauses (50 to 100 ms). Default 1. */
  pace?: number;
}

export interface AssistantServer {
  readonly http: HttpServer;
  readonly sb: Switchboard;
  readonly worker: AnswerWorker;
  readonly port: number;
  /** Where to open the page, e.g. http://localhost:3000/ */
  readonly url: string;
  /** Fail the answers still streaming, close every connection (1001, so pages reconnect), stop listening. */
  close(options?: { deadline?: number }): Promise<void>;
}

/** Rooms `chat:<conversation>` are conversations; the page opens `chat:` + its URL's #fragment (default `welcome`). */
export const CONVERSATIONS = /^chat:[A-Za-z0-9_-]{1,64}$/;
/** Longest question, in characters. */
export const MAX_QUESTION_LENGTH = 500;

/** Each conversation keeps its last 5000 publications for 10 minutes: answers of a few hundred chunks, and a page away for a while. */
const HISTORY = { maxMessages: 5000, maxAge: 10 * 60_000 };

const publicDir = new URL('./public/', import.meta.url);
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const STATIC_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
};

/**
 * Start the assistant: the page, its bundled script and Switchboard on one HTTP server; a
 * client `ask`s a question in a conversation and the worker streams the answer to the
 * conversation's durable room. Resolves once the server listens.
 */
export async function startAssistantServer(options: AssistantServerOptions = {}): Promise<AssistantServer> {
  const page = await bundlePage();
  const http = createServer((req, res) => {
    serve(req, res, page).catch(() => {
      if (!res.headersSent) answer(res, 500, 'text/plain; charset=utf-8', 'Internal error\n');
      else res.destroy();
    });
  });
  const prefix = options.redisPrefix ?? 'assistant';
  const sb = new Switchboard(http, options.redisUrl ? { adapter: new RedisAdapter(options.redisUrl, { prefix }) } : {});
  sb.durable(CONVERSATIONS, HISTORY);
  sb.of('/').authorizeJoin((_socket, room) => CONVERSATIONS.test(room));
  // Stop buttons: a page in a conversation may stop its answers (on whichever node streams them).
  acceptTokenStreamCancels(sb);
  const emitter = options.redisUrl ? new Emitter(options.redisUrl, { prefix }).durable(CONVERSATIONS, HISTORY) : undefined;
  const publisher: TokenStreamPublisher = emitter ?? sb;
  const worker = new AnswerWorker(publisher, { pace: options.pace });

  sb.on('connection', (socket) => {
    socket.on('ask', async (data: unknown) => {
      const { conversation, text } = (data ?? {}) as { conversation?: unknown; text?: unknown };
      const room = `chat:${String(conversation)}`;
      if (typeof conversation !== 'string' || !CONVERSATIONS.test(room)) throw new ReplyError('bad_request', 'conversation: letters, digits, - and _, 1 to 64');
      if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_QUESTION_LENGTH) throw new ReplyError('bad_request', `text: 1 to ${MAX_QUESTION_LENGTH} characters`);
      return worker.ask(room, text.trim());
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 3000, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  await sb.ready();
  const port = (http.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    http,
    sb,
    worker,
    port,
    url: `http://localhost:${port}/`,
    close({ deadline = 2000 } = {}) {
      closing ??= (async () => {
        await worker.close();
        await sb.close({ deadline });
        await emitter?.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, page: PageBundle): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { Allow: 'GET, HEAD' });
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/assistant.js') return answer(res, 200, 'text/javascript; charset=utf-8', page.script, {}, req);
  if (path === '/assistant.js.map') return answer(res, 200, 'application/json; charset=utf-8', page.sourceMap, {}, req);
  const known = STATIC_FILES[path];
  if (!known) return answer(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  const body = await readFile(new URL(known.file, publicDir));
  const extra: Record<string, string> = known.type.startsWith('text/html') ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } : {};
  answer(res, 200, known.type, body, extra, req);
}

function answer(res: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}, req?: IncomingMessage): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(req?.method === 'HEAD' ? undefined : body);
}
