import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpApi, type HttpApiOptions } from '../../src/http-api/index.js';
import { Switchboard, type SwitchboardOptions } from '../../src/server/index.js';

/** A Switchboard on an app's HTTP server with the HTTP API mounted on it, as docs/API.md shows. */
export interface ApiNode {
  sb: Switchboard;
  api: HttpApi;
  server: Server;
  /** WebSocket endpoint. */
  url: string;
  /** Where the API's routes live: `http://127.0.0.1:PORT/api/switchboard`. */
  base: string;
  close(): Promise<void>;
}

export async function startApiNode(apiOptions: HttpApiOptions, sbOptions: SwitchboardOptions = {}): Promise<ApiNode> {
  const server = createServer();
  const sb = new Switchboard(server, sbOptions);
  const api = new HttpApi(sb, apiOptions);
  server.on('request', (req, res) => {
    if (api.handle(req, res)) return;
    res.writeHead(404).end('the app');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await sb.ready();
  const { port } = server.address() as AddressInfo;
  return {
    sb,
    api,
    server,
    url: `ws://127.0.0.1:${port}/ws`,
    base: `http://127.0.0.1:${port}${api.path}`,
    async close() {
      await sb.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

/** One request to the API: a JSON body (or raw text) for POST, a query in `route` for GET. */
export async function callApi(
  base: string,
  route: string,
  init: { method?: string; token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const hasBody = init.body !== undefined || init.raw !== undefined;
  if (hasBody && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + route, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers,
    ...(hasBody && { body: init.raw ?? JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
