/**
 * The Socket.IO front door on a cluster of three processes on the real Redis
 * (docs/SOCKET-IO.md "Scale-out without sticky sessions" and "Connection state recovery"):
 * unchanged socket.io-clients, polling-only and WebSocket-only, reach the nodes through a
 * round-robin TCP balancer with no sticky routing. Each HTTP request of socket.io-client in
 * Node is a TCP connection of its own, so a polling client's requests land on any node and
 * are relayed to the one holding its connection. A node is killed with SIGKILL while
 * numbered messages are published to a durable room: its clients come back on another node
 * with the same socket, `recovered`, and every client has every message once and in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { Emitter } from '../../src/cluster/redis/index.js';
import { Balancer } from '../helpers/balancer.js';
import { type ClusterProcess, startNodes } from '../helpers/cluster-processes.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/server.js';

type Kind = 'polling' | 'websocket';

/** Short heartbeats: a client whose node died hears so within pingInterval + pingTimeout. */
const SOCKET_IO = { recovery: true, pingInterval: 500, pingTimeout: 1500 };
const FEED = 'feed:sio';
const PLAIN = 'plain';

/** Real time for what must NOT happen to have had its chance (a second copy, a disconnect). */
const settle = (ms = 300): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One socket.io-client and everything it saw. */
interface Tracked {
  socket: ClientSocket;
  kind: Kind;
  /** The node that took its CONNECT, and its socket id there. */
  node: string;
  id: string;
  numbers: number[];
  /** The extra last argument of each durable event (recovery's offset). */
  offsets: unknown[];
  plain: unknown[];
  connects: { id: string | undefined; recovered: boolean }[];
  disconnects: string[];
}

interface Entered {
  id: string;
  node: string;
}

interface RemoteSocket {
  id: string;
  name: string;
  rooms: string[];
}

describe('Socket.IO clients on a cluster of three processes, behind a non-sticky balancer', () => {
  let redis: Redis;
  const prefix = testPrefix('socketio-cluster');
  let nodes: ClusterProcess[] = [];
  let balancer: Balancer;
  let emitter: Emitter;
  const clients: Tracked[] = [];
  /** The clients of the node the kill test killed (for the test after it). */
  let recoveredElsewhere: Tracked[] = [];

  /** A socket.io-client on the balancer, connected, in `rooms` (joined by the server's `enter` handler). */
  async function client(kind: Kind, rooms: string[]): Promise<Tracked> {
    const socket = io(`http://127.0.0.1:${balancer.port}`, {
      transports: [kind],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 300,
      timeout: 5000,
    });
    const tracked: Tracked = { socket, kind, node: '', id: '', numbers: [], offsets: [], plain: [], connects: [], disconnects: [] };
    clients.push(tracked);
    socket.on('connect', () => tracked.connects.push({ id: socket.id, recovered: socket.recovered }));
    socket.on('disconnect', (reason) => tracked.disconnects.push(reason));
    socket.on('n', (n: number, offset: unknown) => {
      tracked.numbers.push(n);
      tracked.offsets.push(offset);
    });
    socket.on('p', (data: unknown) => tracked.plain.push(data));
    const entered = (await socket.timeout(10_000).emitWithAck('enter', rooms)) as Entered;
    tracked.node = entered.node;
    tracked.id = entered.id;
    assert.equal(socket.id, entered.id, 'the client and the server agree on socket.id');
    return tracked;
  }

  /** How many requests each node relayed to another so far (the fixture prints one line each). */
  function relayed(method: 'GET' | 'POST'): number {
    return nodes.reduce((sum, n) => sum + (n.output.match(new RegExp(`RELAYED ${method}`, 'g'))?.length ?? 0), 0);
  }

  before(async () => {
    redis = await connectRedis();
    nodes = await startNodes(['a', 'b', 'c'], { redisUrl: REDIS_URL, prefix, socketIo: SOCKET_IO });
    balancer = await Balancer.start(nodes.map((n) => n.port));
    emitter = new Emitter(REDIS_URL, { prefix }).durable(/^feed/, { maxMessages: 10_000, maxAge: 600_000 });
  });

  after(async () => {
    for (const c of clients) c.socket.close();
    await emitter.close();
    await balancer.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await dropKeys(redis, prefix);
    redis.disconnect();
    for (const n of nodes) assert.doesNotMatch(n.output, /^ERROR /m, `node ${n.name} reported an error:\n${n.output}`);
  });

  test('polling clients work with every request sent to any node: requests relayed, acks, broadcasts in order, heartbeats', { timeout: 60_000 }, async () => {
    const before = { get: relayed('GET'), post: relayed('POST') };
    const polling = await Promise.all(Array.from({ length: 4 }, () => client('polling', ['plain2'])));
    // Acks come from the node holding the connection, whichever node each request reached.
    for (const c of polling) {
      for (let i = 0; i < 15; i++) assert.equal(await c.socket.timeout(5000).emitWithAck('whoami'), c.node);
    }
    const heard = polling.map(() => [] as unknown[]);
    polling.forEach((c, i) => c.socket.on('hi', (n: unknown) => heard[i]!.push(n)));
    for (let k = 1; k <= 10; k++) {
      const sender = polling[k % polling.length]!;
      assert.equal(await sender.socket.timeout(5000).emitWithAck('shout', { room: 'plain2', event: 'hi', data: k }), true);
    }
    for (const i of polling.keys()) await eventually(() => heard[i]!.length >= 10, `client ${i} heard ten broadcasts`, 10_000);
    // Several heartbeats (pingInterval 500 ms), every ping and pong relayed like the rest.
    await settle(4 * SOCKET_IO.pingInterval);
    for (const [i, c] of polling.entries()) {
      assert.deepEqual(heard[i], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `client ${i}: every broadcast, once, in order`);
      assert.deepEqual(c.disconnects, [], `client ${i} lost its connection`);
      assert.equal(c.connects.length, 1, `client ${i} connected again`);
      assert.equal(c.socket.io.engine.transport.name, 'polling');
    }
    assert.ok(relayed('GET') > before.get, 'no poll was relayed to the node holding its connection');
    assert.ok(relayed('POST') > before.post, 'no POST was relayed to the node holding its connection');
    for (const c of polling) c.socket.close();
  });

  test('a node killed with SIGKILL: its clients recover on another node, same socket.id; the durable room loses and repeats nothing', { timeout: 120_000 }, async (t) => {
    // Clients of both kinds, until one node holds at least one of each: that node dies.
    const members: Tracked[] = [];
    const holds = (name: string, kind: Kind): boolean => members.some((c) => c.node === name && c.kind === kind);
    const victim = (): ClusterProcess | undefined => nodes.find((n) => holds(n.name, 'polling') && holds(n.name, 'websocket'));
    for (let i = 0; i < 30 && (members.length < 6 || victim() === undefined); i++) {
      members.push(await client(i % 2 === 0 ? 'polling' : 'websocket', [FEED, PLAIN]));
    }
    const killed = victim();
    assert.ok(killed, `no node got a client of each kind: ${members.map((c) => `${c.kind}@${c.node}`).join(', ')}`);
    const doomed = members.filter((c) => c.node === killed.name);
    const survivors = nodes.filter((n) => n !== killed);

    await emitter.to(PLAIN).emit('p', 'before');
    for (const [i, c] of members.entries()) await eventually(() => c.plain.length === 1, `client ${i} got the ordinary room's event`, 5000);

    // Numbered messages to the durable room, steadily, from a publisher outside the nodes.
    const total = 300;
    let published = 0;
    const publishing = (async () => {
      for (let n = 1; n <= total; n++) {
        await emitter.to(FEED).publish('n', n);
        published = n;
        await settle(10);
      }
    })();
    await eventually(() => published >= 80, 'the first 80 publications', 10_000);
    const relayedBeforeKill = relayed('GET') + relayed('POST');
    await killed.kill();
    await publishing;

    for (const c of doomed) await eventually(() => c.connects.length >= 2, `${c.kind} client ${c.id} back after its node died`, 20_000);
    // A client short of messages fails below, with what it missed.
    await eventually(() => members.every((c) => c.numbers.length >= total), `every client got all ${total} messages`, 30_000).catch(() => {});
    await settle();
    const expected = Array.from({ length: total }, (_, k) => k + 1);
    for (const [i, c] of members.entries()) {
      const what: string = `client ${i} (${c.kind}, on ${c.node}${c.node === killed.name ? ', killed' : ''})`;
      const missing = expected.filter((n) => !c.numbers.includes(n));
      const logs = nodes.flatMap((n) => n.output.split('\n').filter((l) => l.includes(c.id) || /^(ERROR|REDIS) /.test(l)).map((l) => `${n.name}: ${l}`));
      const history = `missing ${JSON.stringify(missing)}; connects ${JSON.stringify(c.connects)}; disconnects ${JSON.stringify(c.disconnects)}; node logs ${JSON.stringify(logs)}`;
      assert.deepEqual(c.numbers, expected, `${what}: every durable message once and in order; ${history}`);
      assert.ok(c.offsets.every((o) => typeof o === 'string' && o.length > 0), `${what}: an offset with every event`);
      // Whoever lost a link (the victim's clients; a polling client whose request was on the
      // victim's way) came back to its own socket.
      for (const connect of c.connects.slice(1)) assert.deepEqual(connect, { id: c.id, recovered: true }, `${what}: reconnected as ${JSON.stringify(connect)}`);
      assert.equal(c.socket.id, c.id, `${what}: socket.id`);
      assert.equal(c.socket.io.engine.transport.name, c.kind, `${what}: transport`);
    }
    recoveredElsewhere = doomed;
    for (const c of doomed) {
      assert.ok(c.connects.length >= 2, 'the killed node\'s clients reconnected');
      assert.ok(c.disconnects.includes('transport close') || c.disconnects.includes('transport error') || c.disconnects.includes('ping timeout'), `disconnect reasons ${c.disconnects.join(', ')}`);
      const now = (await c.socket.timeout(5000).emitWithAck('whoami')) as string;
      assert.ok(survivors.some((n) => n.name === now), `${c.kind} client ${c.id} is on ${now}, not on a live node`);
    }
    assert.ok(relayedBeforeKill > 0, 'polling requests were relayed between nodes before the kill');
    t.diagnostic(`killed ${killed.name}: ${members.map((c) => `${c.kind}@${c.node}×${c.connects.length}`).join(' ')}; ${relayedBeforeKill} requests relayed before the kill`);

    // The sockets kept their rooms (an ordinary room's event reaches everyone once) and their data.
    await emitter.to(PLAIN).emit('p', 'after');
    for (const [i, c] of members.entries()) await eventually(() => c.plain.length >= 2, `client ${i} got the ordinary room's event after the kill`, 5000);
    await settle();
    for (const [i, c] of members.entries()) assert.deepEqual(c.plain, ['before', 'after'], `client ${i}: the ordinary room's events`);
    const asker = members.find((c) => c.node !== killed.name) as Tracked;
    const listed = (await asker.socket.timeout(5000).emitWithAck('sockets', { room: FEED })) as RemoteSocket[];
    assert.deepEqual(listed.map((s) => s.id).sort(), members.map((c) => c.id).sort(), 'fetchSockets lists every client once, on live nodes');
    for (const c of members) {
      const remote = listed.find((s) => s.id === c.id) as RemoteSocket;
      assert.ok(remote.rooms.includes(FEED) && remote.rooms.includes(PLAIN), `rooms of ${c.id}: ${remote.rooms.join(', ')}`);
      assert.equal(remote.name, c.node, `socket.data of ${c.id} is what its first node set`);
    }
  });

  test('a socket taken over by another node runs `connection` there once more, with socket.recovered (SOCKET-IO.md "Connection state recovery")', () => {
    assert.ok(recoveredElsewhere.length > 0, 'the kill test ran first and recovered clients elsewhere');
    for (const c of recoveredElsewhere) {
      const events = nodes.flatMap((n) => [...n.output.matchAll(new RegExp(`^CONNECTION ${c.id} (\\w+)$`, 'gm'))].map((m) => `${n.name}:${m[1]}`));
      // The guide: on the node that takes it over, the connection listeners run again with socket.recovered true; no middleware.
      assert.equal(events[0], `${c.node}:new`, `connection events for ${c.kind} client ${c.id}: ${events.join(', ')}`);
      assert.ok(events.length >= 2, `the takeover ran connection again: ${events.join(', ')}`);
      for (const later of events.slice(1)) assert.match(later, /:recovered$/, `connection events for ${c.kind} client ${c.id}: ${events.join(', ')}`);
    }
  });
});
