/**
 * The SDK's session resume and reliable publishes against the real server, through a tiny
 * TCP proxy that cuts links the way a network does: both sockets destroyed, no close frame,
 * so the server sees 1006 and keeps the session for a resume.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createConnection, createServer, type Server, type Socket as NetSocket } from 'node:net';
import { describe, test } from 'node:test';
import { type ConnectInfo, connect, type SwitchboardClient } from '../../src/client/node.js';
import { type Socket, Switchboard } from '../../src/server/index.js';
import { eventually, startServer } from '../helpers/server.js';

// WebSocket only: the proxy below refuses by closing connections as it accepts them, which
// Node's fetch never settles (the SDK's HTTP transports give up after 5 s). Resume over
// SSE and long-polling is tested in transport-conformance.test.ts.
const fastReconnect = { reconnect: { delay: 20, maxDelay: 60 }, transports: ['websocket'] as ['websocket'] };
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Forwards TCP between clients and a server port. cut() destroys both sockets of every link
 * (a network cut); while refusing, new connections are destroyed on arrival (the network is
 * still down); stall() swallows bytes both ways (packets lost before the cut is noticed).
 */
class Proxy {
  private readonly links = new Set<{ client: NetSocket; server: NetSocket; stalled: boolean }>();
  private refusing = false;
  connections = 0;

  private constructor(
    private readonly server: Server,
    private readonly target: number,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(target: number): Promise<Proxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Proxy(server, target);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
  }

  /** Lose every byte in flight from now on, in both directions, until the links are cut. */
  stall(): void {
    for (const link of this.links) link.stalled = true;
  }

  /** Cut every link; new connections are refused until heal(). */
  cut(): void {
    this.refusing = true;
    for (const { client, server } of this.links) {
      client.destroy();
      server.destroy();
    }
    this.links.clear();
  }

  heal(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: NetSocket): void {
    client.on('error', () => {});
    if (this.refusing) {
      client.destroy();
      return;
    }
    this.connections++;
    const server = createConnection({ port: this.target, host: '127.0.0.1' });
    server.on('error', () => {});
    const link = { client, server, stalled: false };
    this.links.add(link);
    client.on('data', (chunk) => link.stalled || server.write(chunk));
    server.on('data', (chunk) => link.stalled || client.write(chunk));
    const end = (): void => {
      this.links.delete(link);
      client.destroy();
      server.destroy();
    };
    client.on('close', end);
    server.on('close', end);
  }
}

/** Resolve with the payload of the client's next `connect`. */
function nextConnect(client: SwitchboardClient, ms = 3000): Promise<ConnectInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect within ${ms} ms`)), ms);
    client.once('connect', (info: ConnectInfo) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}

describe('the SDK resumes its session on the real server', { timeout: 30_000 }, () => {
  test('a cut link: same id, rooms kept without a rejoin, events sent meanwhile once and in order, a request in flight answered', async () => {
    const { sb, port } = await startServer();
    const proxy = await Proxy.start(port);
    const joins: string[] = [];
    const disconnects: string[] = [];
    let sockets = 0;
    let slowStarted = false;
    let slowFinished = false;
    let finishSlow: () => void = () => {};
    sb.sockets.authorizeJoin((_socket, room) => {
      joins.push(room);
      return true;
    });
    sb.on('connection', (socket: Socket) => {
      sockets++;
      socket.on('disconnect', (reason) => disconnects.push(reason));
      socket.on('slow', async () => {
        slowStarted = true;
        await new Promise<void>((resolve) => (finishSlow = resolve)); // finishes when the test says
        slowFinished = true;
        return 'answered while you were away';
      });
    });
    const client = connect(proxy.url, fastReconnect);
    try {
      await nextConnect(client);
      const id = client.id;
      await client.join('lobby');
      const news: number[] = [];
      client.on('news', (n: number, meta) => {
        assert.equal(meta.room, 'lobby');
        news.push(n);
      });
      sb.to('lobby').emit('news', 1);
      await eventually(() => news.length === 1, 'the first event');

      const slow = client.emitWithAck('slow');
      await eventually(() => slowStarted, 'the request to reach its handler');
      const back = nextConnect(client);
      proxy.cut();
      await eventually(() => sb.connectionCount === 0, 'the server to see the cut');
      assert.equal(sb.sessionCount, 1, 'the session waits for its client');
      for (const n of [2, 3, 4]) sb.to('lobby').emit('news', n);
      finishSlow(); // the slow handler finishes while the link is down
      await eventually(() => slowFinished, 'the handler to finish');
      proxy.heal();

      assert.deepEqual(await back, { resumed: true });
      assert.equal(client.id, id, 'the same session id');
      assert.equal(await slow, 'answered while you were away');
      sb.to('lobby').emit('news', 5);
      await eventually(() => news.length >= 5, 'the events sent meanwhile and a live one');
      sb.to('lobby').emit('news', 6); // a fence: a repeat of anything earlier would come before it
      await eventually(() => news.includes(6), 'the fence');
      assert.deepEqual(news, [1, 2, 3, 4, 5, 6], 'every event once, in order');
      assert.deepEqual(joins, ['lobby'], 'the room was kept, not joined again');
      assert.equal(sockets, 1, 'no new server socket');
      assert.deepEqual(disconnects, []);
      assert.ok(proxy.connections >= 2, 'it did reconnect');
    } finally {
      client.close();
      await proxy.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('a durable room: publications lost in flight at the cut are recovered, each delivered once, in order', async () => {
    const { sb, port } = await startServer();
    sb.durable('ticker');
    const proxy = await Proxy.start(port);
    const client = connect(proxy.url, fastReconnect);
    try {
      const seen: number[] = [];
      client.on('n', (n: number) => {
        seen.push(n);
      });
      await client.join('ticker');
      await sb.to('ticker').publish('n', 1);
      await eventually(() => seen.length === 1, 'the first publication');
      // Frames written into a link that is already dead: the server cannot know they were lost.
      proxy.stall();
      for (const n of [2, 3]) await sb.to('ticker').publish('n', n);
      await delay(30);
      const back = nextConnect(client);
      proxy.cut();
      await eventually(() => sb.connectionCount === 0, 'the server to see the cut');
      for (const n of [4, 5]) await sb.to('ticker').publish('n', n);
      proxy.heal();
      assert.deepEqual(await back, { resumed: true });
      await sb.to('ticker').publish('n', 6);
      await eventually(() => seen.length >= 6, 'every publication');
      await sb.to('ticker').publish('n', 7); // a fence: a repeat of anything earlier would come before it
      await eventually(() => seen.includes(7), 'the fence');
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
    } finally {
      client.close();
      await proxy.close();
      await sb.close({ deadline: 50 });
    }
  });
});

describe('the SDK acknowledges inside the bounds the server announces', { timeout: 30_000 }, () => {
  test('a server that keeps only 8 unacknowledged frames: after 20 events, 3 sent while the link is down still resume', async () => {
    // The server ends a session whose kept frames are at their bound when it must keep one
    // more for a client that is away: a client acking rarer than the bound loses its session.
    const { sb, port } = await startServer({ resume: { maxUnackedFrames: 8 } });
    const proxy = await Proxy.start(port);
    const client = connect(proxy.url, fastReconnect);
    try {
      const seen: number[] = [];
      client.on('n', (n: number) => {
        seen.push(n);
      });
      await nextConnect(client);
      await client.join('lobby');
      for (let n = 1; n <= 20; n++) sb.to('lobby').emit('n', n);
      await eventually(() => seen.length === 20, 'the first 20 events');
      await delay(50); // the last acks reach the server
      const back = nextConnect(client);
      proxy.cut();
      await eventually(() => sb.connectionCount === 0, 'the server to see the cut');
      for (let n = 21; n <= 23; n++) sb.to('lobby').emit('n', n);
      assert.equal(sb.sessionCount, 1, 'the session is still kept');
      proxy.heal();
      assert.deepEqual(await back, { resumed: true });
      await eventually(() => seen.length >= 23, 'the events sent while away');
      assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => i + 1));
    } finally {
      client.close();
      await proxy.close();
      await sb.close({ deadline: 50 });
    }
  });
});

describe('closes the SDK makes to come back keep the session', { timeout: 30_000 }, () => {
  test('offline closes with 4005: the server keeps the session and the client resumes it when back online', async () => {
    const { sb, url } = await startServer();
    const disconnects: string[] = [];
    sb.on('connection', (socket: Socket) => socket.on('disconnect', (reason) => disconnects.push(reason)));
    const target = new EventTarget();
    let online = true;
    // maxDelay is also the period of the slow probe that retries while offline (navigator.onLine
    // can be wrong): long here, so that only the `online` event brings the client back.
    const client = connect(url, { ...fastReconnect, reconnect: { delay: 20, maxDelay: 30_000 }, network: { target, isOnline: () => online } });
    try {
      await nextConnect(client);
      const id = client.id;
      await client.join('lobby');
      online = false;
      target.dispatchEvent(new Event('offline'));
      await eventually(() => sb.connectionCount === 0, 'the server to see the close');
      await delay(50);
      assert.equal(sb.sessionCount, 1, 'kept for a resume');
      assert.deepEqual(disconnects, []);
      sb.to('lobby').emit('news', 'while offline');
      const news = new Promise((resolve) => client.once('news', resolve));
      const back = nextConnect(client);
      online = true;
      target.dispatchEvent(new Event('online'));
      assert.deepEqual(await back, { resumed: true });
      assert.equal(client.id, id);
      assert.equal(await news, 'while offline');

      client.close();
      await eventually(() => sb.sessionCount === 0, 'close() to end the session at once');
      assert.deepEqual(disconnects, ['client_disconnect']);
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });
});

describe('reliable publishes on the real server', { timeout: 30_000 }, () => {
  async function orderServer(): Promise<{ sb: Switchboard; port: number; runs: string[] }> {
    const { sb, port } = await startServer();
    const runs: string[] = [];
    sb.on('connection', (socket: Socket) => {
      socket.on('order', async (item: string) => {
        runs.push(item);
        await delay(100);
        return { id: runs.length, item };
      });
    });
    return { sb, port, runs };
  }

  test('the link is cut between send and ack: the handler runs once and the promise resolves with its reply', async () => {
    const { sb, port, runs } = await orderServer();
    const proxy = await Proxy.start(port);
    const client = connect(proxy.url, fastReconnect);
    try {
      await nextConnect(client);
      const tea = client.reliable.emit('order', 'tea');
      await eventually(() => runs.length === 1, 'the handler to start');
      const back = nextConnect(client);
      proxy.cut(); // the reply is written after the cut: the server keeps it for the resume
      await delay(30);
      proxy.heal();
      assert.deepEqual(await back, { resumed: true });
      assert.deepEqual(await tea, { id: 1, item: 'tea' });
      // A fence: the client re-sends what is unacknowledged first, so a second run of the re-send would start before this one.
      await client.reliable.emit('order', 'fence');
      assert.deepEqual(runs, ['tea', 'fence'], 'the re-send was answered from the dedupe window, not run again');
    } finally {
      client.close();
      await proxy.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('the publish is lost on the way: the re-send after the resume runs the handler, once', async () => {
    const { sb, port, runs } = await orderServer();
    const proxy = await Proxy.start(port);
    const client = connect(proxy.url, fastReconnect);
    try {
      await nextConnect(client);
      assert.deepEqual(await client.reliable.emit('order', 'tea'), { id: 1, item: 'tea' });
      proxy.stall();
      const cake = client.reliable.emit('order', 'cake');
      await delay(30);
      assert.deepEqual(runs, ['tea'], 'the frame never reached the server');
      const back = nextConnect(client);
      proxy.cut();
      await eventually(() => sb.connectionCount === 0, 'the server to see the cut');
      proxy.heal();
      assert.deepEqual(await back, { resumed: true });
      assert.deepEqual(await cake, { id: 2, item: 'cake' });
      await client.reliable.emit('order', 'fence'); // a fence: a second run of cake would start before it
      assert.deepEqual(runs, ['tea', 'cake', 'fence']);
    } finally {
      client.close();
      await proxy.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('the server restarted meanwhile: resumed false, the unacknowledged publish fails with unconfirmed, the never-sent one is delivered', async () => {
    const { sb: old, port } = await startServer();
    const oldRuns: string[] = [];
    // The old server never answers: the publish is sent and never acknowledged.
    old.on('connection', (socket: Socket) =>
      socket.on('order', (item: string) => {
        oldRuns.push(item);
        return new Promise(() => {});
      }),
    );
    const proxy = await Proxy.start(port);
    const client = connect(proxy.url, fastReconnect);
    let restarted: Switchboard | undefined;
    try {
      await nextConnect(client);
      const id = client.id;
      const sent = client.reliable.emit('order', 'sent');
      await eventually(() => oldRuns.length === 1, 'the old server to get the publish');
      proxy.cut(); // the process dies: no close frame
      await old.close({ deadline: 0 });
      const unsent = client.reliable.emit('order', 'unsent');

      restarted = new Switchboard(port);
      await restarted.ready();
      const runs: string[] = [];
      restarted.on('connection', (socket: Socket) =>
        socket.on('order', (item: string) => {
          runs.push(item);
          return { id: runs.length, item, server: 'new' };
        }),
      );
      const back = nextConnect(client);
      proxy.heal();
      assert.deepEqual(await back, { resumed: false });
      assert.notEqual(client.id, id, 'a new session');
      await assert.rejects(sent, (e: { code?: string; message?: string }) => e.code === 'unconfirmed' && /session it was sent in is lost.*whether the server's handler ran/.test(e.message ?? ''));
      assert.deepEqual(await unsent, { id: 1, item: 'unsent', server: 'new' });
      await client.reliable.emit('order', 'fence'); // a fence: anything the client sends again goes before it
      assert.deepEqual(runs, ['unsent', 'fence'], 'the unconfirmed publish is not sent to the new session');
    } finally {
      client.close();
      await proxy.close();
      await old.close({ deadline: 0 });
      await restarted?.close({ deadline: 50 });
    }
  });
});
