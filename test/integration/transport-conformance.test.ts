/**
 * One conformance suite, run against every transport: the same frames and semantics
 * whether WebSocket, Server-Sent Events or long-polling carries the session. Each run
 * restricts both sides to one transport, so nothing can quietly use another.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { ReplyError, type Socket, Switchboard } from '../../src/server/index.js';
import type { StreamPosition } from '../../src/protocol/frames.js';
import { eventually, startServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const TRANSPORTS = ['websocket', 'sse', 'polling'] as const;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const HEARTBEAT = { interval: 100, timeout: 1000 };

function connected(client: SwitchboardClient): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve) => client.once('connect', () => resolve()));
}

for (const kind of TRANSPORTS) {
  describe(`transport conformance: ${kind}`, { timeout: 60_000 }, () => {
    let sb: Switchboard;
    let port: number;
    let url: string;
    const sockets: Socket[] = [];
    const clients: SwitchboardClient[] = [];

    before(async () => {
      // A short interval: the suite sees pings and pongs cross this transport many times. A
      // timeout long enough that a stall of a loaded machine is not taken for silence.
      ({ sb, port, url } = await startServer({ transports: [kind], heartbeat: HEARTBEAT, polling: { hold: 400 } }));
      sb.durable('ticker');
      sb.on('connection', (socket) => {
        sockets.push(socket);
        socket.on('echo', (data: unknown) => data);
        socket.on('slow', async (ms: number) => {
          await delay(ms);
          return `after ${ms} ms`;
        });
        socket.on('fail', () => {
          throw new ReplyError('teapot', 'refused on purpose');
        });
      });
    });

    after(async () => {
      for (const client of clients) client.close();
      await sb.close({ deadline: 50 });
    });

    function open(options: Parameters<typeof connect>[1] = {}, target = url): SwitchboardClient {
      const client = connect(target, { transports: [kind], reconnect: { delay: 20, maxDelay: 100 }, ...options });
      clients.push(client);
      return client;
    }

    test('handshake: both sides say which transport carries the session', async () => {
      const client = open();
      await connected(client);
      assert.equal(client.transport, kind);
      const socket = sockets.find((s) => s.id === client.id);
      assert.equal(socket?.transport, kind);
    });

    test('events both ways, requests both ways, errors and timeouts', async () => {
      const client = open();
      await connected(client);
      const socket = sockets.find((s) => s.id === client.id) as Socket;
      assert.deepEqual(await client.emitWithAck('echo', { text: 'héllo ✓', n: [1, 2] }), { text: 'héllo ✓', n: [1, 2] });
      assert.equal(await client.emitWithAck('slow', 50), 'after 50 ms');
      await assert.rejects(client.emitWithAck('fail', null), (err: { code?: string }) => err.code === 'teapot');
      await assert.rejects(client.emitWithAck('nobody-listens', null), (err: { code?: string }) => err.code === 'no_handler');

      const got: unknown[] = [];
      client.on('news', (data: unknown) => {
        got.push(data);
      });
      for (let n = 1; n <= 50; n++) socket.emit('news', n);
      await eventually(() => got.length === 50, 'fifty events');
      assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i + 1), 'in order, once each');

      client.on('question', (q: string) => `answer to ${q}`);
      assert.equal(await socket.emitWithAck('question', 'life'), 'answer to life');
      client.on('never', () => new Promise(() => {}));
      await assert.rejects(socket.emitWithAck('never', null, { timeout: 100 }), (err: { code?: string }) => err.code === 'timeout');
    });

    test('rooms: a broadcast reaches the room and no one else', async () => {
      const inRoom = open();
      const outside = open();
      await Promise.all([connected(inRoom), connected(outside)]);
      await inRoom.join('lobby');
      const seen: string[] = [];
      inRoom.on('said', (text: string) => {
        seen.push(`in:${text}`);
      });
      outside.on('said', (text: string) => {
        seen.push(`out:${text}`);
      });
      sb.to('lobby').emit('said', 'hi');
      // A fence instead of a wait: each connection is ordered, so a client that got the later
      // broadcast to everyone would have got the room's first.
      sb.emit('said', 'fence');
      await eventually(() => seen.includes('in:fence') && seen.includes('out:fence'), 'the broadcast to everyone');
      assert.deepEqual(seen.filter((s) => s !== 'in:fence' && s !== 'out:fence'), ['in:hi']);
    });

    test('durable rooms: publications carry positions; a join since a position recovers what was missed', async () => {
      const client = open();
      await connected(client);
      await client.join('ticker');
      const seen: number[] = [];
      let last: StreamPosition | undefined;
      client.on('tick', (n: number, meta) => {
        seen.push(n);
        last = meta.position;
      });
      const published = await sb.to('ticker').publish('tick', 1);
      await eventually(() => seen.length === 1, 'the first publication');
      assert.deepEqual(last, published, 'the event carries its position');
      await client.leave('ticker');
      await sb.to('ticker').publish('tick', 2);
      await sb.to('ticker').publish('tick', 3);
      const again = await client.join('ticker', { since: last });
      assert.equal(again.recovered, true);
      await eventually(() => seen.length === 3, 'the missed publications');
      assert.deepEqual(seen, [1, 2, 3]);
    });

    test('heartbeats: an idle session stays up across many ping intervals', async () => {
      const client = open();
      await connected(client);
      const id = client.id;
      const states: string[] = [];
      client.on('state', (s: { state: string }) => states.push(s.state));
      // Real time must pass here (the clock-driven check is test/unit/heartbeat-sweeper.test.ts):
      // longer than interval + timeout, so a session whose pongs got lost would have been dropped.
      await delay(HEARTBEAT.interval + HEARTBEAT.timeout + 400);
      assert.equal(client.connected, true);
      assert.equal(client.id, id);
      assert.deepEqual(states, [], 'no reconnect');
    });

    test('limits: a client paces itself under the announced frame rate, and nothing is refused', async () => {
      // A burst of two seconds' worth: the server counts frames as it reads them, so a loaded
      // machine that stalls either side bunches evenly paced frames; the burst absorbs that.
      // 150 frames still outrun the burst, so pacing is what keeps them all accepted.
      const { sb: limited, url: limitedUrl } = await startServer({ transports: [kind], frameRate: { perSecond: 50, burst: 100 } });
      try {
        const handled: number[] = [];
        limited.on('connection', (socket) => socket.on('n', (n: number) => handled.push(n)));
        const client = open({}, limitedUrl);
        await connected(client);
        const replies = await Promise.all(Array.from({ length: 150 }, (_, i) => client.emitWithAck('n', i + 1)));
        assert.equal(replies.length, 150);
        assert.deepEqual(handled, Array.from({ length: 150 }, (_, i) => i + 1));
      } finally {
        await limited.close({ deadline: 50 });
      }
    });

    test('a server disconnect reaches the client with its reason', async () => {
      const client = open({ reconnect: false });
      await connected(client);
      const socket = sockets.find((s) => s.id === client.id) as Socket;
      const reason = new Promise((resolve) => client.once('disconnect', (why: unknown) => resolve(why)));
      socket.disconnect(true);
      assert.equal(await reason, 'server_disconnect');
    });

    test('a cut network: the session resumes on a new connection; events sent meanwhile arrive once, in order; a reliable publish runs once', async () => {
      const proxy = await TcpProxy.start(port);
      try {
        const runs: number[] = [];
        sb.on('connection', (socket) => socket.on('order', (n: number) => {
          runs.push(n);
          return n;
        }));
        const client = open({}, proxy.url());
        await connected(client);
        const id = client.id;
        await client.join('resume-room');
        const got: number[] = [];
        client.on('r', (n: number) => {
          got.push(n);
        });
        sb.to('resume-room').emit('r', 1);
        await eventually(() => got.length === 1, 'the first event');

        proxy.refuse(true);
        proxy.cutAll();
        await eventually(() => sb.connectionCount === 0 || !client.connected, 'the cut to be noticed');
        for (const n of [2, 3, 4]) sb.to('resume-room').emit('r', n);
        const published = client.reliable.emit('order', 7);
        await delay(100);
        proxy.refuse(false);

        assert.equal(await published, 7);
        sb.to('resume-room').emit('r', 5);
        await eventually(() => got.length >= 5, 'the events sent during the cut and after');
        sb.to('resume-room').emit('r', 6); // a fence: a repeat of anything earlier would come before it
        await eventually(() => got.includes(6), 'the fence');
        assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
        assert.equal(client.id, id, 'the same session');
        assert.deepEqual(runs, [7], 'the reliable publish ran once');
      } finally {
        await proxy.close();
      }
    });
  });
}
