import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedOptions } from './options.js';

/**
 * What a server Switchboard created answers on a plain HTTP request nothing else took
 * (the browser client, the HTTP transports): on the endpoint's path, where to connect
 * and how; elsewhere, 404.
 */
export function answerUnclaimed(req: IncomingMessage, res: ServerResponse, options: ResolvedOptions): void {
  const pathname = (req.url ?? '/').split('?', 1)[0];
  if (pathname === options.path) {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    // The second line says how the request arrived, so a proxy's mistake can be told apart (switchboard doctor reads it).
    res.end(
      `This is a WebSocket endpoint (subprotocol switchboard.v1): connect with ${options.tls || (req.socket as { encrypted?: boolean }).encrypted ? 'wss' : 'ws'}://host${options.path}, or over HTTP at ${options.path}/poll and ${options.path}/sse (docs/PROTOCOL.md, "HTTP transports")\n` +
        `This request arrived as HTTP/${req.httpVersion} ${req.headers.upgrade ? `with Upgrade: ${req.headers.upgrade.slice(0, 40)} but Connection: ${(req.headers.connection ?? 'none').slice(0, 40)}` : 'with no Upgrade header'}.\n`,
    );
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not found\n');
}
