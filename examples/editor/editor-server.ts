import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import { Switchboard } from '../../src/server/index.js';
import { DocumentHost, type DocumentStore, FileDocumentStore } from '../../src/yjs/index.js';
import { RedisDocumentStore } from '../../src/yjs/redis-store.js';
import { closeHttp, listen, requestListener, serveSite, type StaticFiles } from '../shared/http-server.js';
import { bundlePages } from '../shared/page-bundle.js';

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
/** The page script: CodeMirror, yjs, the client SDK and the document provider, served at /editor.js. */
const PAGE = { editor: fileURLToPath(new URL('./page/main.ts', import.meta.url)) };

/**
 * The page's styles need inline `style` attributes: y-codemirror.next colours each remote
 * caret with one. Scripts stay same-origin only.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STATIC_FILES: StaticFiles = {
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
  const scripts = await bundlePages(PAGE);
  const http = createServer(requestListener(serveSite({ publicDir, files: STATIC_FILES, scripts, contentSecurityPolicy: CONTENT_SECURITY_POLICY })));
  const prefix = options.redisPrefix ?? 'editor';
  const sb = new Switchboard(http, options.redisUrl ? { adapter: new RedisAdapter(options.redisUrl, { prefix }) } : {});
  const store: DocumentStore = options.redisUrl
    ? new RedisDocumentStore(options.redisUrl, { prefix })
    : new FileDocumentStore(options.dataDir ?? DEFAULT_DATA_DIR);
  const documents = new DocumentHost(sb, { documents: DOCUMENTS, store });

  const port = await listen(http, options.port ?? 3000, options.host);
  await sb.ready();

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
        await closeHttp(http);
      })();
      return closing;
    },
  };
}
