/**
 * A real http server with an EngineServer whose host is small and fake but built on the
 * real Admission: an origin rule (only http://good.example), a client address from the
 * socket, and connections that echo every message back. What the connections and the
 * host heard is kept for the tests to read.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterAdapter } from '../../src/cluster/adapter.js';
import type { EngineCloseReason, EngineConnection, EngineHost, EngineSettings } from '../../src/compat/socketio/engine-ports.js';
import { EngineServer, type EngineServerOptions } from '../../src/compat/socketio/engine-server.js';
import { Admission } from '../../src/server/admission.js';
import type { ConnectionError } from '../../src/server/connection-refusals.js';

export const GOOD_ORIGIN = 'http://good.example';

/** What one connection heard, in order. */
export interface ConnectionLog {
  connection: EngineConnection;
  messages: (string | Uint8Array)[];
  /** 'ping' / 'pong' in the order onPingSent / onPong fired. */
  heartbeats: ('ping' | 'pong')[];
  closed: EngineCloseReason | undefined;
}

export interface EngineFixture {
  server: Server;
  engine: EngineServer;
  base: string;
  port: number;
  admission: Admission;
  connections: ConnectionLog[];
  refusals: ConnectionError[];
  errors: unknown[];
  stop(): Promise<void>;
}

export interface FixtureOptions {
  settings?: Partial<EngineSettings>;
  maxConnectionsPerIp?: number;
  maxConnections?: number;
  nodeId?: string;
  forward?: ClusterAdapter['forward'];
  /** What a connection does with a message; default: send it back. */
  onMessage?: (log: ConnectionLog, data: string | Uint8Array) => void;
  engine?: EngineServerOptions;
}

export function echo(log: ConnectionLog, data: string | Uint8Array): void {
  if (typeof data === 'string') log.connection.sendText(`4${data}`);
  else log.connection.sendBinary(data);
}

export async function startEngine(options: FixtureOptions = {}): Promise<EngineFixture> {
  const settings: EngineSettings = {
    path: '/socket.io/',
    transports: ['polling', 'websocket'],
    pingInterval: 25_000,
    pingTimeout: 20_000,
    maxPayload: 65_536,
    upgradeTimeout: 10_000,
    ...options.settings,
  };
  const admission = new Admission({ maxConnections: options.maxConnections ?? 1000, maxConnectionsPerIp: options.maxConnectionsPerIp ?? 100, handshakeRate: undefined });
  const connections: ConnectionLog[] = [];
  const refusals: ConnectionError[] = [];
  const errors: unknown[] = [];
  const onMessage = options.onMessage ?? echo;
  const cluster: Pick<ClusterAdapter, 'nodeId' | 'forward'> = { nodeId: options.nodeId ?? 'n1', forward: options.forward };
  const host: EngineHost = {
    settings,
    admission,
    closing: () => false,
    clientAddress: (req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown',
    originAllowed: (origin) => origin === GOOD_ORIGIN,
    originRefusal: (origin) => `${origin} is not an allowed origin`,
    connection: (connection) => {
      const log: ConnectionLog = { connection, messages: [], heartbeats: [], closed: undefined };
      connections.push(log);
      connection.attach({
        onMessage: (data) => {
          log.messages.push(data);
          onMessage(log, data);
        },
        onPingSent: () => log.heartbeats.push('ping'),
        onPong: () => log.heartbeats.push('pong'),
        onClose: (reason) => {
          if (log.closed !== undefined) errors.push(new Error(`onClose twice: ${log.closed}, ${reason}`));
          log.closed = reason;
        },
      });
    },
    reportError: (err) => errors.push(err),
    connectionError: (error) => refusals.push(error),
    cluster,
  };
  const engine = new EngineServer(host, options.engine);
  const server = createServer((req, res) => {
    if (!engine.handleRequest(req, res)) {
      res.writeHead(404);
      res.end('app');
    }
  });
  server.on('upgrade', (req, socket, head) => {
    if (!engine.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    engine,
    base: `http://127.0.0.1:${port}`,
    port,
    admission,
    connections,
    refusals,
    errors,
    stop: async () => {
      engine.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request, answered (no fetch: it would pool and retry). */
export function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Open a polling connection by hand: its sid. */
export async function rawHandshake(base: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = await raw(`${base}/socket.io/?EIO=4&transport=polling`, { headers });
  if (answer.status !== 200 || !answer.body.startsWith('0')) throw new Error(`handshake: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body.slice(1)) as { sid: string }).sid;
}

export async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
