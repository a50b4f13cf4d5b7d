import type { Server as HttpServer } from 'node:http';

/** Milliseconds `ready()` waits for an attached server that does not listen yet before it says why it waits. */
export const LISTEN_WAIT_MS = 10_000;

/**
 * Throw a TypeError unless `server` is something Switchboard can attach to: an http(s)
 * Server (or a port). An Express or Connect app is a request handler with a `listen`
 * method, not a server: accepted, it would leave every WebSocket upgrade unanswered.
 */
export function checkServerArgument(server: unknown): void {
  if (server === undefined || typeof server === 'number') return;
  const candidate = server as Partial<HttpServer> | null;
  const isServer = typeof candidate === 'object' && candidate !== null && typeof candidate.on === 'function' && typeof candidate.listen === 'function' && typeof candidate.address === 'function';
  if (isServer) return;
  const remedy = 'pass the http.Server: `const server = app.listen(port)` or `const server = http.createServer(app)`, then `new Switchboard(server)`';
  if (typeof server === 'function' && typeof (server as { listen?: unknown }).listen === 'function') {
    throw new TypeError(`new Switchboard(app): this looks like an Express or Connect app (a request handler), not an HTTP server; ${remedy}`);
  }
  throw new TypeError(`new Switchboard(server): server must be an http.Server or https.Server, a port number, or undefined; got ${describe(server)}. With a framework, ${remedy}`);
}

/**
 * Resolves when `server` listens. One that does not within `waitMs` of the call (the app
 * awaits `ready()` before calling `listen()`, so `listen()` never comes) rejects with
 * what to do, instead of hanging; so does a `listen()` that fails.
 */
export function whenListening(server: HttpServer, waitMs = LISTEN_WAIT_MS): Promise<void> {
  if (server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      server.off('listening', listening);
      server.off('error', failed);
    };
    const listening = (): void => {
      done();
      resolve();
    };
    const failed = (err: Error): void => {
      done();
      reject(err);
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new Error(
          `Switchboard.ready(): the HTTP server is not listening ${waitMs / 1000} s after ready() was called. Call server.listen(port) before awaiting ready(): new Switchboard(server); server.listen(port); await sb.ready()`,
        ),
      );
    }, waitMs);
    server.once('listening', listening);
    server.once('error', failed);
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no constructor'})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
