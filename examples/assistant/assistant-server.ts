import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import { ReplyError, Switchboard } from '../../src/server/index.js';
import { acceptTokenStreamCancels, type TokenStreamPublisher } from '../../src/token-streams/index.js';
import { AnswerWorker } from './answer-worker.js';
import { closeHttp, listen, requestListener, serveSite, type StaticFiles } from '../shared/http-server.js';
import { bundlePages } from '../shared/page-bundle.js';

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
/** The page script: the client SDK and the token-stream reader, served at /assistant.js. */
const PAGE = { assistant: fileURLToPath(new URL('./page/main.ts', import.meta.url)) };
const STATIC_FILES: StaticFiles = {
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
  const scripts = await bundlePages(PAGE);
  const http = createServer(requestListener(serveSite({ publicDir, files: STATIC_FILES, scripts })));
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

  const port = await listen(http, options.port ?? 3000, options.host);
  await sb.ready();

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
        await closeHttp(http);
      })();
      return closing;
    },
  };
}
