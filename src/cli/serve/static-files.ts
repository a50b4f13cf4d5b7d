/**
 * The static folder of `switchboard serve`: files under one root, GET and HEAD only, with
 * their content type, `index.html` for a folder, and nothing outside the root — no `..`,
 * no encoded separators, no dotfiles (`.env`, `.git`), no symlink pointing out.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.pdf': 'application/pdf',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.webmanifest': 'application/manifest+json',
};

/** What a file without a known extension is served as: the browser must not guess (nosniff). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

/** The request path's segments, or undefined for a path that tries to leave the root or hide something. */
export function safeSegments(pathname: string): string[] | undefined {
  const segments: string[] = [];
  for (const raw of pathname.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '') continue;
    // `..`, a separator smuggled in encoded (`%2F`, `%5C`), a NUL, or a dotfile.
    if (segment.startsWith('.') || /[/\\\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments;
}

/** A request handler serving the files of the folder `root` (404 for anything else). */
export function staticFolder(root: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const realRoot = realpath(root);
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    const pathname = (req.url ?? '/').split('?', 1)[0] as string;
    const segments = safeSegments(pathname);
    if (segments === undefined) return plain(res, 400, 'bad path');
    const base = await realRoot;
    let file = join(base, ...segments);
    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) {
      // A folder's relative links need the trailing slash: /docs → /docs/. Rebuilt from the
      // segments, so `//evil.example` cannot become a redirect to another site.
      if (!pathname.endsWith('/')) return plain(res, 301, 'moved', { Location: `/${segments.map(encodeURIComponent).join('/')}/` });
      file = join(file, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    if (!info?.isFile()) return plain(res, 404, 'not found');
    const real = await realpath(file).catch(() => undefined);
    if (real === undefined || !real.startsWith(base + sep)) return plain(res, 404, 'not found');
    res.writeHead(200, {
      'Content-Type': contentTypeOf(real),
      'Content-Length': info.size,
      'Last-Modified': info.mtime.toUTCString(),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // pipeline, not pipe: a client that goes away mid-body must close the file too. With
    // pipe the read stream stays open, paused, and each aborted download of a large file
    // keeps a descriptor until the process runs out of them (EMFILE). A read error
    // destroys the response, which the client sees as a short body.
    pipeline(createReadStream(real), res, () => {});
  };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(`${status} ${text}\n`);
}
