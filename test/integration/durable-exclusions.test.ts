/**
 * Exclusions in durable rooms: `socket.to(room)`, `except(socketId)` and `except(room)` leave
 * members out of live delivery — they get a `position` frame instead, so their position still
 * moves past the publication — on one node and across nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { connect } from '../../src/client/node.js';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

interface Pos {
  epoch: string;
  offset: number;
}
type Frame = Record<string, unknown>;

/** A durable room 'chat' where a client's `say` is published to everyone but the sender. */
function chatServer(sb: Switchboard): void {
  sb.durable('chat');
  sb.on('connection', (socket) => {
    socket.on('say', async (text: unknown) => {
      await socket.to('chat').publish('msg', text);
      return 'ok';
    });
  });
}

async function member(url: string, rooms: string[]): Promise<BareClient & { sid: string }> {
  const c = await BareClient.open(url);
  const welcome = await c.hello();
  let ref = 0;
  for (const room of rooms) {
    c.send({ type: 'join', ref: ++ref, room });
    const reply = await c.next({ type: 'reply', ref });
    assert.equal(reply.error, undefined, `join ${room}: ${JSON.stringify(reply.error)}`);
  }
  return Object.assign(c, { sid: welcome.sid as string });
}

/** The room's frames a bare client got, as "event <offset>" or "position <offset>". */
function trail(c: BareClient): string[] {
  return c.frames.filter((f) => (f.type === 'event' || f.type === 'position') && f.room === 'chat').map((f) => `${f.type} ${(f.position as Pos).offset}`);
}

/**
 * Three members a, b, c (c also in 'muted'), on the nodes at `urls` (round robin): a says
 * something (socket.to leaves a out), a server leaves b out by socket id, another leaves the
 * members of 'muted' out, then one goes to everyone.
 */
async function exclusionsScenario(servers: Switchboard[], urls: string[]): Promise<void> {
  const node = (i: number): string => urls[i % urls.length] as string;
  const server = (i: number): Switchboard => servers[i % servers.length] as Switchboard;
  const a = await member(node(0), ['chat']);
  const b = await member(node(1), ['chat']);
  const c = await member(node(2), ['chat', 'muted']);

  a.send({ type: 'event', event: 'say', data: 'from a', ref: 50 });
  assert.equal((await a.next({ type: 'reply', ref: 50 })).data, 'ok');
  await server(2).to('chat').except(b.sid).publish('n', 2);
  await server(1).to('chat').except('muted').publish('n', 3);
  const last = await server(0).to('chat').publish('n', 4);
  for (const [name, m] of Object.entries({ a, b, c })) await eventually(() => trail(m).length === 4, `${name} to get all four`);

  assert.deepEqual(trail(a), ['position 1', 'event 2', 'event 3', 'event 4'], 'a (the sender)');
  assert.deepEqual(trail(b), ['event 1', 'position 2', 'event 3', 'event 4'], 'b (excepted by socket id)');
  assert.deepEqual(trail(c), ['event 1', 'event 2', 'position 3', 'event 4'], 'c (in the excepted room)');
  assert.deepEqual(
    a.frames.find((f) => f.type === 'position'),
    { type: 'position', room: 'chat', position: { epoch: last.epoch, offset: 1 } },
    'the position frame',
  );

  // The stream keeps every publication: history, and a replay to whoever asks from before one, include it.
  const probe = await BareClient.open(node(1));
  await probe.hello();
  probe.send({ type: 'history', ref: 1, room: 'chat', limit: 10 });
  const history = (await probe.next({ type: 'reply', ref: 1 })).data as { publications: Frame[] };
  assert.deepEqual(history.publications.map((p) => (p.position as Pos).offset), [1, 2, 3, 4]);
  probe.send({ type: 'join', ref: 2, room: 'chat', since: { epoch: last.epoch, offset: 2 } });
  const reply = (await probe.next({ type: 'reply', ref: 2 })).data as Frame;
  assert.equal(reply.recovered, true);
  assert.deepEqual(trail(probe), ['event 3', 'event 4'], 'a replay includes what live delivery left out');
  for (const m of [a, b, c, probe]) m.close();
}

describe('durable rooms: exclusions', () => {
  test('one node (memory adapter): socket.to, except(socket id) and except(room) leave members out of live delivery, with a position frame', async () => {
    const { sb, url } = await startServer();
    chatServer(sb);
    await exclusionsScenario([sb], [url]);
    await sb.close();
  });

  test('an SDK client left out by socket.to sees none of its own publications, and a new session rejoins from past them: recovered, no replay, no gap', async () => {
    const { sb, url, port } = await startServer({ resume: false });
    chatServer(sb);
    const proxy = await TcpProxy.start(port);
    const x = connect(proxy.url(), { reconnect: { delay: 50, maxDelay: 200 } });
    const y = connect(url);
    const seen: string[] = [];
    const recoveries: boolean[] = [];
    x.on('msg', (text: string) => void seen.push(text));
    x.on('recovery', (info) => void recoveries.push(info.recovered));
    await x.join('chat');
    await y.join('chat');

    await y.emitWithAck('say', 'y1');
    await eventually(() => seen.length === 1, 'x to get y1');
    await x.emitWithAck('say', 'x1');
    await y.emitWithAck('say', 'y2');
    await eventually(() => seen.length === 2, 'x to get y2');
    await x.emitWithAck('say', 'x2');
    await eventually(() => x.position('chat')?.offset === 4, 'x to track the position of its own last publication');

    // A new session (resume is off): the SDK rejoins with since = 4, past x2.
    const down = new Promise((resolve) => x.once('disconnect', resolve));
    proxy.cutAll();
    await down;
    await y.emitWithAck('say', 'y3');
    await eventually(() => recoveries.length === 1, 'x to rejoin');
    assert.deepEqual(recoveries, [true]);
    await x.emitWithAck('say', 'x3');
    await y.emitWithAck('say', 'y4');
    await eventually(() => seen.includes('y4'), 'x to get y4');
    assert.deepEqual(seen, ['y1', 'y2', 'y3', 'y4'], 'no own message, no repeat, no hole');
    assert.deepEqual(x.position('chat')?.offset, 7);
    x.close();
    y.close();
    await proxy.close();
    await sb.close();
  });

  describe('across nodes (Redis adapter, three nodes in one process)', () => {
    let redis: Redis;
    const prefix = testPrefix('durable-exclusions');
    const servers: Switchboard[] = [];
    const urls: string[] = [];
    before(async () => {
      redis = await connectRedis();
      for (let i = 0; i < 3; i++) {
        const { sb, url } = await startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
        chatServer(sb);
        servers.push(sb);
        urls.push(url);
      }
    });
    after(async () => {
      await Promise.all(servers.map((sb) => sb.close()));
      await dropKeys(redis, prefix);
      redis.disconnect();
    });

    test('socket.to, except(socket id on another node) and except(room) are honoured on every node', async () => {
      await exclusionsScenario(servers, urls);
    });

    test('an Emitter publication with except() is honoured too', async () => {
      const left = await member(urls[1] as string, ['chat']);
      const other = await member(urls[2] as string, ['chat']);
      const emitter = new Emitter(REDIS_URL, { prefix }).durable('chat');
      const position = await emitter.to('chat').except(left.sid).publish('n', 'not for left');
      await emitter.close();
      assert.deepEqual(await left.next({ type: 'position' }), { type: 'position', room: 'chat', position });
      assert.deepEqual((await other.next({ type: 'event' })).position, position);
      assert.equal(left.frames.some((f) => f.type === 'event'), false);
      left.close();
      other.close();
    });
  });
});
