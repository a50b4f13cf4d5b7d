import { HttpApi } from '../../src/http-api/index.js';
import { serveSwitchboard } from '../servers/switchboard-app.js';

/**
 * The server of the HTTP API bench: the bench's Switchboard (../servers/switchboard-app.ts:
 * the per-IP limits that would refuse one load generator are off, everything else as
 * shipped) with the publish HTTP API mounted on its HTTP server, an API key from
 * BENCH_HTTP_API_KEY, and the room `durable` made durable (in-memory stream store).
 */
const key = process.env.BENCH_HTTP_API_KEY;
if (!key) throw new Error('BENCH_HTTP_API_KEY is not set');
await serveSwitchboard({}, undefined, (sb) => {
  sb.durable('durable');
  const api = new HttpApi(sb, { keys: [key] });
  // The bench server answers 404 to every plain request: the API goes in front of it.
  const http = sb.httpServer;
  const others = http.listeners('request') as ((...args: unknown[]) => void)[];
  http.removeAllListeners('request');
  http.on('request', (req, res) => {
    if (api.handle(req, res)) return;
    for (const listener of others) listener.call(http, req, res);
  });
});
