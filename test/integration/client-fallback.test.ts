/**
 * The SDK's fallback transports against the real server: sessions on long-polling and SSE
 * alone, the fall back when a WebSocket is refused (by the server, or by a proxy answering
 * 400 to the Upgrade), the transport remembered for the next connection, and the move of a
 * live session onto a WebSocket while frames flow both ways (counted with sequence numbers:
 * none lost, none repeated, order kept). Proxies are real HTTP/TCP servers on port 0.
 */
import assert from 'node:assert/strict';
import { type IncomingMessage, request as httpRequest, type Server as HttpServer, createServer as createHttpServer, type ServerResponse } from 'node:http';
import { type AddressInfo, connect as tcpConnect, type Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { type ConnectInfo, connect, type StateChange, type SwitchboardClient, type TransportKind, type WebSocketConstructor } from '../../src/client/node.js';
import type { Socket, Switchboard } from '../../src/server/index.js';
import { eventually, startServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const fastReconnect = { reconnect: { delay: 20, maxDelay: 60 } };
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An HTTP proxy in front of the server that forwards plain requests (event streams
 * included) and decides what becomes of a WebSocket Upgrade: `refuse` answers 400 (a proxy
 * that does not do WebSocket), `pass` tunnels it, `eat` tunnels it but swallows everything
 * the server sends after its 101 (a middlebox that breaks WebSocket frames).
 */
class UpgradeGate {
  mode: 'refuse' | 'pass' | 'eat' = 'refuse';
  upgrades = 0;
  private readonly tunnels = new Set<Duplex>();

  private constructor(
    private readonly server: HttpServer,
    private readonly target: number,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.forward(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  static async start(target: number): Promise<UpgradeGate> {
    const server = createHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new UpgradeGate(server, target);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
  }

  async close(): Promise<void> {
    for (const socket of this.tunnels) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const upstream = httpRequest({ host: '127.0.0.1', port: this.target, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    // The client went away (an aborted event stream): so does the request upstream.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgrades++;
    socket.on('error', () => {});
    if (this.mode === 'refuse') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const eat = this.mode === 'eat';
    const upstream: NetSocket = tcpConnect(this.target, '127.0.0.1');
    this.tunnels.add(socket).add(upstream);
    upstream.on('error', () => socket.destroy());
    const end = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('close', end);
    upstream.on('close', end);
    let head101 = '';
    let through = false;
    upstream.on('data', (chunk: Buffer) => {
      if (!eat) return void socket.write(chunk);
      if (through) return; // swallowed
      const text = chunk.toString('latin1');
      const end101 = (head101 + text).indexOf('\r\n\r\n');
      if (end101 === -1) {
        head101 += text;
        socket.write(chunk);
        return;
      }
      through = true;
      socket.write(chunk.subarray(0, end101 + 4 - head101.length));
    });
    let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(`${raw}\r\n`);
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
  }
}

/** A `ws` WebSocket that counts how often the SDK makes one. */
function countingWebSocket(): { WebSocket: WebSocketConstructor; made: () => number } {
  let made = 0;
  class Counting extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      made++;
    }
  }
  return { WebSocket: Counting, made: () => made };
}

function nextConnect(client: SwitchboardClient, ms = 5000): Promise<ConnectInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect within ${ms} ms`)), ms);
    client.once('connect', (info: ConnectInfo) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}

function recordStates(client: SwitchboardClient): string[] {
  const states: string[] = [];
  client.on('state', (change: StateChange) => states.push(`${change.state}:${change.reason}${change.resumed === undefined ? '' : `:${change.resumed}`}`));
  client.on('connect_error', (error: Error) => states.push(`connect_error:${error.message}`));
  return states;
}

/** The server side of a conversation: echo, requests both ways, rooms. */
function converse(sb: Switchboard): { sockets: Socket[]; disconnects: string[] } {
  const sockets: Socket[] = [];
  const disconnects: string[] = [];
  sb.on('connection', (socket: Socket) => {
    sockets.push(socket);
    socket.on('disconnect', (reason) => disconnects.push(reason));
    socket.on('add', ({ a, b }: { a: number; b: number }) => a + b);
    socket.on('shout', (text: string) => socket.emit('heard', text.toUpperCase()));
    socket.on('ask-me', async () => socket.emitWithAck('question', 'ready?'));
    socket.on('enter', async (room: string) => {
      await socket.join(room);
      return true;
    });
  });
  return { sockets, disconnects };
}

describe('a session on an HTTP transport alone', { timeout: 30_000 }, () => {
  for (const kind of ['polling', 'sse'] as const) {
    test(`${kind}: events both ways, requests both ways, rooms, and the transport both sides see`, async () => {
      const { sb, url } = await startServer();
      const { sockets } = converse(sb);
      const client = connect(url, { ...fastReconnect, transports: [kind] });
      const other = connect(url, { ...fastReconnect, transports: [kind] });
      try {
        await nextConnect(client);
        assert.equal(client.transport, kind);
        assert.equal(sockets[0]?.transport, kind);
        const heard = new Promise((resolve) => client.once('heard', resolve));
        client.emit('shout', 'hello');
        assert.equal(await heard, 'HELLO');
        assert.equal(await client.emitWithAck('add', { a: 2, b: 40 }), 42);
        client.on('question', (q: string) => `yes, ${q}`);
        assert.equal(await client.emitWithAck('ask-me'), 'yes, ready?');

        await client.join('lobby');
        await eventually(() => other.connected, 'the other client');
        const news: [unknown, string | undefined][] = [];
        client.on('news', (data, meta) => void news.push([data, meta.room]));
        other.on('news', (data, meta) => void news.push([data, meta.room]));
        sb.to('lobby').emit('news', 'for the lobby');
        await eventually(() => news.length === 1, 'the room event');
        await delay(30);
        assert.deepEqual(news, [['for the lobby', 'lobby']]);

        // More than one poll answer's worth, and frames of one turn batched up: all arrive, in order.
        const got: number[] = [];
        client.on('n', (n: number) => void got.push(n));
        for (let i = 0; i < 300; i++) sockets[0]?.emit('n', i);
        await eventually(() => got.length === 300, '300 events');
        assert.deepEqual(got, [...Array(300).keys()]);
      } finally {
        client.close();
        other.close();
        await sb.close({ deadline: 100 });
      }
    });

    test(`${kind}: a cut connection resumes: same id, rooms kept, events sent meanwhile once and in order`, async () => {
      const { sb, port } = await startServer();
      const { sockets, disconnects } = converse(sb);
      const proxy = await TcpProxy.start(port);
      const client = connect(proxy.url(), { ...fastReconnect, transports: [kind] });
      try {
        await nextConnect(client);
        const id = client.id;
        await client.join('lobby');
        const news: number[] = [];
        client.on('news', (n: number) => void news.push(n));
        sb.to('lobby').emit('news', 1);
        await eventually(() => news.length === 1, 'the first event');

        proxy.refuse(true);
        const back = nextConnect(client);
        proxy.cutAll();
        await eventually(() => client.state === 'connecting', 'the client to notice the cut');
        for (const n of [2, 3, 4]) sb.to('lobby').emit('news', n);
        proxy.refuse(false);
        assert.deepEqual(await back, { resumed: true });
        assert.equal(client.id, id);
        await eventually(() => news.length === 4, 'the events sent meanwhile');
        sb.to('lobby').emit('news', 5);
        await eventually(() => news.length === 5, 'a later event');
        await delay(30);
        assert.deepEqual(news, [1, 2, 3, 4, 5]);
        assert.equal(sockets.length, 1, 'one server socket throughout');
        assert.deepEqual(disconnects, []);
        assert.equal(sockets[0]?.transport, kind);
      } finally {
        client.close();
        await proxy.close();
        await sb.close({ deadline: 100 });
      }
    });
  }
});

describe('falling back from a refused WebSocket', { timeout: 30_000 }, () => {
  test('the server refuses WebSocket (403): the client falls back to SSE without telling the app, and a later client tries SSE first', async () => {
    const { sb, url } = await startServer({ transports: ['sse', 'polling'] });
    const { sockets } = converse(sb);
    const first = countingWebSocket();
    const client = connect(url, { ...fastReconnect, WebSocket: first.WebSocket });
    const states = recordStates(client);
    const second = countingWebSocket();
    let later: SwitchboardClient | undefined;
    try {
      await nextConnect(client);
      assert.equal(client.transport, 'sse');
      assert.equal(first.made(), 1, 'one WebSocket attempt, then SSE');
      assert.equal(await client.emitWithAck('add', { a: 1, b: 2 }), 3);
      // The upgrade probe tries WebSocket again after about a second, and fails: the app sees nothing.
      await eventually(() => first.made() >= 2, 'an upgrade probe', 4000);
      await delay(100);
      assert.equal(client.transport, 'sse');
      assert.equal(client.connected, true);
      assert.deepEqual(states, ['connected:handshake_ok:false']);
      assert.equal(await client.emitWithAck('add', { a: 2, b: 2 }), 4);

      later = connect(url, { ...fastReconnect, WebSocket: second.WebSocket });
      await nextConnect(later);
      assert.equal(later.transport, 'sse');
      assert.equal(second.made(), 0, 'the remembered transport went first: no WebSocket attempt');
      assert.equal(sockets[1]?.transport, 'sse');
    } finally {
      client.close();
      later?.close();
      await sb.close({ deadline: 100 });
    }
  });

  test('a proxy answers 400 to the Upgrade: the client works over SSE, and moves to WebSocket once the proxy lets it through', async () => {
    const { sb, port } = await startServer();
    const { sockets, disconnects } = converse(sb);
    const gate = await UpgradeGate.start(port);
    const client = connect(gate.url, fastReconnect);
    const states = recordStates(client);
    try {
      await nextConnect(client);
      assert.equal(client.transport, 'sse');
      assert.equal(gate.upgrades, 1);
      const heard = new Promise((resolve) => client.once('heard', resolve));
      client.emit('shout', 'through the proxy');
      assert.equal(await heard, 'THROUGH THE PROXY');

      gate.mode = 'pass';
      await eventually(() => client.transport === 'websocket', 'the upgrade', 5000);
      assert.equal(sockets[0]?.transport, 'websocket');
      assert.equal(await client.emitWithAck('add', { a: 20, b: 22 }), 42);
      assert.deepEqual(states, ['connected:handshake_ok:false'], 'the app saw one connect and nothing else');
      assert.equal(sockets.length, 1);
      assert.deepEqual(disconnects, []);
    } finally {
      client.close();
      await gate.close();
      await sb.close({ deadline: 100 });
    }
  });

  test('a middlebox that eats WebSocket frames: fall back at connectTimeout; an upgrade that gets no welcome resumes over SSE, nothing lost', async () => {
    const { sb, port } = await startServer();
    const gate = await UpgradeGate.start(port);
    gate.mode = 'eat';
    const received: number[] = [];
    const sent: number[] = [];
    const sockets: Socket[] = [];
    sb.on('connection', (socket: Socket) => {
      sockets.push(socket);
      socket.on('up', (n: number) => void sent.push(n));
    });
    const client = connect(gate.url, { ...fastReconnect, connectTimeout: 1000 });
    const states = recordStates(client);
    client.on('down', (n: number) => void received.push(n));
    await nextConnect(client);
    assert.equal(client.transport, 'sse', 'the WebSocket got no welcome within connectTimeout');
    // The session of the eaten WebSocket's hello is another one, waiting for a resume that never comes.
    const server = sockets.find((s) => s.id === client.id);
    let down = 0;
    let up = 0;
    const pump = setInterval(() => {
      server?.emit('down', down++);
      if (client.connected) client.emit('up', up++);
    }, 10);
    try {
      const back = nextConnect(client);
      // The probe's WebSocket opens, its hello goes out, no welcome comes: a resume over SSE.
      assert.deepEqual(await back, { resumed: true });
      gate.mode = 'refuse'; // later probes fail before the hello, unnoticed
      assert.equal(client.transport, 'sse');
      await delay(100);
    } finally {
      clearInterval(pump);
    }
    try {
      await eventually(() => received.length === down && sent.length === up, 'every frame to arrive');
      assert.deepEqual(received, [...Array(down).keys()], 'server → client: none lost, none repeated, in order');
      assert.deepEqual(sent, [...Array(up).keys()], 'client → server: none lost, none repeated, in order');
      assert.ok(states.includes('connecting:transport_closed'), `the failed upgrade was a drop: ${states.join(', ')}`);
      assert.equal(states.at(-1), 'connected:handshake_ok:true');
    } finally {
      client.close();
      await gate.close();
      await sb.close({ deadline: 100 });
    }
  });
});

describe('when no transport gets through', { timeout: 30_000 }, () => {
  test('connect_error reports the preferred transport\'s failure and names the others; each round is one backoff step', async () => {
    const { sb, url } = await startServer();
    await sb.close(); // nothing listens on the port any more
    const client = connect(url, fastReconnect);
    const errors: (Error & { code: string })[] = [];
    const retries: { attempt: number; reason: string }[] = [];
    client.on('connect_error', (error: Error & { code: string }) => void errors.push(error));
    client.on('reconnecting', (info: { attempt: number; reason: string }) => void retries.push(info));
    try {
      await eventually(() => retries.length >= 2, 'two rounds');
      assert.equal(errors[0]?.code, 'disconnected');
      assert.match(errors[0]?.message ?? '', /^could not open a WebSocket to ws:\/\/127\.0\.0\.1:\d+\/ws: .*; tried sse \(.+\), polling \(.+\) too$/);
      assert.deepEqual(
        retries.slice(0, 2).map((r) => [r.attempt, r.reason]),
        [
          [1, 'transport_error'],
          [2, 'transport_error'],
        ],
        'one attempt (and one connect_error) per round of three transports',
      );
      assert.equal(errors.length, retries.length);
    } finally {
      client.close();
    }
  });
});

describe('moving a live session onto a WebSocket', { timeout: 30_000 }, () => {
  for (const from of ['polling', 'sse'] as const) {
    test(`${from} → websocket while frames flow both ways: none lost, none repeated, order kept; the app notices nothing`, async () => {
      const { sb, url } = await startServer();
      const received: number[] = [];
      const sent: number[] = [];
      const answered: number[] = [];
      const servers: Socket[] = [];
      const disconnects: string[] = [];
      sb.on('connection', (socket: Socket) => {
        servers.push(socket);
        socket.on('disconnect', (reason) => disconnects.push(reason));
        socket.on('up', (n: number) => void sent.push(n));
        socket.on('double', (n: number) => n * 2);
      });
      // Preferring HTTP but allowing WebSocket: the session starts on HTTP and the probe moves it.
      const transports: TransportKind[] = [from, 'websocket'];
      const client = connect(url, { ...fastReconnect, transports });
      const states = recordStates(client);
      client.on('down', (n: number) => void received.push(n));
      await nextConnect(client);
      assert.equal(client.transport, from);
      const id = client.id;
      let down = 0;
      let up = 0;
      let asked = 0;
      const requests: Promise<void>[] = [];
      const pump = setInterval(() => {
        // Several frames per turn from the server, so poll answers and SSE chunks carry more than one.
        for (let i = 0; i < 3; i++) servers[0]?.emit('down', down++);
        client.emit('up', up++);
        if (up % 5 === 0) {
          const n = asked++;
          requests.push(client.emitWithAck('double', n).then((r) => void answered.push(r as number)));
        }
      }, 12);
      try {
        await eventually(() => client.transport === 'websocket', 'the upgrade', 5000);
        assert.equal(servers[0]?.transport, 'websocket');
        const switchedAt = { down, up };
        await eventually(() => down > switchedAt.down + 60 && up > switchedAt.up + 20, 'frames after the upgrade');
      } finally {
        clearInterval(pump);
      }
      try {
        await Promise.all(requests);
        await eventually(() => received.length === down && sent.length === up, 'every frame to arrive');
        await delay(50);
        assert.deepEqual(received, [...Array(down).keys()], 'server → client: none lost, none repeated, in order');
        assert.deepEqual(sent, [...Array(up).keys()], 'client → server: none lost, none repeated, in order');
        assert.deepEqual(
          answered.sort((a, b) => a - b),
          [...Array(asked).keys()].map((n) => n * 2),
          'every request answered once',
        );
        assert.deepEqual(states, ['connected:handshake_ok:false'], 'no state change for the upgrade');
        assert.equal(client.id, id);
        assert.equal(servers.length, 1);
        assert.deepEqual(disconnects, []);

        // The WebSocket delivered a welcome: the next client to this URL starts there.
        const next = connect(url, { ...fastReconnect, transports });
        try {
          await nextConnect(next);
          assert.equal(next.transport, 'websocket');
        } finally {
          next.close();
        }
      } finally {
        client.close();
        await sb.close({ deadline: 100 });
      }
    });
  }

  test('upgrade: false keeps the session on HTTP', async () => {
    const { sb, url } = await startServer();
    const counting = countingWebSocket();
    const client = connect(url, { ...fastReconnect, transports: ['sse', 'websocket'], upgrade: false, WebSocket: counting.WebSocket });
    try {
      await nextConnect(client);
      await delay(1500);
      assert.equal(client.transport, 'sse');
      assert.equal(counting.made(), 0);
    } finally {
      client.close();
      await sb.close({ deadline: 100 });
    }
  });
});
