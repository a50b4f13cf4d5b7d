import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type StateChange } from '../../src/client/node.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;

/** A gate handlers wait on, opened one waiter at a time or all at once. */
function gate(): { wait: () => Promise<void>; releaseOne: () => void; releaseAll: () => void; readonly waiting: number } {
  const waiters: (() => void)[] = [];
  return {
    wait: () => new Promise<void>((resolve) => waiters.push(resolve)),
    releaseOne: () => waiters.shift()?.(),
    releaseAll: () => {
      for (const w of waiters.splice(0)) w();
    },
    get waiting() {
      return waiters.length;
    },
  };
}

function errorOf(frame: Frame): { code?: unknown } {
  return (frame.error ?? {}) as { code?: unknown };
}

describe('frameRate: frames per connection', () => {
  test('over the rate: not processed; requests get a rate_limited reply, other frames one error frame; pong, ack and reply are free', async () => {
    // 1 token per second: the refill cannot change the outcome while the test runs.
    const { sb, url } = await startServer({ frameRate: { perSecond: 1, burst: 6 } });
    const chat = sb.of('/chat');
    let echoed = 0;
    let noted = 0;
    let serverAsked: Promise<unknown> | undefined;
    chat.on('connection', (socket) => {
      socket.on('echo', (data: unknown) => {
        echoed++;
        return data;
      });
      socket.on('note', () => {
        noted++;
      });
      serverAsked = socket.emitWithAck('question', 'sure?');
    });
    const c = await BareClient.open(url);
    try {
      await c.hello({ ns: '/chat' });
      const question = await c.next({ type: 'event', event: 'question' });
      for (let ref = 1; ref <= 6; ref++) c.send({ type: 'event', ns: '/chat', ref, event: 'echo', data: ref });
      for (let ref = 1; ref <= 6; ref++) assert.equal((await c.next({ type: 'reply', ref })).data, ref);
      // The bucket is empty now; six frames may be rejected before the debt passes the burst.
      c.send({ type: 'event', ns: '/chat', event: 'note' });
      const error = await c.next({ type: 'error' });
      assert.equal(error.code, 'rate_limited');
      assert.equal(error.ns, '/chat', 'the error frame names the namespace of the frame');
      c.send({ type: 'event', ns: '/chat', event: 'note' });
      c.send({ type: 'join', ns: '/chat', ref: 5, room: 'r' });
      c.send({ type: 'event', ns: '/chat', ref: 6, event: 'echo', data: 6 });
      // Frames that answer the server are not counted, even in debt: the reply settles the server's request.
      c.send({ type: 'pong' });
      c.send({ type: 'ack', received: 1 });
      c.send({ type: 'reply', ref: question.ref, data: 'yes' });
      assert.equal(await serverAsked, 'yes');
      assert.equal(errorOf(await c.next({ type: 'reply', ref: 5 })).code, 'rate_limited', 'a join over the rate');
      assert.equal(errorOf(await c.next({ type: 'reply', ref: 6 })).code, 'rate_limited', 'an event request over the rate');
      // A ping is answered only when processed: this one is over the rate too.
      c.send({ type: 'ping' });
      c.send({ type: 'event', ns: '/chat', ref: 7, event: 'echo', data: 7 });
      assert.equal(errorOf(await c.next({ type: 'reply', ref: 7 })).code, 'rate_limited');
      assert.deepEqual(
        c.frames.filter((f) => f.type === 'error' || f.type === 'pong'),
        [],
        'of the frames over the rate that are not requests, only the first got an error frame',
      );
      assert.equal(echoed, 6, 'no handler ran for a frame over the rate');
      assert.equal(noted, 0);
      assert.equal(chat.rooms.size('r'), 0, 'the join over the rate was not processed');
      assert.equal(sb.connectionCount, 1, 'the connection stays open');
    } finally {
      c.close();
      await sb.close();
    }
  });

  test('a client that slows down gets through again', async () => {
    const { sb, url } = await startServer({ frameRate: { perSecond: 50, burst: 2 } });
    sb.on('connection', (socket) => socket.on('echo', (data: unknown) => data));
    const c = await BareClient.open(url);
    try {
      await c.hello();
      for (let ref = 1; ref <= 3; ref++) c.send({ type: 'event', ref, event: 'echo', data: ref });
      const replies = [await c.next({ ref: 1 }), await c.next({ ref: 2 }), await c.next({ ref: 3 })];
      assert.deepEqual(
        replies.map((r) => r.data ?? errorOf(r).code),
        [1, 2, 'rate_limited'],
      );
      // One request every 100 ms is below 50/s: it gets through once the debt is paid.
      let ref = 10;
      let answer: Frame | undefined;
      const started = Date.now();
      while (answer?.data !== ref && Date.now() - started < 3000) {
        await new Promise((r) => setTimeout(r, 100));
        ref++;
        c.send({ type: 'event', ref, event: 'echo', data: ref });
        answer = await c.next({ ref });
      }
      assert.equal(answer?.data, ref, 'a request below the rate is handled again');
    } finally {
      c.close();
      await sb.close();
    }
  });

  test('heartbeat answers never trip it, even while the bucket is empty', async () => {
    // A generous timeout: what is tested is the rate limit, not how fast a loaded machine answers.
    const { sb, url } = await startServer({ frameRate: { perSecond: 1, burst: 2 }, heartbeat: { interval: 20, timeout: 10_000 } });
    const c = await BareClient.open(url);
    try {
      await c.hello();
      c.send({ type: 'join', ref: 1, room: 'a' });
      c.send({ type: 'join', ref: 2, room: 'b' });
      await c.next({ ref: 2 });
      // Empty bucket; answer every ping (and ack) for 30 intervals.
      let pongs = 0;
      while (pongs < 30) {
        await c.next({ type: 'ping' });
        c.send({ type: 'pong' });
        c.send({ type: 'ack', received: c.received });
        pongs++;
      }
      assert.equal(sb.connectionCount, 1, 'still connected');
      assert.deepEqual(c.frames.filter((f) => f.type === 'error'), [], 'no rate_limited for heartbeats');
    } finally {
      c.close();
      await sb.close();
    }
  });

  test('a client that keeps sending past the limit: error frame rate_limited, close 1008, session ended', async () => {
    const { sb, url } = await startServer({ frameRate: { perSecond: 1, burst: 5 } });
    const reasons: string[] = [];
    let handled = 0;
    sb.on('connection', (socket) => {
      socket.on('note', () => {
        handled++;
      });
      socket.on('disconnect', (reason) => reasons.push(reason));
    });
    const c = await BareClient.open(url);
    const welcome = await c.hello();
    // 5 accepted, 5 rejected (a debt of `burst`), and one more is abuse.
    for (let i = 0; i < 11; i++) c.send({ type: 'event', event: 'note', data: i });
    for (let i = 0; i < 100; i++) c.send({ type: 'event', event: 'note', data: i });
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'rate_limited');
    const errors = c.frames.filter((f) => f.type === 'error').map((f) => f.code);
    assert.deepEqual(errors, ['rate_limited', 'rate_limited'], 'one for the first rejected frame, one before the close');
    assert.equal(handled, 5);
    await eventually(() => sb.sessionCount === 0, 'the session to end (no resume after 1008)');
    assert.deepEqual(reasons, ['rate_limited']);
    // The resume token died with the session.
    const again = await BareClient.open(url);
    const next = await again.hello({ resume: welcome.resume, received: 0 });
    assert.equal(next.resumed, false);
    again.close();
    await sb.close();
  });

  test('the SDK paces itself under the announced rate: every request and emit gets through, nothing is rate_limited, the connection stays up', async () => {
    // How the SDK reacts to rate_limited replies and the 1008 close is in test/unit/client-pacing.test.ts (a scripted server).
    const { sb, url } = await startServer({ frameRate: { perSecond: 10, burst: 3 } });
    const notes: number[] = [];
    sb.on('connection', (socket) => {
      socket.on('echo', (data: unknown) => data);
      socket.on('note', (n: number) => {
        notes.push(n);
      });
    });
    const client = connect(url, { reconnect: { delay: 10, maxDelay: 20 } });
    const changes: StateChange[] = [];
    client.on('state', (change) => changes.push(change));
    const errors: Error[] = [];
    client.on('error', (err) => errors.push(err));
    try {
      await eventually(() => client.connected, 'the client to connect');
      const asks = Array.from({ length: 6 }, (_, i) => client.emitWithAck('echo', i));
      assert.deepEqual(await Promise.all(asks), [0, 1, 2, 3, 4, 5]);
      for (let i = 0; i < 20; i++) client.emit('note', i);
      await eventually(() => notes.length === 20, 'every note to be handled', 5000);
      assert.deepEqual(notes, Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual(errors, []);
      assert.equal(client.connected, true);
      assert.deepEqual(changes.map((c) => c.state), ['connected'], 'never disconnected');
    } finally {
      client.close();
      await sb.close();
    }
  });
});

describe('maxPendingRequests', () => {
  test('a long-running handler holds its slot: the 101st request gets too_many_pending, and a slot freed is reused', async () => {
    // 300+ frames from one client: the frame rate is not what this test is about.
    const { sb, url } = await startServer({ frameRate: false });
    const held = gate();
    let started = 0;
    sb.on('connection', (socket) => {
      socket.on('slow', async () => {
        started++;
        await held.wait();
        return 'done';
      });
      socket.on('fast', () => 'fast');
      socket.on('throws', () => {
        throw new Error('boom');
      });
      socket.on('rejects', async () => {
        throw new Error('async boom');
      });
    });
    const errors: unknown[] = [];
    sb.on('error', (err) => errors.push(err));
    const c = await BareClient.open(url);
    try {
      await c.hello();
      for (let ref = 1; ref <= 100; ref++) c.send({ type: 'event', ref, event: 'slow' });
      c.send({ type: 'event', ref: 101, event: 'slow' });
      c.send({ type: 'event', ref: 102, event: 'fast' });
      c.send({ type: 'event', ref: 103, event: 'slow', seq: 1 });
      assert.equal(errorOf(await c.next({ ref: 101 })).code, 'too_many_pending');
      assert.equal(errorOf(await c.next({ ref: 102 })).code, 'too_many_pending', 'every request counts, not only the slow event');
      assert.equal(errorOf(await c.next({ ref: 103 })).code, 'too_many_pending', 'reliable publishes count too');
      assert.equal(started, 100, 'the 101st handler never ran');
      // A join is not counted: joins run one at a time, behind which later frames wait.
      c.send({ type: 'join', ref: 104, room: 'r' });
      assert.deepEqual((await c.next({ ref: 104 })).data, { room: 'r' });
      assert.equal(sb.connectionCount, 1, 'the connection stays open');

      held.releaseOne();
      assert.equal((await c.next({ ref: 1 })).data, 'done');
      c.send({ type: 'event', ref: 105, event: 'fast' });
      assert.equal((await c.next({ ref: 105 })).data, 'fast', 'the freed slot is taken by a new request');

      // Slots are given back whichever way handlers end: return, throw, async reject.
      held.releaseAll();
      for (let ref = 2; ref <= 100; ref++) assert.equal((await c.next({ ref })).data, 'done');
      let ref = 200;
      for (const event of ['fast', 'throws', 'rejects']) {
        for (let i = 0; i < 40; i++) c.send({ type: 'event', ref: ref++, event });
      }
      for (let r = 200; r < ref; r++) await c.next({ ref: r });
      for (let r = 300; r < 400; r++) c.send({ type: 'event', ref: r, event: 'slow' });
      c.send({ type: 'event', ref: 400, event: 'fast' });
      assert.equal(errorOf(await c.next({ ref: 400 })).code, 'too_many_pending', 'exactly 100 slots again: none leaked, none extra');
      await eventually(() => started === 200, 'the second hundred to start');
      held.releaseAll();
      for (let r = 300; r < 400; r++) assert.equal((await c.next({ ref: r })).data, 'done');
      assert.equal(errors.length, 80, 'the throwing handlers were reported');
    } finally {
      c.close();
      await sb.close();
    }
  });

  test('history reads count as pending requests; joins do not', async () => {
    const { sb, url } = await startServer({ maxPendingRequests: 2 });
    sb.durable('feed');
    const held = gate();
    sb.sockets.authorizeJoin(async (_socket, room) => {
      if (room === 'feed') await held.wait();
      return true;
    });
    sb.on('connection', (socket) => {
      socket.on('slow', async () => {
        await held.wait();
        return 'done';
      });
    });
    const c = await BareClient.open(url);
    try {
      await c.hello();
      c.send({ type: 'event', ref: 1, event: 'slow' });
      c.send({ type: 'history', ref: 2, room: 'feed' });
      await eventually(() => held.waiting === 2, 'both to be running');
      c.send({ type: 'history', ref: 3, room: 'feed' });
      c.send({ type: 'event', ref: 4, event: 'slow' });
      assert.equal(errorOf(await c.next({ ref: 3 })).code, 'too_many_pending');
      assert.equal(errorOf(await c.next({ ref: 4 })).code, 'too_many_pending');
      c.send({ type: 'join', ref: 5, room: 'plain' });
      assert.deepEqual((await c.next({ ref: 5 })).data, { room: 'plain' }, 'a join is not limited by pending requests');
      held.releaseAll();
      assert.equal((await c.next({ ref: 1 })).data, 'done');
      assert.deepEqual((await c.next({ ref: 2 })).data, { publications: [], position: (await sb.history('feed')).position });
      c.send({ type: 'history', ref: 6, room: 'feed' });
      await eventually(() => held.waiting === 1, 'the history read to run');
      held.releaseAll();
      assert.ok((await c.next({ ref: 6 })).data, 'slots freed by history reads too');
    } finally {
      c.close();
      await sb.close();
    }
  });

  test('handlers still running when the session ends finish quietly', async () => {
    const { sb, url } = await startServer({ maxPendingRequests: 3, resume: false });
    const held = gate();
    sb.on('connection', (socket) => socket.on('slow', () => held.wait().then(() => 'late')));
    const errors: unknown[] = [];
    sb.on('error', (err) => errors.push(err));
    const c = await BareClient.open(url);
    await c.hello();
    for (let ref = 1; ref <= 3; ref++) c.send({ type: 'event', ref, event: 'slow' });
    await eventually(() => held.waiting === 3, 'the handlers to run');
    c.close();
    await eventually(() => sb.sessionCount === 0, 'the session to end');
    held.releaseAll();
    // A new connection has its own slots.
    const d = await BareClient.open(url);
    await d.hello();
    for (let ref = 1; ref <= 3; ref++) d.send({ type: 'event', ref, event: 'slow' });
    await eventually(() => held.waiting === 3, 'all three slots free on the new connection');
    held.releaseAll();
    for (let ref = 1; ref <= 3; ref++) assert.equal((await d.next({ ref })).data, 'late');
    assert.deepEqual(errors, []);
    d.close();
    await sb.close();
  });
});

describe('maxRoomsPerSocket', () => {
  test('one more client join gets too_many_rooms; rejoins, the private room and server-side joins are not limited', async () => {
    const { sb, url } = await startServer({ maxRoomsPerSocket: 3 });
    const other = sb.of('/other');
    const c = await BareClient.open(url);
    try {
      const welcome = await c.hello();
      const join = async (ref: number, room: string, ns?: string): Promise<Frame> => {
        c.send(ns ? { type: 'join', ns, ref, room } : { type: 'join', ref, room });
        return c.next({ type: 'reply', ref });
      };
      for (const [ref, room] of [[1, 'a'], [2, 'b'], [3, 'c']] as const) assert.deepEqual((await join(ref, room)).data, { room });
      const socket = sb.sockets.sockets.get(welcome.sid as string);
      assert.ok(socket);
      assert.equal(socket.rooms.size, 4, 'three rooms and the private one');
      const refused = await join(4, 'd');
      assert.equal(errorOf(refused).code, 'too_many_rooms');
      assert.equal(sb.sockets.rooms.size('d'), 0);
      assert.deepEqual((await join(5, 'a')).data, { room: 'a' }, 'a room it is in does not count twice');
      assert.deepEqual((await join(6, socket.id)).data, { room: socket.id }, 'nor does its private room');
      // Leaving frees a place.
      c.send({ type: 'leave', ref: 7, room: 'a' });
      await c.next({ ref: 7 });
      assert.deepEqual((await join(8, 'd')).data, { room: 'd' });
      // The app's own joins are trusted: past the limit.
      socket.join(['x', 'y', 'z']);
      assert.equal(socket.rooms.size, 7);
      assert.equal(errorOf(await join(9, 'e')).code, 'too_many_rooms', 'the client still cannot add rooms');
      // The limit is per namespace: another namespace of the same connection has its own.
      c.send({ type: 'connect', ref: 10, ns: '/other' });
      await c.next({ ref: 10 });
      for (const [ref, room] of [[11, 'a'], [12, 'b'], [13, 'c']] as const) assert.deepEqual((await join(ref, room, '/other')).data, { room });
      assert.equal(errorOf(await join(14, 'd', '/other')).code, 'too_many_rooms');
      assert.equal(other.rooms.size('d'), 0);
      assert.equal(sb.connectionCount, 1, 'the connection stays open');
    } finally {
      c.close();
      await sb.close();
    }
  });

  test('rooms joined by the app while authorizeJoin decides count too', async () => {
    const { sb, url } = await startServer({ maxRoomsPerSocket: 2 });
    sb.sockets.authorizeJoin((socket, room) => {
      if (room === 'b') socket.join('side');
      return true;
    });
    const c = await BareClient.open(url);
    try {
      await c.hello();
      c.send({ type: 'join', ref: 1, room: 'a' });
      c.send({ type: 'join', ref: 2, room: 'b' });
      assert.deepEqual((await c.next({ ref: 1 })).data, { room: 'a' });
      assert.equal(errorOf(await c.next({ ref: 2 })).code, 'too_many_rooms', 'a + side fill the two places');
      assert.equal(sb.sockets.rooms.size('b'), 0);
    } finally {
      c.close();
      await sb.close();
    }
  });
});

describe('the SDK and the connection limits', () => {
  test('emitWithAck rejects with too_many_pending; join rejects with too_many_rooms and drops the room; the connection stays up', async () => {
    const { sb, url } = await startServer({ maxPendingRequests: 1, maxRoomsPerSocket: 1 });
    const held = gate();
    sb.on('connection', (socket) => socket.on('slow', () => held.wait().then(() => 'done')));
    const client = connect(url, { reconnect: false });
    try {
      await eventually(() => client.connected, 'the client to connect');
      const first = client.emitWithAck('slow');
      await eventually(() => held.waiting === 1, 'the first request to run');
      await assert.rejects(client.emitWithAck('slow'), (err: unknown) => err instanceof SwitchboardError && err.code === 'too_many_pending');
      held.releaseAll();
      assert.equal(await first, 'done');
      await client.join('a');
      await assert.rejects(client.join('b'), (err: unknown) => err instanceof SwitchboardError && err.code === 'too_many_rooms');
      assert.deepEqual([...client.rooms], ['a'], 'the refused room is not rejoined later');
      assert.equal(client.connected, true);
    } finally {
      client.close();
      await sb.close();
    }
  });
});
