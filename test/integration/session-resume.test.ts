import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Socket } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

type Frame = Record<string, unknown>;

async function session(url: string, hello: Frame = {}): Promise<{ c: BareClient; welcome: Frame }> {
  const c = await BareClient.open(url);
  return { c, welcome: await c.hello(hello) };
}

/**
 * Wait until the server has handled every frame `c` sent before: it answers a ping in order.
 * A fence instead of a sleep before a drop that must come after (say) an ack took effect.
 */
async function handled(c: BareClient): Promise<void> {
  c.send({ type: 'ping' });
  await c.next({ type: 'pong' });
}

/** One turn of the event loop: promise callbacks queued so far have run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Drop the link without a close frame, as a network loss would (the server sees 1006). */
async function dropLink(c: BareClient): Promise<void> {
  c.ws.terminate();
  await c.closed;
}

describe('session resume', () => {
  test('within the TTL: same id, rooms kept, missed events and replies delivered in order, token rotated', async () => {
    const { sb, url } = await startServer();
    const disconnects: string[] = [];
    // The slow handler finishes when the test says: after the events it must come behind.
    let finishSlow: (() => void) | undefined;
    sb.on('connection', (socket) => {
      socket.on('disconnect', (r) => disconnects.push(r));
      socket.on('slow', () => new Promise((r) => (finishSlow = () => r('done while you were away'))));
    });
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'lobby' });
    await first.c.next({ ref: 1 });
    first.c.send({ type: 'event', event: 'slow', ref: 2 });
    await eventually(() => finishSlow !== undefined, 'the slow handler to start');
    await dropLink(first.c);
    await eventually(() => sb.connectionCount === 0, 'the server to notice');
    assert.equal(sb.sessionCount, 1, 'the session waits to be resumed');
    sb.to('lobby').emit('news', 1);
    sb.to('lobby').emit('news', 2);
    finishSlow?.(); // the slow handler finishes meanwhile
    await turn();

    const again = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, true);
    assert.equal(again.welcome.sid, first.welcome.sid);
    assert.notEqual(again.welcome.resume, first.welcome.resume, 'the token rotates');
    const missed = [await again.c.next({ type: 'event' }), await again.c.next({ type: 'event' }), await again.c.next({ ref: 2 })];
    assert.deepEqual(
      missed.map((f) => f.data),
      [1, 2, 'done while you were away'],
    );
    sb.to('lobby').emit('news', 3);
    assert.equal((await again.c.next({ type: 'event' })).data, 3, 'still in its room');
    assert.deepEqual(disconnects, [], 'the socket never disconnected');

    // The client acknowledges what it received, which shows it has the new token.
    again.c.send({ type: 'ack', received: again.c.received });
    await handled(again.c);
    const stale = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(stale.welcome.resumed, false, 'a used token does not resume once the new one is acknowledged');
    assert.notEqual(stale.welcome.sid, first.welcome.sid);
    // The refused token names no session any more: the session that used it goes on untouched (docs/PROTOCOL.md, "Resuming").
    sb.to('lobby').emit('news', 4);
    assert.equal((await again.c.next({ type: 'event' })).data, 4, 'the resumed session carries on');
    assert.equal(sb.sessionCount, 2);
    assert.deepEqual(disconnects, []);
    stale.c.close();
    again.c.close();
    await sb.close();
  });

  test('after the TTL: a new session, resumed false, and the old one disconnected with its reason', async () => {
    const { sb, url } = await startServer({ resume: { ttl: 80 } });
    const disconnects: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (r) => disconnects.push(r)));
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'r' });
    await first.c.next({ ref: 1 });
    await dropLink(first.c);
    await eventually(() => disconnects.length === 1, 'the TTL to pass');
    assert.deepEqual(disconnects, ['transport_closed']);
    assert.equal(sb.sockets.rooms.members('r'), undefined, 'rooms cleaned up when the session ended');
    const late = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(late.welcome.resumed, false);
    assert.notEqual(late.welcome.sid, first.welcome.sid);
    late.c.close();
    await sb.close();
  });

  test('a deliberate close (1000, 1001, no code) ends the session at once', async () => {
    const { sb, url } = await startServer();
    for (const code of [1000, 1001, undefined]) {
      const first = await session(url);
      if (code === undefined) first.c.ws.close();
      else first.c.ws.close(code);
      await first.c.closed;
      await eventually(() => sb.sessionCount === 0, `the session to end after ${code ?? 'close()'}`);
      const again = await session(url, { resume: first.welcome.resume, received: first.c.received });
      assert.equal(again.welcome.resumed, false);
      again.c.close();
      await eventually(() => sb.sessionCount === 0, 'cleanup');
    }
    await sb.close();
  });

  test('a newer connection takes over a session whose old link still looks open: the old one gets 4004', async () => {
    const { sb, url } = await startServer();
    const first = await session(url);
    const second = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(second.welcome.resumed, true);
    assert.equal((await first.c.next({ type: 'error' })).code, 'session_taken_over');
    assert.equal((await first.c.closed).code, 4004);
    second.c.send({ type: 'ping' });
    await second.c.next({ type: 'pong' });
    assert.equal(sb.sessionCount, 1);
    second.c.close();
    await sb.close();
  });

  test('room broadcasts while away are kept by time, not by count: far past maxUnackedFrames, the resume is exact', async () => {
    const { sb, url } = await startServer({ resume: { maxUnackedFrames: 5 } });
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'busy' });
    await first.c.next({ ref: 1 });
    await dropLink(first.c);
    await eventually(() => sb.connectionCount === 0, 'the drop');
    for (let i = 0; i < 50; i++) sb.to('busy').emit('n', i);
    const again = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, true);
    const got: unknown[] = [];
    for (let i = 0; i < 50; i++) got.push((await again.c.next({ type: 'event' })).data);
    assert.deepEqual(got, [...Array(50).keys()]);
    again.c.close();
    await sb.close();
  });

  test('more frames for the session alone than maxUnackedFrames while away: the session ends instead of resuming with a hole', async () => {
    const { sb, url } = await startServer({ resume: { maxUnackedFrames: 5 } });
    let socket: { emit(event: string, data: unknown): unknown } | undefined;
    sb.on('connection', (s) => {
      socket = s;
    });
    const first = await session(url);
    await dropLink(first.c);
    await eventually(() => sb.connectionCount === 0, 'the drop');
    for (let i = 0; i < 10; i++) socket?.emit('n', i);
    await eventually(() => sb.sessionCount === 0, 'the session to end');
    const again = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, false);
    again.c.close();
    await sb.close();
  });

  test('broadcasts past the resume log bound end the waiting sessions they were for, and only those', async () => {
    const { sb, url } = await startServer({ resume: { maxLogBytes: 2000 } });
    const busy = await session(url);
    busy.c.send({ type: 'join', ref: 1, room: 'busy' });
    await busy.c.next({ ref: 1 });
    const quiet = await session(url);
    quiet.c.send({ type: 'join', ref: 1, room: 'quiet' });
    await quiet.c.next({ ref: 1 });
    await dropLink(busy.c);
    await dropLink(quiet.c);
    await eventually(() => sb.connectionCount === 0, 'the drops');
    for (let i = 0; i < 100; i++) sb.to('busy').emit('n', 'x'.repeat(50));
    await eventually(() => sb.sessionCount === 1, 'the busy session to end');
    sb.to('quiet').emit('q', 'kept');
    const busyAgain = await session(url, { resume: busy.welcome.resume, received: busy.c.received });
    assert.equal(busyAgain.welcome.resumed, false, 'its broadcasts were dropped from the log');
    const quietAgain = await session(url, { resume: quiet.welcome.resume, received: quiet.c.received });
    assert.equal(quietAgain.welcome.resumed, true, 'none of the dropped broadcasts was for it');
    assert.equal((await quietAgain.c.next({ type: 'event' })).data, 'kept');
    busyAgain.c.close();
    quietAgain.c.close();
    await sb.close();
  });

  test('a welcome lost with the link: the token it replaced still resumes, until the client acknowledges', async () => {
    const { sb, url } = await startServer();
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'r' });
    await first.c.next({ ref: 1 });
    await dropLink(first.c);
    sb.to('r').emit('n', 1);

    // The resume succeeds, but its link dies before the client reads the welcome.
    const lost = await BareClient.open(url);
    lost.send({ type: 'hello', v: 1, resume: first.welcome.resume, received: first.c.received });
    await eventually(() => sb.connectionCount === 1 && sb.sessionCount === 1, 'the resume to be processed');
    await dropLink(lost);
    sb.to('r').emit('n', 2);

    // The client still holds only the first token and its old count.
    const again = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, true, 'the replaced token is accepted: the client never saw the new one');
    assert.equal(again.welcome.sid, first.welcome.sid);
    assert.deepEqual([(await again.c.next({ type: 'event' })).data, (await again.c.next({ type: 'event' })).data], [1, 2]);
    again.c.send({ type: 'ack', received: again.c.received });
    await handled(again.c);
    await dropLink(again.c);
    const stale = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(stale.welcome.resumed, false, 'after the ack only the latest token resumes');
    stale.c.close();
    await sb.close();
  });

  test('frames lost in flight when the link died are sent again on resume', async () => {
    const { sb, url } = await startServer();
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'r' });
    await first.c.next({ ref: 1 });
    // Stop reading: these frames reach the socket buffers but never the client.
    (first.c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    for (let i = 1; i <= 20; i++) sb.to('r').emit('n', i);
    await new Promise((r) => setTimeout(r, 50));
    const received = first.c.received;
    await dropLink(first.c);
    const again = await session(url, { resume: first.welcome.resume, received });
    assert.equal(again.welcome.resumed, true);
    const replayed: unknown[] = [];
    while (replayed.length < 20) replayed.push((await again.c.next({ type: 'event' })).data);
    assert.deepEqual(replayed, Array.from({ length: 20 }, (_, i) => i + 1));
    again.c.close();
    await sb.close();
  });

  test('acknowledged frames are forgotten: a resume from before them is refused, without a count it is refused', async () => {
    const { sb, url } = await startServer();
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'r' });
    await first.c.next({ ref: 1 });
    for (let i = 1; i <= 5; i++) sb.to('r').emit('n', i);
    await first.c.next((f) => f.type === 'event' && f.data === 5);
    first.c.send({ type: 'ack', received: first.c.received });
    await handled(first.c);
    await dropLink(first.c);
    const noCount = await session(url, { resume: first.welcome.resume });
    assert.equal(noCount.welcome.resumed, false, 'a resume needs the count of frames received');
    noCount.c.close();

    const second = await session(url);
    second.c.send({ type: 'join', ref: 1, room: 'r2' });
    await second.c.next({ ref: 1 });
    for (let i = 1; i <= 5; i++) sb.to('r2').emit('n', i);
    await second.c.next((f) => f.type === 'event' && f.data === 5);
    second.c.send({ type: 'ack', received: second.c.received });
    await handled(second.c);
    await dropLink(second.c);
    const tooOld = await session(url, { resume: second.welcome.resume, received: 1 });
    assert.equal(tooOld.welcome.resumed, false, 'frames 2.. were acknowledged and forgotten');
    tooOld.c.close();
    await sb.close();
  });

  test('resume off: welcome carries no token and a dropped session ends at once', async () => {
    const { sb, url } = await startServer({ resume: false });
    const first = await session(url);
    assert.equal(first.welcome.resume, null);
    await dropLink(first.c);
    await eventually(() => sb.sessionCount === 0, 'the session to end');
    await sb.close();
  });

  test('a link that flaps faster than the client acknowledges: each resuming hello acknowledges, so the kept frames never fill', async () => {
    // The finding: sub-second connections carried no ack, and the server counted the kept frames until it ended the session.
    const { sb, url } = await startServer({ resume: { maxUnackedFrames: 20 } });
    let current = await session(url);
    current.c.send({ type: 'join', ref: 1, room: 'r' });
    await current.c.next({ ref: 1 });
    const sid = current.welcome.sid;
    let token = current.welcome.resume;
    let received = current.c.received;
    const got: unknown[] = [];
    for (let flap = 0; flap < 10; flap++) {
      // Ten frames on each short connection, fewer than any ack cadence: the client never sends an ack.
      for (let i = 0; i < 10; i++) sb.to('r').emit('n', flap * 10 + i);
      for (let i = 0; i < 10; i++) got.push((await current.c.next({ type: 'event', event: 'n' })).data);
      received += 10;
      await dropLink(current.c);
      current = await session(url, { resume: token, received });
      assert.equal(current.welcome.resumed, true, `resume ${flap + 1} of 10`);
      assert.equal(current.welcome.sid, sid);
      token = current.welcome.resume;
    }
    assert.deepEqual(got, [...Array(100).keys()]);
    // The last hello acknowledged everything up to its count: those frames are let go.
    await dropLink(current.c);
    const stale = await session(url, { resume: token, received: received - 5 });
    assert.equal(stale.welcome.resumed, false, 'frames the resuming hello counted were acknowledged and forgotten');
    stale.c.close();
    await sb.close();
  });

  test('a link gone silent: far more than maxUnackedFrames written into it before the loss is noticed, and the resume still replays them all', async () => {
    // A blackholed link takes the heartbeat's time to notice; everything written meanwhile is lost in it.
    const { sb, url } = await startServer({ resume: { maxUnackedFrames: 5 } });
    let socket: Socket | undefined;
    sb.on('connection', (s) => {
      socket = s;
    });
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'busy' });
    await first.c.next({ ref: 1 });
    const before = first.c.received;
    for (let i = 0; i < 40; i++) {
      sb.to('busy').emit('n', i);
      if (i % 10 === 0) socket?.emit('direct', i);
    }
    await first.c.next({ event: 'n', data: 39 });
    await dropLink(first.c);
    // The client got none of them: its count is from before.
    const again = await session(url, { resume: first.welcome.resume, received: before });
    assert.equal(again.welcome.resumed, true);
    const got: unknown[] = [];
    for (let i = 0; i < 44; i++) got.push((await again.c.next({ type: 'event' })).data);
    const expected: number[] = [];
    for (let i = 0; i < 40; i++) expected.push(...(i % 10 === 0 ? [i, i] : [i]));
    assert.deepEqual(got, expected, 'every frame, in the order sent');
    // Acknowledged past them all, the session keeps nothing old: a resume from before is refused.
    again.c.send({ type: 'ack', received: again.c.received });
    await handled(again.c);
    await dropLink(again.c);
    const stale = await session(url, { resume: again.welcome.resume, received: 0 });
    assert.equal(stale.welcome.resumed, false);
    stale.c.close();
    await sb.close();
  });

  test('a server-side join and leave while the session waits: the resume replays exactly what each membership gave it', async () => {
    const { sb, url } = await startServer();
    const sockets: Socket[] = [];
    sb.on('connection', (socket) => {
      sockets.push(socket);
    });
    const first = await session(url);
    first.c.send({ type: 'join', ref: 1, room: 'a' });
    await first.c.next({ ref: 1 });
    await dropLink(first.c);
    await eventually(() => sb.connectionCount === 0, 'the drop');
    const socket = sockets[0] as Socket;
    sb.to('a').emit('e', 'a1');
    sb.to('b').emit('e', 'b-before-join');
    socket.join('b');
    socket.emit('e', 'direct');
    sb.to('b').emit('e', 'b1');
    sb.to('a').emit('e', 'a2');
    socket.leave('a');
    sb.to('a').emit('e', 'a-after-leave');
    sb.to(['a', 'b']).except('nobody').emit('e', 'b2');
    const again = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, true);
    const got: unknown[] = [];
    for (let i = 0; i < 5; i++) got.push((await again.c.next({ type: 'event', event: 'e' })).data);
    assert.deepEqual(got, ['a1', 'direct', 'b1', 'a2', 'b2']);
    sb.to('b').emit('e', 'live');
    assert.equal((await again.c.next({ type: 'event', event: 'e' })).data, 'live');
    assert.deepEqual(again.c.frames.filter((f) => f.type === 'event'), [], 'nothing else: no frame of a room it was not in');
    again.c.close();
    await sb.close();
  });

  test('a resume from another address: the handshake shows the connection that resumed (a token is a bearer credential)', async () => {
    const { sb, url } = await startServer({ trustProxy: true });
    const sockets: Socket[] = [];
    sb.on('connection', (socket) => {
      sockets.push(socket);
    });
    const victim = await BareClient.open(url, 'switchboard.v1', { 'x-forwarded-for': '198.51.100.7' });
    const welcome = await victim.hello();
    await eventually(() => sockets.length === 1, 'the connection');
    const socket = sockets[0] as Socket;
    assert.equal(socket.handshake.address, '198.51.100.7');
    const started = socket.handshake.time;
    await dropLink(victim);
    await eventually(() => sb.connectionCount === 0, 'the drop');
    const thief = await BareClient.open(url, 'switchboard.v1', { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'thief' });
    const resumed = await thief.hello({ resume: welcome.resume, received: victim.received });
    assert.equal(resumed.resumed, true);
    assert.equal(socket.handshake.address, '203.0.113.9');
    assert.equal(socket.handshake.headers['user-agent'], 'thief');
    assert.equal(socket.handshake.time, started, 'time stays that of the handshake that started the session');
    thief.close();
    await sb.close();
  });

  test('an abandoned connection (nothing sent after its hello) is kept resume.silentTtl, not the whole TTL', async () => {
    const { sb, url } = await startServer({ resume: { silentTtl: 150 } });
    const abandoned = await session(url);
    const used = await session(url);
    used.c.send({ type: 'ack', received: 0 });
    await eventually(() => sb.sessionCount === 2, 'both sessions');
    await handled(used.c);
    await dropLink(abandoned.c);
    await dropLink(used.c);
    await eventually(() => sb.sessionCount === 1, 'the abandoned one to end', 3000);
    const again = await session(url, { resume: used.welcome.resume, received: used.c.received });
    assert.equal(again.welcome.resumed, true, 'a client that spoke after its hello keeps the full TTL');
    const gone = await session(url, { resume: abandoned.welcome.resume, received: 0 });
    assert.equal(gone.welcome.resumed, false);
    again.c.close();
    gone.c.close();
    await sb.close();
  });

  test('sessions waiting to be resumed count against maxConnections; a new connection ends the oldest instead of being refused', async () => {
    const { sb, url } = await startServer({ maxConnections: 5 });
    const flood: { c: BareClient; welcome: Frame }[] = [];
    for (let i = 0; i < 5; i++) flood.push(await session(url));
    for (const f of flood) await dropLink(f.c);
    await eventually(() => sb.connectionCount === 0, 'the drops');
    assert.equal(sb.sessionCount, 5);
    const live = await session(url);
    assert.equal(typeof live.welcome.sid, 'string', 'the new connection is served');
    assert.equal(sb.sessionCount, 5, 'the oldest waiting session made room');
    const oldest = await session(url, { resume: flood[0]?.welcome.resume, received: 0 });
    assert.equal(oldest.welcome.resumed, false, 'the oldest was ended');
    assert.ok(sb.sessionCount <= 5);
    live.c.close();
    oldest.c.close();
    await sb.close();
  });

});

describe('reliable publishes (seq)', () => {
  test('a re-sent publish gets the first reply and its handler runs once, also across a resume', async () => {
    const { sb, url } = await startServer();
    const runs: unknown[] = [];
    let socket: Socket | undefined;
    sb.on('connection', (s) => {
      socket = s;
      s.on('order', async (item: string) => {
        runs.push(item);
        await new Promise((r) => setTimeout(r, 80));
        return { id: runs.length, item };
      });
      s.on('reject', () => {
        throw new Error('boom');
      });
    });
    sb.on('error', () => {});
    const first = await session(url);
    first.c.send({ type: 'event', event: 'order', data: 'tea', ref: 1, seq: 1 });
    first.c.send({ type: 'event', event: 'order', data: 'tea', ref: 2, seq: 1 }); // re-sent while running
    const replies = [await first.c.next({ ref: 1 }), await first.c.next({ ref: 2 })];
    assert.deepEqual(
      replies.map((f) => f.data),
      [
        { id: 1, item: 'tea' },
        { id: 1, item: 'tea' },
      ],
    );
    first.c.send({ type: 'event', event: 'order', data: 'tea', ref: 3, seq: 1 }); // re-sent after it finished
    assert.deepEqual((await first.c.next({ ref: 3 })).data, { id: 1, item: 'tea' });

    // Cut the link between send and reply; resume; re-send the same seq.
    first.c.send({ type: 'event', event: 'order', data: 'cake', ref: 4, seq: 2 });
    await eventually(() => runs.includes('cake'), 'the handler to start');
    await dropLink(first.c);
    const again = await session(url, { resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, true);
    again.c.send({ type: 'event', event: 'order', data: 'cake', ref: 5, seq: 2 });
    const answers = [await again.c.next({ ref: 4 }), await again.c.next({ ref: 5 })];
    assert.deepEqual(
      answers.map((f) => f.data),
      [
        { id: 2, item: 'cake' },
        { id: 2, item: 'cake' },
      ],
    );
    assert.deepEqual(runs, ['tea', 'cake'], 'each handler ran exactly once');

    again.c.send({ type: 'event', event: 'reject', ref: 6, seq: 3 });
    again.c.send({ type: 'event', event: 'reject', ref: 7, seq: 3 });
    assert.equal(((await again.c.next({ ref: 6 })).error as Frame).code, 'internal_error');
    assert.equal(((await again.c.next({ ref: 7 })).error as Frame).code, 'internal_error', 'errors are remembered too');
    assert.ok(socket);
    again.c.close();
    await sb.close();
  });

  test('seq without ref is a bad request', async () => {
    const { sb, url } = await startServer();
    const { c } = await session(url);
    c.send({ type: 'event', event: 'x', seq: 1 });
    assert.equal((await c.next({ type: 'error' })).code, 'bad_request');
    c.close();
    await sb.close();
  });
});
