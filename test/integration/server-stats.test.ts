/**
 * Switchboard.stats() against known traffic on real sockets: connections by transport,
 * broadcasts and their deliveries, frames and bytes out, handshakes, recoveries, refusals by
 * code (with the recent ones, never a token), slow consumers, the request histogram and the
 * busiest rooms.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { REQUEST_LATENCY_BUCKETS, ReplyError, type Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { httpRequest, pollingHandshake, RawEngineSocket } from '../helpers/engine-io-raw.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;
interface Pos {
  epoch: string;
  offset: number;
}

const servers: Switchboard[] = [];
const clients: { close(): void }[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((sb) => sb.close()));
});

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<{ sb: Switchboard; url: string; port: number }> {
  const started = await startServer(options);
  servers.push(started.sb);
  return started;
}

async function bare(url: string, hello: Frame = {}, headers?: Record<string, string>): Promise<{ c: BareClient; welcome: Frame }> {
  const c = await BareClient.open(url, 'switchboard.v1', headers);
  clients.push(c);
  return { c, welcome: await c.hello(hello) };
}

async function join(c: BareClient, ref: number, room: string, since?: Pos): Promise<Frame> {
  c.send({ type: 'join', ref, room, ...(since && { since }) });
  return (await c.next({ type: 'reply', ref })).data as Frame;
}

describe('Switchboard.stats()', () => {
  test('3 WebSocket clients and 1 SSE client in a room, 5 broadcasts: exact broadcasts, deliveries, frames and bytes out; gauges by transport', async () => {
    const { sb, url } = await server({ transports: ['websocket', 'sse'] });
    const natives = [];
    for (let i = 0; i < 3; i++) {
      const { c } = await bare(url);
      await join(c, 1, 'r');
      natives.push(c);
    }
    await join(natives[0] as BareClient, 2, 'small');
    await join(natives[1] as BareClient, 2, 'small');
    await join(natives[0] as BareClient, 3, 'tiny');
    const sse: SwitchboardClient = connect(url, { transports: ['sse'] });
    clients.push(sse);
    const got: unknown[] = [];
    sse.on('tick', (n) => got.push(n));
    await sse.join('r');
    await eventually(() => sb.sockets.rooms.size('r') === 4, 'four members of r');

    const before = sb.stats();
    assert.deepEqual(before.connections, { websocket: 3, sse: 1 });
    assert.deepEqual(before.sessions, { connected: 4, waiting: 0 });
    assert.equal(before.rooms, 3, 'r, small and tiny (sockets\' own rooms are not counted)');
    assert.equal(before.handshakes.new, 4);
    assert.ok(before.frames.in >= 3 * 2 + 3 + 2, 'at least the bare clients\' hellos and joins');

    let bytes = 0;
    for (let n = 0; n < 5; n++) {
      sb.to('r').emit('tick', n);
      bytes += 4 * Buffer.byteLength(JSON.stringify({ type: 'event', event: 'tick', data: n, room: 'r' }));
    }
    for (const c of natives) await eventually(() => c.frames.filter((f) => f.event === 'tick').length === 5, 'five ticks on a WebSocket');
    await eventually(() => got.length === 5, 'five ticks over SSE');

    const now = sb.stats();
    assert.equal(now.broadcasts - before.broadcasts, 5);
    assert.equal(now.deliveries - before.deliveries, 20, 'a broadcast counts once per recipient');
    assert.equal(now.frames.out - before.frames.out, 20);
    assert.equal(now.bytes.out - before.bytes.out, bytes, 'payload bytes of every frame handed to a connection');
    assert.deepEqual(
      sb.stats({ rooms: 2 }).busiestRooms,
      [
        { namespace: '/', room: 'r', members: 4 },
        { namespace: '/', room: 'small', members: 2 },
      ],
    );
    assert.deepEqual(now.busiestRooms, [], 'none unless asked for');
    assert.equal(now.nodeId, sb.cluster.nodeId);
    assert.deepEqual(now.cluster, { nodes: 1, busMessages: 0, busLagSecondsSum: 0, busLagSecondsLast: 0, errors: 0 }, 'the memory adapter: one node');
    assert.ok(now.uptimeSeconds >= 0);
  });

  test('refusals by code: origin, message_too_big, rate_limited, middleware — counted and kept, never a token', async () => {
    const { sb, url } = await server({ allowedOrigins: ['https://good.example'], maxMessageBytes: 1024, frameRate: { perSecond: 1, burst: 1 } });
    sb.use((socket, next) => {
      const auth = socket.handshake.auth as { user?: string } | undefined;
      next(auth?.user === 'mallory' ? new ReplyError('unauthorized', 'not you') : undefined);
    });
    sb.on('connection', (socket) => socket.on('ask', () => 'ok'));
    sb.on('connection_error', () => {});

    const evil = await BareClient.open(url, 'switchboard.v1', { Origin: 'https://evil.example' });
    clients.push(evil);
    assert.equal((await evil.closed).code, 1008);

    const big = await bare(url, { auth: { user: 'ada', token: 'SECRET-TOKEN-1' } });
    big.c.send('x'.repeat(2000));
    assert.equal((await big.c.closed).code, 1009);

    const flood = await bare(url, { auth: { user: 'bob', token: 'SECRET-TOKEN-2' } });
    for (let ref = 1; ref <= 4; ref++) flood.c.send({ type: 'event', event: 'ask', ref });
    await flood.c.next((f) => f.type === 'reply' && (f.error as Frame | undefined)?.code === 'rate_limited');

    const mallory = await BareClient.open(url);
    clients.push(mallory);
    mallory.send({ type: 'hello', v: 1, auth: { user: 'mallory', token: 'SECRET-TOKEN-3' } });
    assert.equal((await mallory.next({ type: 'error' })).code, 'unauthorized');

    await eventually(() => (sb.stats().refusals.message_too_big ?? 0) === 1, 'the 1009 to be counted');
    const { refusals, recentRefusals } = sb.stats();
    assert.equal(refusals.origin_not_allowed, 1);
    assert.equal(refusals.message_too_big, 1);
    assert.ok((refusals.rate_limited ?? 0) >= 1);
    assert.equal(refusals.unauthorized, 1);
    const codes = recentRefusals.map((r) => r.code);
    for (const code of ['origin_not_allowed', 'message_too_big', 'rate_limited', 'unauthorized']) assert.ok(codes.includes(code), code);
    assert.equal(codes[0], 'origin_not_allowed', 'oldest first');
    const origin = recentRefusals.find((r) => r.code === 'origin_not_allowed');
    assert.equal(origin?.origin, 'https://evil.example');
    assert.equal(origin?.transport, 'websocket');
    assert.equal(recentRefusals.find((r) => r.code === 'unauthorized')?.namespace, '/');
    assert.ok(!JSON.stringify(recentRefusals).includes('SECRET-TOKEN'), 'no token in the refusals');
  });

  test('Socket.IO messages over maxPayload: a polling body (413) and a WebSocket message (1009), counted with their transport and address; a refused origin counted as socket.io/polling', async () => {
    const { sb, port } = await server({ socketIo: true, allowedOrigins: ['https://good.example'] });
    const transports: string[] = [];
    sb.on('connection_error', (error) => transports.push(error.transport));
    const evil = await httpRequest(port, 'GET', '?EIO=4&transport=polling', undefined, { Origin: 'https://evil.example' });
    assert.equal(evil.status, 403);
    assert.deepEqual(transports, ['polling'], 'connection_error names the Engine.IO transport');
    assert.deepEqual(
      sb.stats().recentRefusals.map(({ code, transport, origin }) => ({ code, transport, origin })),
      [{ code: 'origin_not_allowed', transport: 'socket.io/polling', origin: 'https://evil.example' }],
    );
    const { open } = await pollingHandshake(port);
    const tooLong = '4' + 'x'.repeat(70_000); // over maxPayload, which is maxMessageBytes (64 KiB)
    const post = await httpRequest(port, 'POST', `?EIO=4&transport=polling&sid=${String(open.sid)}`, tooLong);
    assert.equal(post.status, 413);
    const { socket } = await RawEngineSocket.open(port);
    socket.send(tooLong);
    assert.equal(await socket.closed, 1009);
    await eventually(() => sb.stats().refusals.message_too_big === 2, 'both refusals to be counted');
    const refused = sb.stats().recentRefusals.filter((r) => r.code === 'message_too_big');
    assert.deepEqual(
      refused.map(({ transport, address }) => ({ transport, address })),
      [
        { transport: 'socket.io/polling', address: '127.0.0.1' },
        { transport: 'socket.io/websocket', address: '127.0.0.1' },
      ],
    );
  });

  test('authorization refusals: a join refused by authorizeJoin (forbidden or its own code), another user\'s room, a read, an event refused by authorize — counted by code, kept with the namespace', async () => {
    const { sb, url } = await server();
    const nsp = sb.of('/vaults');
    nsp.authorizeJoin((_socket, room) => {
      if (room === 'locked') throw new ReplyError('vault_locked', 'the vault is locked');
      return room !== 'vault';
    });
    nsp.authorize((_socket, event) => event !== 'withdraw');
    nsp.on('connection', (socket) => socket.on('withdraw', () => 'paid'));
    const { c } = await bare(url, { ns: '/vaults', auth: { token: 'SECRET-TOKEN-4' } });
    const refusedWith = async (frame: Frame): Promise<unknown> => {
      c.send({ ns: '/vaults', ...frame });
      return ((await c.next({ type: 'reply', ref: frame.ref })).error as Frame | undefined)?.code;
    };
    assert.equal(await refusedWith({ type: 'join', ref: 1, room: 'vault' }), 'forbidden');
    assert.equal(await refusedWith({ type: 'join', ref: 2, room: 'locked' }), 'vault_locked');
    assert.equal(await refusedWith({ type: 'join', ref: 3, room: '#user:someone-else' }), 'forbidden');
    assert.equal(await refusedWith({ type: 'history', ref: 4, room: 'vault' }), 'forbidden');
    assert.equal(await refusedWith({ type: 'event', ref: 5, event: 'withdraw', data: { amount: 100 } }), 'forbidden');
    c.send({ ns: '/vaults', type: 'join', ref: 6, room: 'lobby' });
    assert.equal((await c.next({ type: 'reply', ref: 6 })).error, undefined, 'an allowed join is no refusal');

    const { refusals, recentRefusals } = sb.stats();
    assert.deepEqual(refusals, { forbidden: 4, vault_locked: 1 });
    assert.equal(recentRefusals.length, 5);
    for (const r of recentRefusals) {
      assert.deepEqual(Object.keys(r).sort(), ['address', 'at', 'code', 'namespace', 'transport']);
      assert.equal(r.namespace, '/vaults');
      assert.equal(r.transport, 'websocket');
      assert.equal(r.address, '127.0.0.1');
    }
    assert.ok(!JSON.stringify(recentRefusals).includes('SECRET-TOKEN'));
  });

  test('the request histogram counts every answered request in cumulative buckets', async () => {
    const { sb, url } = await server();
    sb.on('connection', (socket) => socket.on('ask', async () => 'ok'));
    const { c } = await bare(url);
    for (let ref = 1; ref <= 3; ref++) c.send({ type: 'event', event: 'ask', ref });
    for (let ref = 1; ref <= 3; ref++) await c.next({ type: 'reply', ref });
    const { requests } = sb.stats();
    assert.equal(requests.count, 3);
    assert.equal(requests.buckets.length, REQUEST_LATENCY_BUCKETS.length);
    assert.equal(requests.buckets.at(-1), 3, 'every request took at most 10 s');
    for (let i = 1; i < requests.buckets.length; i++) assert.ok((requests.buckets[i] as number) >= (requests.buckets[i - 1] as number), 'cumulative');
    assert.ok(requests.sumSeconds >= 0 && requests.sumSeconds < 30);
  });

  test('a resume counts as resumed, and the waiting session as waiting', async () => {
    const { sb, url } = await server();
    const first = await bare(url);
    await join(first.c, 1, 'lobby');
    first.c.ws.terminate();
    await eventually(() => sb.connectionCount === 0, 'the server to notice the lost link');
    assert.deepEqual(sb.stats().sessions, { connected: 0, waiting: 1 });
    const again = await bare(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, true);
    const { handshakes, sessions } = sb.stats();
    assert.deepEqual(handshakes, { new: 1, resumed: 1, restored: 0 });
    assert.deepEqual(sessions, { connected: 1, waiting: 0 });
  });

  test('durable joins with a position: recovered, and unrecovered past history', async () => {
    const { sb, url } = await server();
    sb.durable('feed', { maxMessages: 3 });
    for (let n = 1; n <= 10; n++) await sb.to('feed').publish('n', n);
    const probe = await bare(url);
    const epoch = ((await join(probe.c, 1, 'feed')).position as Pos).epoch;
    assert.deepEqual(sb.stats().recoveries, { recovered: 0, unrecovered: 0 }, 'a join without a position is no recovery');
    const recovered = await bare(url);
    assert.equal((await join(recovered.c, 1, 'feed', { epoch, offset: 8 })).recovered, true);
    const lost = await bare(url);
    assert.equal((await join(lost.c, 1, 'feed', { epoch, offset: 2 })).recovered, false);
    assert.deepEqual(sb.stats().recoveries, { recovered: 1, unrecovered: 1 });
    const before = sb.stats();
    await sb.to('feed').publish('n', 11);
    await eventually(() => sb.stats().deliveries - before.deliveries === 3, 'the publication handed to the three members');
    assert.equal(sb.stats().broadcasts - before.broadcasts, 1, 'a durable publication is one broadcast');
  });

  test('a consumer too slow for a durable room counts once as a slow consumer', async () => {
    const { sb, url } = await server({ maxBufferedBytes: 64 * 1024 });
    sb.durable('firehose');
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (r) => reasons.push(r)));
    const { c } = await bare(url);
    await join(c, 1, 'firehose');
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const blob = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 400 && reasons.length === 0; i++) await sb.to('firehose').publish('blob', blob);
    await eventually(() => reasons.includes('slow_consumer'), 'the slow consumer to be cut off');
    assert.equal(sb.stats().slowConsumers, 1);
    c.ws.terminate();
  });
});
