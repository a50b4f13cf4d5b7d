import { createServer, type RequestListener, type Server as HttpServer, type ServerOptions as HttpServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * Time limits of an HTTP server Switchboard creates, against slow clients (slowloris)
 * that open many connections and send their request headers a byte at a time: Node's
 * defaults (60 s for headers, checked every 30 s) let one hold a socket for a minute
 * and a half. An upgraded WebSocket is past these; its `hello` is timed by handshakeTimeout.
 */
const HTTP_TIMEOUTS: HttpServerOptions = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 };
/** Milliseconds a TLS client has to finish the TLS handshake (Node's default is 120 s). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The HTTP (or, with `tls`, HTTPS) server Switchboard creates when it is given a port
 * instead of the app's server, listening at once; `listening` rejects when `listen` fails.
 */
export function createOwnServer(
  port: number,
  tls: (SecureContextOptions & TlsOptions) | undefined,
  answer: RequestListener,
): { server: HttpServer; listening: Promise<void> } {
  const server = tls ? createHttpsServer({ handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS, ...HTTP_TIMEOUTS, ...tls }, answer) : createServer(HTTP_TIMEOUTS, answer);
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, listening };
}
