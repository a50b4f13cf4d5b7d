/**
 * Abuse at the connection level, bounded in count and time: a connection flood from one
 * IP, and slowloris (many half-open handshakes). In each, a well-behaved client beside
 * the attackers still connects, joins a room and gets a broadcast, and the server's
 * connection count returns to zero afterwards.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import { after, describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect, type WebSocketConstructor } from '../../src/client/node.js';
import type { Switchboard } from '../../src/server/index.js';
import { eventually, startServer } from '../helpers/server.js';
import { attemptUpgrade, closeAll, type UpgradeOutcome } from '../helpers/upgrade-attempt.js';

const servers: Switchboard[] = [];
after(async () => {
  await Promise.all(servers.map((sb) => sb.close({ deadline: 50 })));
});

/** The SDK's WebSocket, connecting from another loopback address than the attackers. */
class FromNeighbour extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { localAddress: '127.0.0.2' });
  }
}

/** A client that behaves: connects, joins `news`, and must receive what is broadcast there. */
async function wellBehavedClientIsServed(sb: Switchboard, url: string, WebSocketImpl?: WebSocketConstructor): Promise<void> {
  const client = connect(url, { reconnect: { delay: 20, maxDelay: 100 }, ...(WebSocketImpl ? { WebSocket: WebSocketImpl } : {}) });
  try {
    const got = new Promise<string>((resolve) => client.once('headline', (text: string) => resolve(text)));
    await client.join('news');
    sb.to('news').emit('headline', 'still served');
    assert.equal(await got, 'still served');
  } finally {
    client.close();
  }
}

async function openConnections(sb: Switchboard): Promise<number> {
  return new Promise((resolve, reject) => sb.httpServer.getConnections((err, count) => (err ? reject(err) : resolve(count))));
}

describe('connection flood from one IP', () => {
  test('beyond maxConnectionsPerIp and the handshake rate every attempt gets a documented 429; a neighbour is served; counts return to zero', async () => {
    const { sb, url } = await startServer({ maxConnectionsPerIp: 20, handshakeRate: { perSecond: 2, burst: 60 } });
    servers.push(sb);
    const ATTEMPTS = 200;
    const flood = await Promise.all(Array.from({ length: ATTEMPTS }, () => attemptUpgrade(url)));
    try {
      const byOutcome = new Map<string, number>();
      for (const outcome of flood) {
        const key = outcome.status === 101 ? '101' : `${outcome.status} ${(outcome as { body: string }).body.split(':', 1)[0]}`;
        byOutcome.set(key, (byOutcome.get(key) ?? 0) + 1);
      }
      assert.equal(byOutcome.get('101'), 20, `exactly maxConnectionsPerIp upgraded: ${JSON.stringify([...byOutcome])}`);
      assert.deepEqual(
        [...byOutcome.keys()].sort(),
        ['101', '429 rate_limited', '429 too_many_connections'],
        'every refusal is a documented 429',
      );
      assert.ok((byOutcome.get('429 rate_limited') ?? 0) >= ATTEMPTS - 60 - 20, 'the handshakes past the burst (and a few refilled tokens) were rate limited');
      assert.equal(sb.connectionCount, 20);

      await wellBehavedClientIsServed(sb, url, FromNeighbour);
    } finally {
      closeAll(flood);
    }
    await eventually(() => sb.connectionCount === 0, 'the flood’s connections to close');
    await eventually(() => sb.sessionCount === 0, 'their sessions to end');
    // The IP's slots are free again once its bucket has a token.
    let again: UpgradeOutcome | undefined;
    for (let i = 0; i < 100 && again?.status !== 101; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      again = await attemptUpgrade(url);
    }
    assert.equal(again?.status, 101);
    closeAll([again as UpgradeOutcome]);
    await eventually(() => sb.connectionCount === 0, 'the last connection to close');
  });
});

/** Raw TCP connections that send an upgrade request whose headers never end, and stall. */
async function halfOpenHandshakes(port: number, count: number): Promise<{ sockets: TcpSocket[]; received: string[]; closed: Promise<unknown>[] }> {
  const sockets: TcpSocket[] = [];
  const received: string[] = [];
  const closed: Promise<unknown>[] = [];
  for (let first = 0; first < count; first += 100) {
    const batch = Array.from({ length: Math.min(100, count - first) }, () => {
      const socket = tcpConnect({ host: '127.0.0.1', port });
      const index = sockets.push(socket) - 1;
      received[index] = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received[index] += chunk));
      socket.on('error', () => {}); // a reset by the server is an expected end
      closed.push(once(socket, 'close'));
      return once(socket, 'connect').then(() => {
        socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n`);
      });
    });
    await Promise.all(batch);
  }
  return { sockets, received, closed };
}

async function untilNoTcpConnection(sb: Switchboard): Promise<void> {
  let left = -1;
  for (let i = 0; i < 300 && left !== 0; i++) {
    left = await openConnections(sb);
    if (left !== 0) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(left, 0, 'no TCP connection left');
}

describe('slowloris', () => {
  test('500 half-open handshakes and 50 silent WebSockets: a client beside them is served; counts return to zero when they go away', async () => {
    const { sb, url, port } = await startServer();
    servers.push(sb);
    const HALF_OPEN = 500;
    const SILENT = 50;
    const attack = await halfOpenHandshakes(port, HALF_OPEN);
    const silent = await Promise.all(Array.from({ length: SILENT }, () => attemptUpgrade(url)));
    try {
      assert.ok(silent.every((o) => o.status === 101));
      const inPlace = await openConnections(sb);
      assert.ok(inPlace >= HALF_OPEN + SILENT, `the attack is in place: ${inPlace} TCP connections`);
      assert.equal(sb.connectionCount, SILENT, 'half-open handshakes are no connections yet');

      await wellBehavedClientIsServed(sb, url);
    } finally {
      for (const socket of attack.sockets) socket.destroy();
      closeAll(silent);
    }
    await eventually(() => sb.connectionCount === 0 && sb.sessionCount === 0, 'no connection or session left');
    await untilNoTcpConnection(sb);
  });

  test('the server cuts them itself: unfinished headers get 408 after headersTimeout, silent WebSockets 4001 after handshakeTimeout', async () => {
    const { sb, url, port } = await startServer({ handshakeTimeout: 300 });
    servers.push(sb);
    // Switchboard's own server: 10 s for request headers, checked every second. Shorter here.
    assert.equal(sb.httpServer.headersTimeout, 10_000);
    assert.equal(sb.httpServer.requestTimeout, 30_000);
    sb.httpServer.headersTimeout = 300;

    const attack = await halfOpenHandshakes(port, 50);
    const silent = await Promise.all(Array.from({ length: 10 }, () => attemptUpgrade(url)));
    try {
      assert.ok(silent.every((o) => o.status === 101));
      const codes = await Promise.all(silent.map(async (o) => ((await once(o.ws as WebSocket, 'close')) as [number])[0]));
      assert.deepEqual(new Set(codes), new Set([4001]), 'silent WebSockets are cut by handshakeTimeout');
      await Promise.all(attack.closed);
      assert.ok(
        attack.received.every((text) => text.startsWith('HTTP/1.1 408')),
        `every half-open handshake was answered 408: ${JSON.stringify([...new Set(attack.received)])}`,
      );
    } finally {
      for (const socket of attack.sockets) socket.destroy();
      closeAll(silent);
    }
    await eventually(() => sb.connectionCount === 0 && sb.sessionCount === 0, 'no connection or session left');
    await untilNoTcpConnection(sb);
  });
});
