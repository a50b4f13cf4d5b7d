import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Pages may only run scripts and styles from this origin: even if user text ever reached
 * the DOM as markup, an inline `onerror=` would not run.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * A request handler for the files under `root` (GET and HEAD; `/` means index.html).
 * Paths that leave `root` — `..`, encoded slashes, symlinks pointing out — and dotfiles
 * are answered 404, as are unknown files.
 */
export function serveStatic(root: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const base = resolve(root);
  let realBase: string | undefined;
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      answer(res, 400, 'Bad request\n');
      return;
    }
    realBase ??= await realpath(base);
    const file = await fileUnder(base, realBase, pathname);
    if (!file) {
      answer(res, 404, 'Not found\n');
      return;
    }
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
    } catch {
      answer(res, 404, 'Not found\n');
      return;
    }
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const headers: Record<string, string | number> = {
      'Content-Type': type,
      'Content-Length': size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    };
    if (type.startsWith('text/html')) headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
}

/** The file a URL path names inside `base`, or undefined when it would leave it or names a dotfile. */
async function fileUnder(base: string, realBase: string, pathname: string): Promise<string | undefined> {
  if (pathname.includes('\0') || pathname.includes('\\')) return undefined;
  const relative = pathname.endsWith('/') ? `${pathname}index.html` : pathname;
  if (relative.split('/').some((segment) => segment.startsWith('.'))) return undefined;
  const file = resolve(base, `.${relative}`);
  if (!file.startsWith(base + sep)) return undefined;
  try {
    const real = await realpath(file);
    return real.startsWith(realBase + sep) ? real : undefined;
  } catch {
    return undefined;
  }
}

function answer(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(body);
}
