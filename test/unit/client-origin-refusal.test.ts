/**
 * A refused page origin as the client sees it, against a scripted server that refuses the
 * way docs/PROTOCOL.md says a Switchboard server does: the WebSocket upgrade is completed
 * and closed at once with 1008 and `origin_not_allowed: …` as the reason (a browser hides
 * a refused upgrade's status), and the HTTP transports answer 403 with a JSON body. The
 * client reports `origin_not_allowed` with the remedy, tries no other transport, and stops.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { connect, type StateChange, type SwitchboardClient, type TransportKind } from '../../src/client/node.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { nextEvent } from '../helpers/scripted-server.js';

const REFUSAL = 'https://evil.example is not in allowedOrigins';

/** An HTTP server whose every way in refuses the origin, and counts how it was tried. */
class RefusingServer {
  readonly upgrades: number[] = [];
  readonly requests: string[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: () => 'switchboard.v1' });

  private constructor(private readonly server: Server) {
    server.on('upgrade', (req, socket, head) => {
      this.upgrades.push(this.upgrades.length + 1);
      // Accept, read nothing, close: the reason is the only place a browser page can see why.
      this.wss.handleUpgrade(req, socket, head, (ws) => ws.close(1008, `origin_not_allowed: ${REFUSAL}`));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`);
      res.writeHead(403, { 'content-type': 'application/json', 'access-control-allow-origin': 'https://evil.example' });
      res.end(JSON.stringify({ code: 'origin_not_allowed', message: REFUSAL }));
    });
  }

  static async start(): Promise<RefusingServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RefusingServer(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let server: RefusingServer;
let client: SwitchboardClient | undefined;
beforeEach(async () => {
  server = await RefusingServer.start();
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await server.close();
});

/** Everything the app hears until the client stops. */
function watch(c: SwitchboardClient): { log: string[]; stopped: Promise<StateChange>; failed: Promise<unknown[]> } {
  const log: string[] = [];
  c.on('connect_error', (error) => log.push(`connect_error ${error.code}`));
  const stopped = new Promise<StateChange>((resolve, reject) => {
    c.on('state', (change) => change.state === 'disconnected' && resolve(change));
    c.on('reconnecting', (info) => reject(new Error(`a retry was scheduled (${info.reason}) after: ${log.join(', ')}`)));
  });
  return { log, stopped, failed: nextEvent(c, 'connect_error') };
}

function open(transports: TransportKind[]): SwitchboardClient {
  client = connect(server.url, { transports, reconnect: { delay: 10, maxDelay: 50 } });
  return client;
}

function assertOriginError(error: unknown): void {
  assert.ok(error instanceof SwitchboardError, String(error));
  assert.equal(error.code, 'origin_not_allowed');
  assert.match(error.message, /allowedOrigins option/, 'the message says the remedy');
  assert.ok(error.message.includes(REFUSAL), `the server's words are kept: ${error.message}`);
}

describe('origin refusal', () => {
  it('a WebSocket closed with 1008 origin_not_allowed: connect_error origin_not_allowed, no other transport, no retry', async () => {
    const c = open(['websocket', 'sse', 'polling']);
    const { log, stopped, failed } = watch(c);
    const change = await stopped;
    assert.equal(change.reason, 'unauthorized');
    assert.equal(change.closeCode, 1008);
    assertOriginError(change.error);
    const [error] = await failed;
    assertOriginError(error);
    // The client stopped (disconnected) without a retry scheduled and without trying HTTP.
    assert.deepEqual(log, ['connect_error origin_not_allowed']);
    assert.deepEqual(server.requests, [], 'neither SSE nor polling was tried');
    assert.equal(server.upgrades.length, 1);
    assert.equal(c.state, 'disconnected');

    // reconnectNow() tries again, once the app (or its user) thinks the server changed.
    const again = watch(c);
    c.reconnectNow();
    await again.stopped;
    assert.equal(server.upgrades.length, 2);
  });

  for (const transports of [
    ['sse', 'polling'],
    ['polling', 'sse'],
  ] as TransportKind[][]) {
    it(`${transports[0]} refused with 403 origin_not_allowed: the same error, the other HTTP transport not tried, no retry`, async () => {
      const c = open(transports);
      const { log, stopped, failed } = watch(c);
      const change = await stopped;
      assert.equal(change.reason, 'unauthorized');
      assertOriginError(change.error);
      assertOriginError((await failed)[0]);
      assert.deepEqual(log, ['connect_error origin_not_allowed']);
      assert.deepEqual(server.requests, [`GET /ws/${transports[0] === 'sse' ? 'sse' : 'poll'}`]);
      assert.equal(c.state, 'disconnected');
    });
  }
});
