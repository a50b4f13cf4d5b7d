/**
 * Session resume and reliable publishes in the SDK, against a scripted server that issues
 * resume tokens and resumes the session whose latest token a hello presents.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChangeDetails, ConnectInfo, RecoveryInfo, StateChange, StreamPosition, SwitchboardClient } from '../../src/client/node.js';
import type { SwitchboardError } from '../../src/protocol/errors.js';
import { ACK_DELAY_MS } from '../../src/client/ack-cadence.js';
import { type Frame, nextEvent, type ScriptedConnection, ScriptedServer } from '../helpers/scripted-server.js';
import { eventually } from '../helpers/server.js';

let server: ScriptedServer;
beforeEach(async () => {
  server = await ScriptedServer.start();
  server.resumable();
});

afterEach(() => server.close());

/** Drop the link without a close frame, as a network loss does; the next hello waits until the test answers it. */
async function dropAndHold(client: SwitchboardClient, conn: ScriptedConnection): Promise<{ next: ScriptedConnection; hello: Frame }> {
  server.script.hello = () => {};
  const down = nextEvent(client, 'disconnect');
  conn.terminate();
  await down;
  const next = await server.nextConnection();
  const hello = await next.nextFrame('hello');
  server.resumable();
  return { next, hello };
}

/** Welcome a held connection (resumed when its hello presents a live token); resolves with the `connect` payload. */
async function welcome(client: SwitchboardClient, next: ScriptedConnection, hello: Frame): Promise<ConnectInfo> {
  const connected = nextEvent(client, 'connect');
  server.welcomeSession(next, hello);
  const [info] = await connected;
  return info as ConnectInfo;
}

/** Drop the link and let the client come back at once; resolves with the new connection and the `connect` payload. */
async function reconnect(client: SwitchboardClient, conn: ScriptedConnection): Promise<{ next: ScriptedConnection; info: ConnectInfo }> {
  const connected = nextEvent(client, 'connect');
  conn.terminate();
  const next = await server.nextConnection();
  const [info] = await connected;
  return { next, info: info as ConnectInfo };
}

/** Watch a promise: 'pending' until it settles. */
function watch(promise: Promise<unknown>): () => string {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    (e: SwitchboardError) => (state = `rejected ${e.code}`),
  );
  return () => state;
}

/** Let every promise callback queued so far run (one turn of the event loop, not a duration). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wait until the server has every frame the client sent before this call: the client answers a ping at once, in order. */
async function fence(conn: ScriptedConnection): Promise<void> {
  const pongs = conn.ofType('pong').length;
  conn.send({ type: 'ping' });
  await conn.nextFrame((f) => f.type === 'pong' && conn.ofType('pong').length > pongs);
}

/** Wait until the client has handled every frame sent before this call. */
async function sync(client: SwitchboardClient, conn: ScriptedConnection): Promise<void> {
  const handled = nextEvent(client, 'sync');
  conn.send({ type: 'event', event: 'sync' });
  await handled;
}

const at = (offset: number, epoch = 'e1'): StreamPosition => ({ epoch, offset });
const isEvent = (event: string) => (f: Frame) => f.type === 'event' && f.event === event;

describe('session resume', { timeout: 15_000 }, () => {
  it('presents the latest resume token on every reconnect: same id, connect says resumed', async () => {
    const { client, conn: first } = await server.openConnected();
    assert.equal((await first.nextFrame('hello')).resume, undefined, 'nothing to resume on the first connection');
    assert.equal(client.id, 'sid-1');
    const changes: StateChange[] = [];
    client.on('state', (c) => changes.push(c));

    const { next: second, info } = await reconnect(client, first);
    assert.equal((await second.nextFrame('hello')).resume, 'token-1');
    assert.deepEqual(info, { resumed: true });
    assert.equal(client.id, 'sid-1', 'the same session id after a resume');
    assert.deepEqual(changes.at(-1), { state: 'connected', previous: 'connecting', reason: 'handshake_ok', resumed: true });

    const { next: third } = await reconnect(client, second);
    assert.equal((await third.nextFrame('hello')).resume, 'token-2', 'the token rotates with every welcome');

    server.forgetSessions();
    const { next: fourth, info: fresh } = await reconnect(client, third);
    assert.equal((await fourth.nextFrame('hello')).resume, 'token-3');
    assert.deepEqual(fresh, { resumed: false });
    assert.equal(client.id, 'sid-4', 'a new session has a new id');
  });

  it('presents the count of frames received in the session (welcomes not counted), across resumes; a new session counts afresh', async () => {
    const { client, conn: first } = await server.openConnected();
    for (let i = 0; i < 3; i++) first.send({ type: 'event', event: 'tick', data: i });
    first.send({ type: 'ping' });
    first.socket.send('not json'); // counted as well: the server numbers what it sent
    await sync(client, first); // one more
    const { next: second } = await reconnect(client, first);
    const hello = await second.nextFrame('hello');
    assert.deepEqual([hello.resume, hello.received], ['token-1', 6]);

    // The frames the server sends again after the resume continue the count.
    second.send({ type: 'event', event: 'tick', data: 3 });
    await sync(client, second);
    const { next: third } = await reconnect(client, second);
    assert.equal((await third.nextFrame('hello')).received, 8);

    server.forgetSessions();
    const { next: fourth, info } = await reconnect(client, third);
    assert.deepEqual(info, { resumed: false });
    fourth.send({ type: 'event', event: 'tick', data: 4 });
    await sync(client, fourth);
    const { next: fifth } = await reconnect(client, fourth);
    assert.equal((await fifth.nextFrame('hello')).received, 2, 'counted from the new session’s welcome');
  });

  it('acknowledges at a quarter of the bounds the welcome announces, and within a second of the last frame', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] }); // the client's ack delay on a clock the test moves
    server.script.welcome = { limits: { maxMessageBytes: 65_536, maxUnackedFrames: 400, maxUnackedBytes: 1024 * 1024 } };
    const { client, conn } = await server.openConnected();
    for (let i = 0; i < 150; i++) conn.send({ type: 'event', event: 'tick', data: i });
    await sync(client, conn);
    assert.deepEqual(await conn.nextFrame('ack'), { type: 'ack', received: 0 }, 'the welcome is acknowledged at once');
    assert.deepEqual(await conn.nextFrame('ack'), { type: 'ack', received: 100 });
    t.mock.timers.tick(ACK_DELAY_MS - 1);
    await fence(conn);
    assert.equal(conn.ofType('ack').length, 2, 'the rest waits a moment');
    t.mock.timers.tick(1);
    const late = await conn.nextFrame('ack');
    assert.equal(late.received, 152, 'within a second of the last frame (150 ticks, the sync event, the fence ping)');
    t.mock.timers.tick(60_000);
    await fence(conn);
    assert.equal(conn.ofType('ack').length, 3, 'nothing new, nothing to acknowledge');
  });

  it('a welcome without bounds: acknowledges every 250 frames (a quarter of the server defaults)', async () => {
    const { client, conn } = await server.openConnected();
    for (let i = 0; i < 260; i++) conn.send({ type: 'event', event: 'tick', data: i });
    await sync(client, conn);
    assert.deepEqual(await conn.nextFrame('ack'), { type: 'ack', received: 0 }, 'the welcome');
    assert.deepEqual(await conn.nextFrame('ack'), { type: 'ack', received: 250 });
  });

  it('a server without resume (welcome.resume null) gets no token and no acks', async () => {
    server.script.hello = (conn) => server.welcome(conn);
    const { client, conn: first } = await server.openConnected();
    for (let i = 0; i < 120; i++) first.send({ type: 'event', event: 'tick', data: i });
    await sync(client, first);
    assert.deepEqual(first.ofType('ack'), []);
    const { next, info } = await reconnect(client, first);
    const hello = await next.nextFrame('hello');
    assert.deepEqual([hello.resume, hello.received], [undefined, undefined]);
    assert.deepEqual(info, { resumed: false });
  });

  it('a request sent before the drop stays pending and gets its reply after a resume; it is not sent again', async () => {
    const { client, conn: first } = await server.openConnected();
    const reply = client.emitWithAck('slow', 1);
    const state = watch(reply);
    const request = await first.nextFrame(isEvent('slow'));

    const { next, hello } = await dropAndHold(client, first);
    assert.equal(hello.resume, 'token-1');
    await turn();
    assert.equal(state(), 'pending', 'not rejected at the drop: the welcome decides');
    assert.deepEqual(await welcome(client, next, hello), { resumed: true });
    // What the server sends again after the welcome: the reply to the request it had.
    next.send({ type: 'reply', ref: request.ref, data: 'done while you were away' });
    assert.equal(await reply, 'done while you were away');
    assert.deepEqual(next.ofType('event'), [], 'a plain request is never re-sent: its handler could run twice');
  });

  it('a request sent before the drop fails with disconnected when the session is not resumed', async () => {
    const { client, conn: first } = await server.openConnected();
    const reply = client.emitWithAck('slow', 1);
    const state = watch(reply);
    await first.nextFrame(isEvent('slow'));

    const { next, hello } = await dropAndHold(client, first);
    await turn();
    assert.equal(state(), 'pending');
    server.forgetSessions(); // the TTL passed, or the server restarted
    assert.deepEqual(await welcome(client, next, hello), { resumed: false });
    await assert.rejects(reply, (e: SwitchboardError) => e.code === 'disconnected' && /did not resume the session/.test(e.message));
  });

  it('a request sent before the drop fails with disconnected when reconnecting gives up, and with closed on close()', async () => {
    const { client, conn: first } = await server.openConnected({ reconnect: { delay: 1, maxDelay: 2, maxAttempts: 1 } });
    const reply = client.emitWithAck('slow', 1);
    await first.nextFrame(isEvent('slow'));
    server.script.hello = (conn) => conn.terminate();
    const stopped = new Promise<StateChange>((resolve) => client.on('state', (c) => c.state === 'disconnected' && resolve(c)));
    first.terminate();
    assert.equal((await stopped).reason, 'reconnect_exhausted');
    await assert.rejects(reply, { code: 'disconnected' });
    await server.nextConnection(); // the retry that failed

    server.resumable();
    const { client: other, conn } = await server.openConnected();
    const pending = other.emitWithAck('slow', 2);
    await conn.nextFrame(isEvent('slow'));
    server.script.hello = () => {};
    conn.terminate();
    await nextEvent(other, 'disconnect');
    other.close();
    await assert.rejects(pending, { code: 'closed' });
  });

  it('does not rejoin confirmed rooms; re-sends an unconfirmed join with its ref, leaves rooms left and joins rooms joined while away', async () => {
    // The first connection never answers the join of "slow".
    server.script.room = (conn, f) => {
      if (!(conn.index === 1 && f.room === 'slow')) conn.send({ type: 'reply', ref: f.ref, data: { room: f.room } });
    };
    const { client, conn: first } = await server.openConnected();
    await client.join('kept');
    await client.join('gone');
    const slow = client.join('slow');
    const slowJoin = await first.nextFrame((f) => f.type === 'join' && f.room === 'slow');

    const { next, hello } = await dropAndHold(client, first);
    const later = client.join('later');
    await client.leave('gone');
    assert.deepEqual(await welcome(client, next, hello), { resumed: true });
    await Promise.all([slow, later]);
    assert.deepEqual(
      next.frames.filter((f) => f.type !== 'hello' && f.type !== 'ack').map((f) => `${f.type}:${f.room}`),
      ['join:slow', 'leave:gone', 'join:later'],
      'kept is not joined again',
    );
    assert.equal(next.ofType('join')[0]?.ref, slowJoin.ref, 're-sent with its ref: whichever reply comes first settles it');
    assert.deepEqual([...client.rooms], ['kept', 'slow', 'later']);
  });

  it('after a new session every room is joined again', async () => {
    const { client, conn: first } = await server.openConnected();
    await client.join('a');
    await client.join('b');
    server.forgetSessions();
    const { next, info } = await reconnect(client, first);
    assert.deepEqual(info, { resumed: false });
    await next.nextFrame((f) => f.type === 'join' && f.room === 'b');
    assert.deepEqual(
      next.ofType('join').map((f) => f.room),
      ['a', 'b'],
    );
  });

  it('namespaces the session holds are not connected again; one opened while away is, one closed while away is disconnected', async () => {
    const { client, conn: first } = await server.openConnected();
    const admin = client.of('/admin');
    const bye = client.of('/bye');
    await Promise.all([nextEvent(admin, 'connect'), nextEvent(bye, 'connect')]);
    assert.equal(first.ofType('connect').length, 2);

    const { next, hello } = await dropAndHold(client, first);
    bye.close();
    const late = client.of('/late');
    const adminBack = nextEvent(admin, 'connect');
    const lateUp = nextEvent(late, 'connect');
    await welcome(client, next, hello);
    assert.deepEqual(await adminBack, [{ resumed: true }]);
    assert.deepEqual(await lateUp, [{ resumed: false }], 'a namespace new to the session starts afresh');
    assert.deepEqual(
      next.frames.filter((f) => f.type !== 'hello' && f.type !== 'ack').map((f) => `${f.type}:${f.ns}`),
      ['disconnect:/bye', 'connect:/late'],
    );
  });

  it('a reply to a server request that finished while the link was down goes out after the resume, not into a new session', async () => {
    let finish: (value: string) => void = () => {};
    let asked = 0;
    const { client, conn: first } = await server.openConnected();
    client.on('question', () => {
      asked++;
      return new Promise<string>((resolve) => (finish = resolve));
    });
    first.send({ type: 'event', event: 'question', ref: 7 });
    await eventually(() => asked === 1, 'the handler to run');
    const { next, hello } = await dropAndHold(client, first);
    finish('yes');
    await turn(); // the handler's answer reaches the client while the link is down
    await welcome(client, next, hello);
    assert.deepEqual(await next.nextFrame('reply'), { type: 'reply', ref: 7, data: 'yes' });

    // Across a lost session the reply is dropped: its ref means nothing to the new session.
    next.send({ type: 'event', event: 'question', ref: 8 });
    await eventually(() => asked === 2, 'the handler to run again');
    const held = await dropAndHold(client, next);
    finish('too late');
    server.forgetSessions();
    await welcome(client, held.next, held.hello);
    await sync(client, held.next);
    assert.deepEqual(held.next.ofType('reply'), []);
  });

  it('close 4004 (session taken over): stops with reason session_taken_over, never presents the token again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client, conn: first } = await server.openConnected();
    const request = client.emitWithAck('slow', 1);
    const publish = client.reliable.emit('order', 'tea');
    await first.nextFrame(isEvent('order'));
    const states: StateChange[] = [];
    client.on('state', (c) => states.push(c));
    const down = nextEvent(client, 'disconnect');
    let connectErrors = 0;
    client.on('connect_error', () => connectErrors++);

    first.send({ type: 'error', code: 'session_taken_over', message: 'a newer connection resumed this session' });
    first.close(4004, 'session_taken_over');
    const [reason, details] = (await down) as [string, ChangeDetails];
    assert.equal(reason, 'session_taken_over');
    assert.equal(details.closeCode, 4004);
    assert.equal(details.error?.code, 'session_taken_over');
    assert.deepEqual(
      states.map((s) => [s.state, s.reason]),
      [['disconnected', 'session_taken_over']],
    );
    await assert.rejects(request, { code: 'disconnected' });
    await assert.rejects(publish, { code: 'unconfirmed' });
    t.mock.timers.tick(60_000); // far past any backoff, on the client's mocked clock
    assert.equal(states.length, 1, 'no reconnect');
    assert.equal(server.connections.length, 1);
    assert.equal(connectErrors, 0);

    const back = nextEvent(client, 'connect');
    client.reconnectNow();
    const second = await server.nextConnection();
    assert.equal((await second.nextFrame('hello')).resume, undefined, 'the session belongs to the other connection now');
    assert.deepEqual(await back, [{ resumed: false }]);
  });

  it('a heartbeat timeout closes with 4002, not 1000, and the next hello resumes', async () => {
    server.script.welcome = { heartbeat: { interval: 30, timeout: 30 } };
    const { conn: first } = await server.openConnected();
    assert.equal((await first.closed).code, 4002);
    const second = await server.nextConnection();
    assert.equal((await second.nextFrame('hello')).resume, 'token-1');
  });
});

describe('durable rooms across a resume', { timeout: 15_000 }, () => {
  /** Joins are answered as a durable room at `position`; recovered true when since was sent. */
  function durable(position: () => StreamPosition): void {
    server.script.room = (conn, f) => {
      if (f.type === 'leave') conn.send({ type: 'reply', ref: f.ref, data: { room: f.room } });
      else conn.send({ type: 'reply', ref: f.ref, data: { room: f.room, durable: true, position: position(), ...(f.since ? { recovered: true } : {}) } });
    };
  }

  function record(client: SwitchboardClient): string[] {
    const log: string[] = [];
    client.on('chat', (_data: unknown, meta) => {
      log.push(`chat ${meta.position?.offset}`);
    });
    client.on('recovery', (info: RecoveryInfo) => {
      log.push(`recovery ${info.recovered} ${info.position.offset}`);
    });
    return log;
  }

  const publish = (conn: ScriptedConnection, offset: number): void => conn.send({ type: 'event', event: 'chat', room: 'news', position: at(offset), data: offset });

  it('is not joined again: the frames the server sends again continue its positions, duplicates dropped', async () => {
    durable(() => at(5));
    const { client, conn: first } = await server.openConnected();
    const log = record(client);
    await client.join('news');
    publish(first, 6);
    await sync(client, first);

    const { next, hello } = await dropAndHold(client, first);
    assert.equal(hello.received, 3, 'the join reply, publication 6 and the sync event');
    await welcome(client, next, hello);
    // What the server sends again after the welcome: 7 was lost in flight, 8 came while away.
    publish(next, 7);
    publish(next, 8);
    publish(next, 8);
    publish(next, 9);
    await sync(client, next);
    assert.deepEqual(log, ['chat 6', 'chat 7', 'chat 8', 'chat 9'], 'no recovery: nothing was lost');
    assert.deepEqual(next.ofType('join'), [], 'its membership is the session’s');
    assert.deepEqual(client.position('news'), at(9));
  });

  it('a hole in the positions on a live link is dropped and repaired by a join with since', async () => {
    durable(() => at(5));
    const { client, conn } = await server.openConnected();
    const log = record(client);
    await client.join('news');
    server.script.room = () => {};
    publish(conn, 6);
    publish(conn, 8);
    const repair = await conn.nextFrame((f) => f.type === 'join' && f.since !== undefined);
    assert.deepEqual(repair.since, at(6));
    publish(conn, 7);
    publish(conn, 8);
    conn.send({ type: 'reply', ref: repair.ref, data: { room: 'news', durable: true, position: at(8), recovered: true } });
    await sync(client, conn);
    assert.deepEqual(log, ['chat 6', 'chat 7', 'chat 8', 'recovery true 8']);
    assert.deepEqual(client.position('news'), at(8));
  });
});

describe('reliable publishes', { timeout: 15_000 }, () => {
  it('carry ref and seq (1, 2, ... per session) and resolve with the reply', async () => {
    const { client, conn } = await server.openConnected();
    const tea = client.reliable.emit('order', 'tea');
    const cake = client.reliable.emit('order', 'cake');
    const first = await conn.nextFrame(isEvent('order'));
    const second = await conn.nextFrame(isEvent('order'));
    assert.deepEqual([first.data, first.seq, second.data, second.seq], ['tea', 1, 'cake', 2]);
    assert.notEqual(first.ref, second.ref);
    conn.send({ type: 'reply', ref: second.ref, data: { id: 2 } });
    conn.send({ type: 'reply', ref: first.ref, error: { code: 'out_of_stock', message: 'no tea' } });
    assert.deepEqual(await cake, { id: 2 });
    await assert.rejects(tea, { code: 'out_of_stock', message: 'no tea' });
  });

  it('wait while disconnected and go out in call order on connect', async () => {
    server.script.hello = () => {};
    const client = server.open();
    const replies = ['a', 'b', 'c'].map((item) => client.reliable.emit('order', item));
    const conn = await server.nextConnection();
    const hello = await conn.nextFrame('hello');
    await fence(conn);
    assert.deepEqual(conn.ofType('event'), [], 'nothing before the welcome');
    server.welcomeSession(conn, hello);
    const frames = [await conn.nextFrame('event'), await conn.nextFrame('event'), await conn.nextFrame('event')];
    assert.deepEqual(
      frames.map((f) => [f.data, f.seq]),
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ],
    );
    for (const f of frames) conn.send({ type: 'reply', ref: f.ref, data: `ok ${f.data}` });
    assert.deepEqual(await Promise.all(replies), ['ok a', 'ok b', 'ok c']);
  });

  it('the outbox is bounded by count and bytes: a full outbox rejects with buffer_full, never drops', async () => {
    const { client, conn } = await server.openConnected({ outboxLimit: { count: 2, bytes: 400 } });
    const one = client.reliable.emit('order', 1);
    const two = client.reliable.emit('order', 2);
    let third: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      third = client.reliable.emit('order', 3);
    }, 'reported through the promise');
    await assert.rejects(third as Promise<unknown>, (e: SwitchboardError) => e.code === 'buffer_full' && /2 publishes/.test(e.message));
    const f1 = await conn.nextFrame(isEvent('order'));
    conn.send({ type: 'reply', ref: f1.ref, data: 'ok' });
    await one;
    await assert.rejects(client.reliable.emit('order', 'x'.repeat(500)), (e: SwitchboardError) => e.code === 'buffer_full' && /bytes/.test(e.message));
    const four = client.reliable.emit('order', 4);
    const frames = [await conn.nextFrame(isEvent('order')), await conn.nextFrame(isEvent('order'))];
    assert.deepEqual(
      frames.map((f) => [f.data, f.seq]),
      [
        [2, 2],
        [4, 3],
      ],
      'refused publishes took no sequence number',
    );
    for (const f of frames) conn.send({ type: 'reply', ref: f.ref, data: 'ok' });
    await Promise.all([two, four]);
  });

  it('an explicit timeout rejects with timeout and frees the outbox; the default is no timeout', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client, conn } = await server.openConnected({ outboxLimit: { count: 1 }, ackTimeout: 20 });
    const timedOut = client.reliable.emit('order', 1, { timeout: 20 });
    t.mock.timers.tick(20);
    await assert.rejects(timedOut, { code: 'timeout' });
    const waiting = client.reliable.emit('order', 2);
    const state = watch(waiting);
    t.mock.timers.tick(60_000); // far past ackTimeout: that default is for emitWithAck, not for reliable publishes
    await turn();
    assert.equal(state(), 'pending');
    const frame = await conn.nextFrame((f) => f.data === 2);
    conn.send({ type: 'reply', ref: frame.ref, data: 'ok' });
    assert.equal(await waiting, 'ok');
  });

  it('after a resume every unacknowledged publish is re-sent with its seq and ref, in order; the first reply settles it, a second is ignored', async () => {
    const { client, conn: first } = await server.openConnected();
    const tea = client.reliable.emit('order', 'tea');
    const cake = client.reliable.emit('order', 'cake');
    const done = client.reliable.emit('order', 'done');
    const [t, c, d] = [await first.nextFrame(isEvent('order')), await first.nextFrame(isEvent('order')), await first.nextFrame(isEvent('order'))];
    first.send({ type: 'reply', ref: d.ref, data: 'done' });
    assert.equal(await done, 'done');

    const { next, hello } = await dropAndHold(client, first);
    const later = client.reliable.emit('order', 'later');
    await welcome(client, next, hello);
    const resent = [await next.nextFrame('event'), await next.nextFrame('event'), await next.nextFrame('event')];
    assert.deepEqual(
      resent.map((f) => [f.data, f.seq, f.ref]),
      [
        ['tea', 1, t.ref],
        ['cake', 2, c.ref],
        ['later', 4, resent[2]?.ref],
      ],
      'the same seq and ref for the re-sent ones; the next seq of the session for the new one',
    );
    // Sent again after the welcome, the reply to tea's first send; the dedupe answers the re-send with the same reply.
    next.send({ type: 'reply', ref: t.ref, data: 'tea #1' });
    next.send({ type: 'reply', ref: t.ref, data: 'tea #1' });
    next.send({ type: 'reply', ref: c.ref, data: 'cake #2' });
    next.send({ type: 'reply', ref: resent[2]?.ref, data: 'later #4' });
    assert.deepEqual(await Promise.all([tea, cake, later]), ['tea #1', 'cake #2', 'later #4']);
  });

  it('after a new session: sent but unacknowledged ones fail with unconfirmed; never-sent ones go out with the new session’s seq', async () => {
    const { client, conn: first } = await server.openConnected();
    const sent = client.reliable.emit('order', 'sent');
    await first.nextFrame(isEvent('order'));
    const { next, hello } = await dropAndHold(client, first);
    const unsent = client.reliable.emit('order', 'unsent');
    server.forgetSessions();
    await welcome(client, next, hello);
    await assert.rejects(sent, (e: SwitchboardError) => e.code === 'unconfirmed' && /did not resume the session/.test(e.message) && /whether the server's handler ran/.test(e.message));
    const frame = await next.nextFrame('event');
    assert.deepEqual([frame.data, frame.seq], ['unsent', 1]);
    next.send({ type: 'reply', ref: frame.ref, data: 'ok' });
    assert.equal(await unsent, 'ok');
  });

  it('without resume on the server, a drop fails what was sent with unconfirmed at once', async () => {
    server.script.hello = (conn) => server.welcome(conn);
    const { client, conn } = await server.openConnected({ reconnect: { delay: 60_000, maxDelay: 60_000 } });
    const sent = client.reliable.emit('order', 1);
    await conn.nextFrame(isEvent('order'));
    conn.terminate();
    await assert.rejects(sent, { code: 'unconfirmed' });
  });

  it('wait through a stop and are decided by the next welcome after reconnectNow()', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client, conn: first } = await server.openConnected({ reconnect: false });
    const sent = client.reliable.emit('order', 1);
    const f = await first.nextFrame(isEvent('order'));
    const stopped = nextEvent(client, 'disconnect');
    first.terminate();
    await stopped;
    const state = watch(sent);
    t.mock.timers.tick(60_000); // no timeout of its own either
    await turn();
    assert.equal(state(), 'pending', 'a stop keeps reliable publishes');
    const back = nextEvent(client, 'connect');
    client.reconnectNow();
    const second = await server.nextConnection();
    await back;
    const resent = await second.nextFrame('event');
    assert.deepEqual([resent.ref, resent.seq], [f.ref, 1]);
    second.send({ type: 'reply', ref: f.ref, data: 'ok' });
    assert.equal(await sent, 'ok');
  });

  it('close() rejects sent and waiting publishes with closed', async () => {
    server.script.connect = () => {}; // extra namespaces never get connected
    const { client, conn } = await server.openConnected();
    const sent = client.reliable.emit('order', 1);
    await conn.nextFrame(isEvent('order'));
    const admin = client.of('/never', {});
    const waiting = admin.reliable.emit('order', 2);
    client.close();
    await assert.rejects(sent, { code: 'closed' });
    await assert.rejects(waiting, { code: 'closed' });
    await assert.rejects(client.reliable.emit('order', 3), { code: 'closed' });
  });

  it('refuses locally what the server could not take: reserved names, oversized frames, unserializable data', async () => {
    server.script.welcome = { limits: { maxMessageBytes: 200 } };
    const { client, conn } = await server.openConnected();
    await assert.rejects(client.reliable.emit('connect' as string), { code: 'bad_request' });
    await assert.rejects(client.reliable.emit('order', 'x'.repeat(300)), { code: 'message_too_big' });
    await assert.rejects(client.reliable.emit('order', 1n), { code: 'unserializable' });
    const ok = client.reliable.emit('order', 'fits');
    const frame = await conn.nextFrame(isEvent('order'));
    assert.equal(frame.seq, 1, 'refused publishes took no sequence number');
    conn.send({ type: 'reply', ref: frame.ref, data: 'ok' });
    await ok;
  });
});
