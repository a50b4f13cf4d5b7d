import type { IncomingHttpHeaders } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';

/** What an Upgrade request got: a WebSocket (status 101), or an HTTP answer with its body. */
export type UpgradeOutcome =
  | { status: 101; ws: WebSocket }
  | { status: number; headers: IncomingHttpHeaders; body: string; ws?: undefined };

/**
 * Send one WebSocket Upgrade request (subprotocol switchboard.v1) and report what came back,
 * reading the body of a refusal that a WebSocket client normally hides. `origin`,
 * `headers` and `localAddress` (another loopback IP, such as 127.0.0.2) go to `ws`.
 */
export function attemptUpgrade(url: string, options: ClientOptions = {}): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'switchboard.v1', options);
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
}

/** Close every WebSocket that opened among `outcomes`. */
export function closeAll(outcomes: readonly UpgradeOutcome[]): void {
  for (const outcome of outcomes) outcome.ws?.terminate();
}
