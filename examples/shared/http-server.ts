/**
 * The HTTP side the example servers share: their static pages (a fixed table of files, no
 * directory walking), bundled page scripts, and listening and closing. Switchboard answers its
 * own paths (/ws..., /switchboard/client.js) before any of this runs.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PageScripts } from './page-bundle.js';

/** Pages may only load scripts, styles and connections from this origin. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** URL path → a file under the public directory and its Content-Type. */
export type StaticFiles = Readonly<Record<string, { file: string; type: string }>>;

export interface StaticSite {
  /** The directory the `files` are in. */
  publicDir: URL;
  files: StaticFiles;
  /** Bundled page scripts, served at their paths. Default none. */
  scripts?: PageScripts;
  /** Sent with every HTML file. Default CONTENT_SECURITY_POLICY. */
  contentSecurityPolicy?: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;

/** A handler for the site's files and scripts (GET and HEAD); any other path is answered 404. */
export function serveSite(site: StaticSite): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const csp = site.contentSecurityPolicy ?? CONTENT_SECURITY_POLICY;
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { Allow: 'GET, HEAD' });
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const script = site.scripts?.get(path);
    if (script) return answer(res, 200, path.endsWith('.map') ? 'application/json; charset=utf-8' : 'text/javascript; charset=utf-8', script, {}, req);
    const known = site.files[path];
    if (!known) return answer(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
    const body = await readFile(new URL(known.file, site.publicDir));
    answer(res, 200, known.type, body, known.type.startsWith('text/html') ? { 'Content-Security-Policy': csp } : {}, req);
  };
}

/** A request listener running `handle`; when it fails, a 500, or a dropped connection once the answer has begun. */
export function requestListener(handle: Handler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) answer(res, 500, 'text/plain; charset=utf-8', 'Internal error\n');
      else res.destroy();
    });
  };
}

/** Answer with `body` (no body for HEAD `req`), uncached and never sniffed; `extra` headers win. */
export function answer(res: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}, req?: IncomingMessage): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(req?.method === 'HEAD' ? undefined : body);
}

/** Listen on `port` (0: a free one) and `host` (default: every interface); resolves with the port, rejects when listening fails (EADDRINUSE). */
export async function listen(http: HttpServer, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return (http.address() as AddressInfo).port;
}

/** Stop listening and drop the connections left (keep-alive ones would hold `close` open); call after the Switchboard closed its own. */
export function closeHttp(http: HttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
}
