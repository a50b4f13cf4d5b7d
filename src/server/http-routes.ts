import type { IncomingMessage, ServerResponse } from 'node:http';

/** A plain HTTP handler the app mounts on the server's port (`Switchboard.route`); a returned promise (any thenable) that rejects answers 500. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Plain HTTP paths mounted on the server (`/metrics`, the admin page): answered in front of
 * the app's own `request` listeners, as the browser client and the HTTP transports are, so
 * they work on a server Switchboard created from a port as well as on the app's.
 */
export class HttpRoutes {
  private readonly routes = new Map<string, RouteHandler>();

  constructor(private readonly reportError: (err: unknown, context: Record<string, unknown>) => void) {}

  get size(): number {
    return this.routes.size;
  }

  add(path: string, handler: RouteHandler): void {
    if (typeof path !== 'string' || !path.startsWith('/') || path.includes('?')) throw new TypeError(`route paths start with "/" and have no query, got ${JSON.stringify(path)}`);
    if (typeof handler !== 'function') throw new TypeError('route(path, handler): handler must be a function (req, res) => void');
    const key = path.length > 1 ? path.replace(/\/+$/, '') : path;
    if (this.routes.has(key)) throw new TypeError(`route ${key} is already mounted`);
    this.routes.set(key, handler);
  }

  /** Answer `req` if a route takes its path (the path itself or below it); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.routes.size === 0) return false;
    const pathname = (req.url ?? '/').split('?', 1)[0] as string;
    for (const [path, handler] of this.routes) {
      if (pathname !== path && !pathname.startsWith(path === '/' ? '/' : `${path}/`)) continue;
      const failed = (err: unknown): void => {
        this.reportError(err, { phase: 'route', path });
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end();
      };
      try {
        const done = handler(req, res);
        // Any thenable, not only a native Promise: handlers may return another library's promise.
        if (typeof (done as PromiseLike<unknown> | undefined)?.then === 'function') (done as PromiseLike<unknown>).then(undefined, failed);
      } catch (err) {
        failed(err);
      }
      return true;
    }
    return false;
  }
}
