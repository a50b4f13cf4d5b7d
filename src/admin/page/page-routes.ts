import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type PageConfig, pageHtml } from './page-html.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

/** One file of the page, made once. */
interface PageFile {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Answers the dashboard's path: the page at `{path}` (and `{path}/`), its script and
 * stylesheet below it, 404 for anything else there. The page holds no data and no secret
 * (those come over the admin namespace, after the token), so it is served to anyone who
 * asks; its headers forbid framing it (the Disconnect button must not be clickjacked)
 * and scripts from anywhere but this server and the client's origin.
 */
export class PageRoutes {
  readonly #files: Map<string, PageFile>;
  readonly #headers: Record<string, string>;
  #closed = false;

  constructor(config: PageConfig) {
    this.#files = new Map([
      [config.base, file(pageHtml(config), 'text/html; charset=utf-8')],
      [`${config.base}/`, file(pageHtml(config), 'text/html; charset=utf-8')],
      [`${config.base}/dashboard.js`, file(PAGE_SCRIPT, 'text/javascript; charset=utf-8')],
      [`${config.base}/dashboard.css`, file(PAGE_STYLE, 'text/css; charset=utf-8')],
    ]);
    const scripts = ["'self'", ...originOf(config.clientUrl)].join(' ');
    this.#headers = {
      'Content-Security-Policy': `default-src 'none'; script-src ${scripts}; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    };
  }

  /** After `close()` the path answers 404, as if never mounted (a route cannot be taken off the server). */
  close(): void {
    this.#closed = true;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const pathname = (req.url ?? '/').split('?', 1)[0] as string;
    const found = this.#closed ? undefined : this.#files.get(pathname);
    if (!found) return text(res, 404, 'Not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'The admin dashboard answers GET and HEAD only.', { Allow: 'GET, HEAD' });
    if (req.headers['if-none-match'] === found.etag) {
      res.writeHead(304, { ...this.#headers, ETag: found.etag });
      res.end();
      return;
    }
    res.writeHead(200, { ...this.#headers, ETag: found.etag, 'Content-Type': found.type, 'Content-Length': found.body.length });
    res.end(req.method === 'HEAD' ? undefined : found.body);
  };
}

function file(content: string, type: string): PageFile {
  const body = Buffer.from(content);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** The origin of an absolute client URL, for the CSP; none for a path on this server. */
function originOf(url: string | null): string[] {
  if (url === null || url.startsWith('/')) return [];
  try {
    return [new URL(url).origin];
  } catch {
    return [];
  }
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${body}\n`);
}
