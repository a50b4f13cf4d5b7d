import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import { Switchboard } from '../../src/server/index.js';
import { DocumentHost, type DocumentStore, FileDocumentStore } from '../../src/yjs/index.js';
import { RedisDocumentStore } from '../../src/yjs/redis-store.js';
import { bundlePage } from './page-bundle.js';

export interface EditorServerOptions {
  /** Port to listen on; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default: all of them. */
  host?: string;
  /** Where documents are kept without Redis. Default examples/editor/data. */
  dataDir?: string;
  /**
   * A Redis URL: the server joins the cluster of every editor server on that Redis (the
   * Redis adapter) and keeps documents there (RedisDocumentStore), so that pages on several
   * processes edit one document. Without it, one process and files under `dataDir`.
   */
  redisUrl?: string;
  /** Prefix of the Redis keys and channels. Default 'editor'. */
  redisPrefix?: string;
}

export interface EditorServer {
  readonly http: HttpServer;
  readonly sb: Switchboard;
  readonly documents: DocumentHost;
  readonly port: number;
  /** Where to open the editor, e.g. http://localhost:3000/ */
  readonly url: string;
  /** Close every connection (1001, so pages reconnect), flush the documents, stop listening. */
  close(options?: { deadline?: number }): Promise<void>;
}

/** Rooms `doc:<name>` are documents; the page opens `doc:` + its URL's #fragment. */
export const DOCUMENTS = /^doc:[^\s]{1,100}$/;

export const DEFAULT_DATA_DIR = fileURLToPath(new URL('./data/', import.meta.url));
const publicDir = new URL('./public/', import.meta.url);

/**
 * The page's styles need inline `style` attributes: y-codemirror.next colours each remote
 * caret with one. Scripts stay same-origin only.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STATIC_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/**
 * Start the editor: the page, its bundled script and Switchboard on one HTTP server, with a
 * DocumentHost keeping the documents. Resolves once the server listens.
 */
export async function startEditorServer(options: EditorServerOptions = {}): Promise<EditorServer> {
  const page = await bundlePage();
  const http = createServer((req, res) => {
    serve(req, res, page).catch(() => {
      if (!res.headersSent) answer(res, 500, 'text/plain; charset=utf-8', 'Internal error\n');
      else res.destroy();
    });
  });
  const prefix = options.redisPrefix ?? 'editor';
  const sb = new Switchboard(http, options.redisUrl ? { adapter: new RedisAdapter(options.redisUrl, { prefix }) } : {});
  const store: DocumentStore = options.redisUrl
    ? new RedisDocumentStore(options.redisUrl, { prefix })
    : new FileDocumentStore(options.dataDir ?? DEFAULT_DATA_DIR);
  const documents = new DocumentHost(sb, { documents: DOCUMENTS, store });

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
    documents,
    port,
    url: `http://localhost:${port}/`,
    close({ deadline = 2000 } = {}) {
      closing ??= (async () => {
        await sb.close({ deadline });
        await documents.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, page: { script: Uint8Array; sourceMap: Uint8Array }): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { Allow: 'GET, HEAD' });
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/editor.js') return answer(res, 200, 'text/javascript; charset=utf-8', page.script, {}, req);
  if (path === '/editor.js.map') return answer(res, 200, 'application/json; charset=utf-8', page.sourceMap, {}, req);
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
