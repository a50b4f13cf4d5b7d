/**
 * The SDK paces its frames by the limits the real server announces in `welcome.limits`:
 * a reconnect that rejoins many rooms and sends what waited, or an app emitting in a loop,
 * never gets `rate_limited`, `overloaded` or the 1008 close.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type StateChange, type SwitchboardClient } from '../../src/client/node.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { type Socket, Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** What a server instance saw: its latest socket, the notes and publishes handled, in order. */
interface Seen {
  socket: Socket | undefined;
  notes: number[];
  pubs: number[];
  /** Rooms the socket was in (its private room not counted) when the first note arrived. */
  roomsAtFirstNote: number | undefined;
}

async function serve(port: number, options: SwitchboardOptions, setup?: (sb: Switchboard) => void): Promise<{ sb: Switchboard; seen: Seen }> {
  const sb = new Switchboard(port, options);
  await sb.ready();
  const seen: Seen = { socket: undefined, notes: [], pubs: [], roomsAtFirstNote: undefined };
  sb.on('connection', (socket: Socket) => {
    seen.socket = socket;
    socket.on('note', (n: number) => {
      seen.roomsAtFirstNote ??= socket.rooms.size - 1;
      seen.notes.push(n);
    });
    socket.on('pub', (n: number) => {
      seen.pubs.push(n);
      return n;
    });
  });
  setup?.(sb);
  return { sb, seen };
}

/** Everything the app could see go wrong. */
function watch(client: SwitchboardClient): { errors: unknown[]; changes: StateChange[] } {
  const watched = { errors: [] as unknown[], changes: [] as StateChange[] };
  client.on('error', (err) => watched.errors.push(err));
  client.on('state', (change) => watched.changes.push(change));
  return watched;
}

function assertNeverStopped(changes: StateChange[]): void {
  const limitCodes = new Set(['rate_limited', 'overloaded', 'too_many_rooms', 'too_many_pending']);
  const bad = changes.filter((c) => c.state === 'disconnected' || c.closeCode === 1008 || limitCodes.has(c.error?.code ?? ''));
  assert.deepEqual(bad, [], 'never stopped, never closed for a limit');
}

/** A loopback port that was free a moment ago, for a server restarted on the same port. */
async function freePort(): Promise<number> {
  const { sb, port } = await startServer();
  await sb.close();
  return port;
}

describe('welcome.limits', () => {
  test('announces the frame rate, the queue bound, pending requests, rooms, the dedupe window and what is kept for a resume', async () => {
    const { sb, url } = await startServer();
    const { sb: custom, url: customUrl } = await startServer({
      frameRate: { perSecond: 7, burst: 9 },
      maxQueuedFrames: 12,
      maxPendingRequests: 3,
      maxRoomsPerSocket: 4,
      dedupeWindow: 50,
      maxMessageBytes: 2048,
      resume: { maxUnackedFrames: 40, maxUnackedBytes: 8192, ttl: 30000, maxLogBytes: 1 << 20 },
    });
    const { sb: open, url: openUrl } = await startServer({ frameRate: false, maxPendingRequests: Infinity, maxRoomsPerSocket: Infinity, resume: false });
    const clients: BareClient[] = [];
    try {
      const limitsOf = async (at: string): Promise<unknown> => {
        const c = await BareClient.open(at);
        clients.push(c);
        return (await c.hello()).limits;
      };
      assert.deepEqual(await limitsOf(url), {
        maxMessageBytes: 65536,
        frameRate: { perSecond: 100, burst: 200 },
        maxQueuedFrames: 256,
        maxPendingRequests: 100,
        maxRoomsPerSocket: 1000,
        dedupeWindow: 1000,
        maxUnackedFrames: 1000,
        maxUnackedBytes: 1024 * 1024,
        resumeTtl: 120000,
        resumeLogBytes: 64 * 1024 * 1024,
      });
      assert.deepEqual(await limitsOf(customUrl), {
        maxMessageBytes: 2048,
        frameRate: { perSecond: 7, burst: 9 },
        maxQueuedFrames: 12,
        maxPendingRequests: 3,
        maxRoomsPerSocket: 4,
        dedupeWindow: 50,
        maxUnackedFrames: 40,
        maxUnackedBytes: 8192,
        resumeTtl: 30000,
        resumeLogBytes: 1 << 20,
      });
      // No limit is null: JSON has no Infinity.
      assert.deepEqual(await limitsOf(openUrl), {
        maxMessageBytes: 65536,
        frameRate: null,
        maxQueuedFrames: 256,
        maxPendingRequests: null,
        maxRoomsPerSocket: null,
        dedupeWindow: 1000,
        // Sessions are not resumable: nothing is kept, nothing needs acknowledging.
        maxUnackedFrames: null,
        maxUnackedBytes: null,
        resumeTtl: null,
        resumeLogBytes: null,
      });
    } finally {
      for (const c of clients) c.close();
      await Promise.all([sb.close(), custom.close(), open.close()]);
    }
  });
});

describe('the SDK paces itself by the announced limits', { timeout: 90_000 }, () => {
  test('1000 rooms on a default server: back in all of them after a cut (resumed) and after a restart (new session), and the 100 emits and 100 reliable publishes that waited arrive once, in order, after the rejoins', async () => {
    const port = await freePort();
    let server = await serve(port, {});
    const proxy = await TcpProxy.start(port);
    const client = connect(proxy.url(), { reconnect: { delay: 10, maxDelay: 50 }, ackTimeout: 60_000 });
    const { errors, changes } = watch(client);
    const rooms = range(1000).map((i) => `room-${i}`);
    const inAllRooms = (): boolean => server.seen.socket?.connected === true && server.seen.socket.rooms.size === rooms.length + 1;
    try {
      await eventually(() => client.connected, 'the client to connect');
      const joined = rooms.map((room) => client.join(room).then(() => undefined, (err: unknown) => err));

      // A cut while the joins are still being paced out: the session resumes and the joins go on.
      await eventually(() => (server.seen.socket?.rooms.size ?? 0) > 300, 'some of the joins to land', 10_000);
      const id = client.id;
      const back = new Promise((resolve) => client.once('connect', resolve));
      assert.equal(proxy.cutAll(), 1);
      assert.deepEqual(await back, { resumed: true });
      assert.equal(client.id, id);
      await eventually(inAllRooms, 'the socket to be in all 1000 rooms', 20_000);
      assert.deepEqual((await Promise.all(joined)).filter((e) => e !== undefined), [], 'every join() resolved');

      // A restart: a new session, every room joined again; what the app sent meanwhile waits in order.
      const down = new Promise((resolve) => client.once('disconnect', resolve));
      await server.sb.close();
      await down;
      for (const n of range(100)) client.emit('note', n);
      const published = range(100).map((n) => client.reliable.emit('pub', n));
      const again = new Promise((resolve) => client.once('connect', resolve));
      server = await serve(port, {});
      assert.deepEqual(await again, { resumed: false });
      assert.deepEqual(await Promise.all(published), range(100));
      await eventually(() => server.seen.notes.length === 100 && inAllRooms(), 'the notes and the rejoins', 20_000);
      assert.deepEqual(server.seen.notes, range(100), 'every buffered emit once, in order');
      assert.deepEqual(server.seen.pubs, range(100), 'every reliable publish once, in order');
      assert.equal(server.seen.roomsAtFirstNote, 1000, 'the rooms were joined before the buffered emits went out');
      assert.equal(client.rooms.size, 1000);
      assert.deepEqual(errors, []);
      assertNeverStopped(changes);
    } finally {
      client.close();
      await proxy.close();
      await server.sb.close();
    }
  });

  test('a small rate, a small frame queue and an async authorizeJoin: a client in 100 rooms comes back into all of them', async () => {
    // The first instance has no rate limit, so the 100 rooms are joined fast; the restart brings the hard limits.
    const first = await startServer({ frameRate: false });
    const port = first.port;
    const client = connect(first.url, { reconnect: { delay: 10, maxDelay: 50 }, ackTimeout: 60_000 });
    const { errors, changes } = watch(client);
    const rooms = range(100).map((i) => `room-${i}`);
    let server: { sb: Switchboard; seen: Seen } | undefined;
    try {
      await Promise.all(rooms.map((room) => client.join(room)));
      const down = new Promise((resolve) => client.once('disconnect', resolve));
      await first.sb.close();
      await down;
      for (const n of range(20)) client.emit('note', n);
      const back = new Promise((resolve) => client.once('connect', resolve));
      // 30 frames/s, burst 10; at most 4 frames wait behind a join, and each join takes a while:
      // the 100 rejoins sent at once would be refused past 10 and close the connection past 4 queued.
      server = await serve(port, { frameRate: { perSecond: 30, burst: 10 }, maxQueuedFrames: 4 }, (sb) =>
        sb.sockets.authorizeJoin(async () => {
          await delay(20);
          return true;
        }),
      );
      const { seen } = server;
      assert.deepEqual(await back, { resumed: false });
      await eventually(() => seen.notes.length === 20 && seen.socket?.rooms.size === 101, 'the rejoins and the notes', 15_000);
      assert.equal(seen.roomsAtFirstNote, 100);
      assert.deepEqual(seen.notes, range(20));
      assert.deepEqual([...client.rooms].sort(), [...rooms].sort());
      assert.deepEqual(errors, []);
      assertNeverStopped(changes);
      assert.equal(client.connected, true);
    } finally {
      client.close();
      await first.sb.close();
      await server?.sb.close();
    }
  });

  test('an app emitting 1000 events in a loop: the burst goes at once, then the buffer fills and emit throws buffer_full; every accepted event arrives once, in order', async () => {
    const port = await freePort();
    const server = await serve(port, {});
    const client = connect(`ws://127.0.0.1:${port}/ws`, { reconnect: false });
    const { errors, changes } = watch(client);
    try {
      await eventually(() => client.connected, 'the client to connect');
      const accepted: number[] = [];
      const refused = new Map<number, string>();
      for (const n of range(1000)) {
        try {
          client.emit('note', n);
          accepted.push(n);
        } catch (err) {
          assert.ok(err instanceof SwitchboardError);
          refused.set(n, err.code);
        }
      }
      // Rate 100/s, burst 200 announced: the SDK sends ~180 at once and buffers 100 (bufferLimit) behind them.
      assert.ok(accepted.length >= 280 && accepted.length < 300, `accepted ${accepted.length}`);
      assert.deepEqual(accepted, range(accepted.length), 'once full, every later emit of the loop is refused');
      assert.deepEqual(new Set(refused.values()), new Set(['buffer_full']));
      await eventually(() => server.seen.notes.length === accepted.length, 'every accepted event to arrive', 10_000);
      assert.deepEqual(server.seen.notes, accepted, 'once each, in order');
      // The buffer drained: emit works again.
      client.emit('note', 1000);
      await eventually(() => server.seen.notes.at(-1) === 1000, 'an emit after the drain');
      assert.deepEqual(errors, []);
      assertNeverStopped(changes);
    } finally {
      client.close();
      await server.sb.close();
    }
  });
});
