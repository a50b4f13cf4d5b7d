import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStreamStore } from '../../src/delivery/memory-stream-store.js';
import type { Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

interface Pos {
  epoch: string;
  offset: number;
}
type Frame = Record<string, unknown>;

async function joined(url: string, room: string, since?: Pos): Promise<{ c: BareClient; reply: Frame }> {
  const c = await BareClient.open(url);
  await c.hello();
  c.send({ type: 'join', ref: 1, room, ...(since ? { since } : {}) });
  return { c, reply: (await c.next({ type: 'reply', ref: 1 })).data as Frame };
}

function events(c: BareClient): Frame[] {
  return c.frames.filter((f) => f.type === 'event');
}

async function publish(sb: Switchboard, room: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await sb.to(room).publish('n', n);
}

describe('durable rooms', () => {
  test('publications carry positions; a join reports the position; ordinary rooms are unchanged', async () => {
    const { sb, url } = await startServer();
    sb.durable(/^orders:/);
    const { c, reply } = await joined(url, 'orders:1');
    assert.equal(reply.durable, true);
    assert.equal((reply.position as Pos).offset, 0);
    assert.equal('recovered' in reply, false, 'recovered is only reported for a join with since');
    const epoch = (reply.position as Pos).epoch;

    const position = await sb.to('orders:1').publish('created', { id: 7 });
    assert.deepEqual(position, { epoch, offset: 1 });
    sb.to('orders:1').emit('paid', { id: 7 });
    const got = [await c.next({ event: 'created' }), await c.next({ event: 'paid' })];
    assert.deepEqual(got[0], { type: 'event', event: 'created', data: { id: 7 }, room: 'orders:1', position: { epoch, offset: 1 } });
    assert.deepEqual(got[1]?.position, { epoch, offset: 2 });

    c.send({ type: 'join', ref: 2, room: 'chat' });
    assert.deepEqual((await c.next({ ref: 2 })).data, { room: 'chat' });
    c.close();
    await sb.close();
  });

  test('rejoining with since replays exactly the gap, in order, before the reply, then goes live', async () => {
    const { sb, url } = await startServer();
    sb.durable('feed');
    await publish(sb, 'feed', 1, 5);
    const first = await joined(url, 'feed');
    const epoch = (first.reply.position as Pos).epoch;
    assert.equal((first.reply.position as Pos).offset, 5);
    first.c.close();

    await publish(sb, 'feed', 6, 9);
    const again = await joined(url, 'feed', { epoch, offset: 5 });
    assert.equal(again.reply.recovered, true);
    assert.deepEqual(again.reply.position, { epoch, offset: 9 });
    const replayed = events(again.c);
    assert.deepEqual(
      replayed.map((f) => [f.data, (f.position as Pos).offset]),
      [6, 7, 8, 9].map((n) => [n, n]),
    );
    assert.ok(again.c.frames.indexOf(replayed[3] as Frame) < again.c.frames.length, 'replay came first');
    again.c.frames.length = 0;
    await publish(sb, 'feed', 10, 10);
    assert.equal((await again.c.next({ type: 'event' })).data, 10);
    again.c.close();
    await sb.close();
  });

  test('a gap older than history, another epoch, or a future offset: recovered false and no replay at all', async () => {
    const { sb, url } = await startServer();
    sb.durable('small', { maxMessages: 3 });
    await publish(sb, 'small', 1, 10);
    const probe = await joined(url, 'small');
    const epoch = (probe.reply.position as Pos).epoch;
    probe.c.close();

    for (const since of [
      { epoch, offset: 5 }, // 6 is trimmed: only 8, 9, 10 remain
      { epoch: 'another-epoch', offset: 9 },
      { epoch, offset: 11 },
    ]) {
      const { c, reply } = await joined(url, 'small', since);
      assert.equal(reply.recovered, false, JSON.stringify(since));
      assert.deepEqual(reply.position, { epoch, offset: 10 });
      assert.deepEqual(events(c), [], 'never a partial replay');
      c.close();
    }
    const edge = await joined(url, 'small', { epoch, offset: 7 });
    assert.equal(edge.reply.recovered, true, 'the oldest kept entry follows directly');
    assert.deepEqual(
      events(edge.c).map((f) => f.data),
      [8, 9, 10],
    );
    edge.c.close();
    await sb.close();
  });

  test('history is bounded by age as well as count', async () => {
    let now = 1_000_000;
    const { sb, url } = await startServer({ streams: new MemoryStreamStore(() => now) });
    sb.durable('aging', { maxAge: 1000 });
    await publish(sb, 'aging', 1, 2);
    now += 2000;
    await publish(sb, 'aging', 3, 3);
    const h = await sb.history('aging');
    assert.deepEqual(
      h.publications.map((p) => p.data),
      [3],
    );
    const probe = await joined(url, 'aging', { epoch: h.position.epoch, offset: 1 });
    assert.equal(probe.reply.recovered, false);
    probe.c.close();
    await sb.close();
  });

  test('publications racing a join are neither lost nor duplicated', async () => {
    const { sb, url } = await startServer();
    sb.durable('race');
    await publish(sb, 'race', 1, 3);
    const probe = await joined(url, 'race');
    const epoch = (probe.reply.position as Pos).epoch;
    probe.c.close();
    const c = await BareClient.open(url);
    await c.hello();
    // Fire publications around the join without awaiting, so they interleave with it.
    const inFlight: Promise<unknown>[] = [];
    for (let n = 4; n <= 50; n++) {
      inFlight.push(sb.to('race').publish('n', n));
      if (n === 20) c.send({ type: 'join', ref: 1, room: 'race', since: { epoch, offset: 3 } });
    }
    await Promise.all(inFlight);
    assert.equal(((await c.next({ ref: 1 })).data as Frame).recovered, true);
    await eventually(() => events(c).length >= 47, 'all publications');
    assert.deepEqual(
      events(c).map((f) => f.data),
      Array.from({ length: 47 }, (_, i) => i + 4),
    );
    c.close();
    await sb.close();
  });

  test('history requests: last N, after since, and the documented errors', async () => {
    const { sb, url } = await startServer();
    sb.durable('log', { maxMessages: 5 });
    sb.sockets.authorizeJoin((_socket, room) => room !== 'log' || true);
    await publish(sb, 'log', 1, 8);
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'history', ref: 1, room: 'log', limit: 2 });
    const last2 = (await c.next({ ref: 1 })).data as { publications: Frame[]; position: Pos };
    assert.deepEqual(
      last2.publications.map((p) => [p.event, p.data, (p.position as Pos).offset]),
      [
        ['n', 7, 7],
        ['n', 8, 8],
      ],
    );
    const epoch = last2.position.epoch;
    c.send({ type: 'history', ref: 2, room: 'log', since: { epoch, offset: 5 } });
    assert.deepEqual(
      ((await c.next({ ref: 2 })).data as { publications: Frame[] }).publications.map((p) => p.data),
      [6, 7, 8],
    );
    c.send({ type: 'history', ref: 3, room: 'log', since: { epoch, offset: 1 } });
    assert.equal(((await c.next({ ref: 3 })).error as Frame).code, 'unrecoverable');
    c.send({ type: 'history', ref: 4, room: 'plain' });
    assert.equal(((await c.next({ ref: 4 })).error as Frame).code, 'not_durable');
    c.send({ type: 'history', ref: 5, room: 'log', limit: 5000 });
    assert.equal(((await c.next({ ref: 5 })).error as Frame).code, 'bad_request');
    c.close();
    await sb.close();
  });

  test('history is refused when authorizeJoin refuses the room', async () => {
    const { sb, url } = await startServer();
    sb.durable('secret');
    sb.sockets.authorizeJoin((_socket, room) => room !== 'secret');
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'history', ref: 1, room: 'secret' });
    assert.equal(((await c.next({ ref: 1 })).error as Frame).code, 'forbidden');
    c.close();
    await sb.close();
  });

  test('history of a refused room is forbidden whether or not it is durable: the answer does not tell which rooms keep history', async () => {
    const { sb, url } = await startServer();
    sb.durable(/^secret:durable/);
    sb.sockets.authorizeJoin((_socket, room) => !room.startsWith('secret:'));
    const c = await BareClient.open(url);
    await c.hello();
    c.send({ type: 'history', ref: 1, room: 'secret:durable' });
    c.send({ type: 'history', ref: 2, room: 'secret:plain' });
    const [durable, plain] = [await c.next({ ref: 1 }), await c.next({ ref: 2 })];
    assert.equal((durable.error as Frame).code, 'forbidden');
    assert.equal((plain.error as Frame).code, 'forbidden', 'not not_durable: authorization runs first');
    c.send({ type: 'history', ref: 3, room: 'open' });
    assert.equal(((await c.next({ ref: 3 })).error as Frame).code, 'not_durable', 'a room the client may join still says it keeps no history');
    c.close();
    await sb.close();
  });

  test('publishing to a durable room together with other rooms is refused', async () => {
    const { sb } = await startServer();
    sb.durable('d');
    await assert.rejects(sb.to(['d', 'other']).publish('x', 1), { code: 'bad_request' });
    assert.throws(() => sb.to(['d', 'other']).emit('x', 1), { code: 'bad_request' });
    await assert.rejects(sb.to('plain').publish('x', 1), { code: 'bad_request' });
    await sb.close();
  });

  test('edge cases: bad data throws at emit, global RegExp matchers, socket ids never durable, history limit checked, failing store answers', async () => {
    const failing = new MemoryStreamStore();
    failing.read = async () => {
      throw new Error('store down');
    };
    const { sb, url } = await startServer({ streams: failing });
    sb.on('error', () => {});
    sb.durable(/^g:/g);
    sb.durable(() => true, { maxMessages: 10 });
    assert.throws(() => sb.to('g:1').emit('x', 10n as unknown), { code: 'unserializable' });
    assert.ok(sb.sockets.durableLimits('g:1') && sb.sockets.durableLimits('g:1') && sb.sockets.durableLimits('g:1'), 'same answer every time');
    const { c, reply } = await joined(url, 'g:2');
    assert.equal(reply.durable, true);
    const sid = [...sb.sockets.sockets.keys()][0] as string;
    assert.equal(sb.sockets.durableLimits(sid), undefined, "a socket's private room is never durable");
    await assert.rejects(sb.history('g:1', { limit: 0 }), { code: 'bad_request' });
    c.send({ type: 'join', ref: 2, room: 'g:3', since: { epoch: 'e', offset: 1 } });
    assert.equal(((await c.next({ ref: 2 })).error as Frame).code, 'internal_error', 'a store failure is answered');
    c.close();
    await sb.close();
  });

  test('a consumer too slow for a durable room is closed with 4009 and the server stays bounded', async () => {
    const { sb, url } = await startServer({ maxBufferedBytes: 64 * 1024 });
    sb.durable('firehose');
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (r) => reasons.push(r)));
    const { c } = await joined(url, 'firehose');
    const healthy = await joined(url, 'firehose');
    // Stop reading: the server's socket buffer fills, then Switchboard's cap trips.
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const blob = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 400 && reasons.length === 0; i++) await sb.to('firehose').publish('blob', blob);
    await eventually(() => reasons.includes('slow_consumer'), 'the slow consumer to be cut off', 5000);
    assert.equal(sb.sockets.rooms.size('firehose'), 1, 'the healthy member stays');
    healthy.c.close();
    c.ws.terminate();
    await sb.close();
  });
});
