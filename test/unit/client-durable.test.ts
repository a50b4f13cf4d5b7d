/** The SDK's half of durable rooms against a scripted server: positions, dedupe, recovery on rejoin, history. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChangeDetails, EventMeta, RecoveryInfo, StreamPosition, SwitchboardClient } from '../../src/client/node.js';
import { type Frame, nextEvent, type ScriptedConnection, ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(() => server.close());

const at = (offset: number, epoch = 'e1'): StreamPosition => ({ epoch, offset });

/** A publication of `room` at `position`, as a durable room's event frame; its data is "epoch:offset". */
function publish(conn: ScriptedConnection, room: string, position: StreamPosition, event = 'chat'): void {
  conn.send({ type: 'event', event, room, position, data: `${position.epoch}:${position.offset}` });
}

function replyJoin(conn: ScriptedConnection, frame: Frame, data: Record<string, unknown>): void {
  conn.send({ type: 'reply', ref: frame.ref, data: { room: frame.room, ...data } });
}

/** Every join is answered as a durable room at `position` (recovered true when `since` was sent). */
function durableRooms(position: () => StreamPosition): void {
  server.script.room = (conn, f) => {
    if (f.type === 'leave') conn.send({ type: 'reply', ref: f.ref, data: { room: f.room } });
    else replyJoin(conn, f, { durable: true, position: position(), ...(f.since ? { recovered: true } : {}) });
  };
}

/** Wait until the client has handled every frame sent before this call (frames are handled in order). */
async function sync(client: SwitchboardClient, conn: ScriptedConnection): Promise<void> {
  const handled = nextEvent(client, 'sync');
  conn.send({ type: 'event', event: 'sync' });
  await handled;
}

/** Record what the app sees: chat events (data and meta) and recovery events, in order. */
function record(client: SwitchboardClient): { log: string[]; metas: EventMeta[]; recoveries: RecoveryInfo[] } {
  const log: string[] = [];
  const metas: EventMeta[] = [];
  const recoveries: RecoveryInfo[] = [];
  client.on('chat', (data: string, meta: EventMeta) => {
    log.push(`chat ${meta.room} ${data}`);
    metas.push(meta);
  });
  client.on('recovery', (info) => {
    log.push(`recovery ${info.room} ${info.recovered} ${info.position.epoch}:${info.position.offset}`);
    recoveries.push(info);
  });
  return { log, metas, recoveries };
}

/** Drop the connection; return the next one once the client is connected again (rejoins sent). */
async function reconnect(client: SwitchboardClient, conn: ScriptedConnection): Promise<ScriptedConnection> {
  const down = nextEvent(client, 'disconnect');
  const connected = nextEvent(client, 'connect');
  conn.terminate();
  await down;
  const next = await server.nextConnection();
  await connected;
  return next;
}

describe('durable rooms: positions', () => {
  it('join resolves with the durable reply and tracks its position; a plain room has none', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    const { recoveries } = record(client);

    assert.deepEqual(await client.join('news'), { room: 'news', durable: true, position: at(5) });
    assert.deepEqual(client.position('news'), at(5));
    const join = await conn.nextFrame('join');
    assert.equal(join.since, undefined, 'a first join carries no since');

    server.script.room = (c, f) => replyJoin(c, f, {});
    assert.deepEqual(await client.join('plain'), { room: 'plain' });
    assert.equal(client.position('plain'), undefined);
    assert.equal(client.position('never-joined'), undefined);
    assert.equal(recoveries.length, 0, 'no recovery event without a reconnect');
  });

  it('live events advance the position and reach handlers with meta.position', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    const { log, metas } = record(client);
    await client.join('news');

    publish(conn, 'news', at(6));
    publish(conn, 'news', at(7));
    await sync(client, conn);
    assert.deepEqual(log, ['chat news e1:6', 'chat news e1:7']);
    assert.deepEqual(metas, [
      { room: 'news', position: at(6) },
      { room: 'news', position: at(7) },
    ]);
    assert.deepEqual(client.position('news'), at(7));
  });

  it('drops an event whose position is not newer in the same epoch; a new epoch is taken as is', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    const { log } = record(client);
    await client.join('news');

    publish(conn, 'news', at(5)); // the join position itself: already seen
    publish(conn, 'news', at(6));
    publish(conn, 'news', at(6)); // duplicate
    publish(conn, 'news', at(4)); // older
    publish(conn, 'news', at(7));
    publish(conn, 'news', at(1, 'e2')); // the stream restarted
    publish(conn, 'news', at(1, 'e2')); // duplicate in the new epoch
    publish(conn, 'news', at(2, 'e2'));
    await sync(client, conn);
    assert.deepEqual(log, ['chat news e1:6', 'chat news e1:7', 'chat news e2:1', 'chat news e2:2']);
    assert.deepEqual(client.position('news'), at(2, 'e2'));
  });

  it('a position frame advances the tracked position and reaches no handler; the rejoin carries it as since', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    const { log } = record(client);
    await client.join('news');

    publish(conn, 'news', at(6));
    conn.send({ type: 'position', room: 'news', position: at(7) }); // a publication this client was excluded from
    conn.send({ type: 'position', room: 'news', position: at(7) }); // a repeat: nothing changes
    conn.send({ type: 'position', room: 'news', position: at(6) }); // older: nothing changes
    conn.send({ type: 'position', room: 'elsewhere', position: at(9) }); // a room it does not track
    publish(conn, 'news', at(8));
    await sync(client, conn);
    assert.deepEqual(log, ['chat news e1:6', 'chat news e1:8'], 'the excluded publication reaches no handler, and 8 is no gap');
    assert.deepEqual(client.position('news'), at(8));
    assert.equal(client.position('elsewhere'), undefined);
    conn.send({ type: 'position', room: 'news', position: at(9) });
    await sync(client, conn);
    assert.deepEqual(client.position('news'), at(9));
    assert.equal(conn.ofType('join').length, 1, 'no rejoin: the position frames left no gap');

    // A new session rejoins from past the excluded publication.
    const second = await reconnect(client, conn);
    assert.deepEqual((await second.nextFrame('join')).since, at(9));
  });

  it('a position frame further ahead than the next offset is a gap: the room is joined again with since', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    await client.join('news');
    await conn.nextFrame('join');
    conn.send({ type: 'position', room: 'news', position: at(8) });
    await sync(client, conn);
    assert.deepEqual(client.position('news'), at(5));
    const rejoin = await conn.nextFrame('join');
    assert.deepEqual(rejoin.since, at(5));
  });

  it('tracks positions per room', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    const { log } = record(client);
    await client.join('a');
    server.script.room = (c, f) => replyJoin(c, f, { durable: true, position: at(4) });
    await client.join('b');

    publish(conn, 'a', at(6));
    publish(conn, 'b', at(5));
    publish(conn, 'b', at(6)); // not a duplicate: positions of room a do not apply to room b
    publish(conn, 'a', at(6));
    await sync(client, conn);
    assert.deepEqual(log, ['chat a e1:6', 'chat b e1:5', 'chat b e1:6']);
    assert.deepEqual(client.position('a'), at(6));
    assert.deepEqual(client.position('b'), at(6));
  });

  it('leave() forgets the position: no since on a later join, and the room is not rejoined', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    await client.join('news');
    await client.join('other');
    publish(conn, 'news', at(6));
    await sync(client, conn);
    assert.deepEqual(client.position('news'), at(6));

    await client.leave('news');
    assert.equal(client.position('news'), undefined);

    const second = await reconnect(client, conn);
    await client.join('news');
    assert.deepEqual(
      second.ofType('join').map((f) => [f.room, f.since]),
      [
        ['other', at(5)],
        ['news', undefined],
      ],
    );
    assert.deepEqual(client.position('news'), at(5));
  });
});

describe('durable rooms: recovery after a reconnect', () => {
  it('rejoins with since; the replay before the reply is delivered in order and deduped, then `recovery` and live events', async () => {
    durableRooms(() => at(3));
    const { client, conn } = await server.openConnected();
    const { log, recoveries } = record(client);
    await client.join('news');
    publish(conn, 'news', at(4));
    await sync(client, conn);

    server.script.room = () => {}; // answered by hand below
    const second = await reconnect(client, conn);
    const rejoin = await second.nextFrame('join');
    assert.equal(rejoin.room, 'news');
    assert.deepEqual(rejoin.since, at(4));

    // The replay overlaps what the client saw (4), then the reply and a live event in the same burst.
    publish(second, 'news', at(4));
    publish(second, 'news', at(5));
    publish(second, 'news', at(5));
    publish(second, 'news', at(6));
    replyJoin(second, rejoin, { durable: true, position: at(6), recovered: true });
    publish(second, 'news', at(6));
    publish(second, 'news', at(7));
    await sync(client, second);

    assert.deepEqual(log, [
      'chat news e1:4',
      'chat news e1:5',
      'chat news e1:6',
      'recovery news true e1:6',
      'chat news e1:7',
    ]);
    assert.deepEqual(recoveries, [{ room: 'news', recovered: true, position: at(6) }]);
    assert.deepEqual(client.position('news'), at(7));
  });

  it('recovered false: `recovery` says so and the new position (another epoch) is tracked', async () => {
    durableRooms(() => at(9));
    const { client, conn } = await server.openConnected();
    const { log } = record(client);
    await client.join('news');

    server.script.room = (c, f) => replyJoin(c, f, { durable: true, position: at(2, 'e2'), recovered: false });
    const recovery = nextEvent(client, 'recovery');
    const second = await reconnect(client, conn);
    const [info] = (await recovery) as [RecoveryInfo];
    assert.deepEqual(info, { room: 'news', recovered: false, position: at(2, 'e2') });
    assert.deepEqual((await second.nextFrame('join')).since, at(9));
    assert.deepEqual(client.position('news'), at(2, 'e2'));

    publish(second, 'news', at(2, 'e2')); // already covered by the reply's position
    publish(second, 'news', at(3, 'e2'));
    await sync(client, second);
    assert.deepEqual(log, ['recovery news false e2:2', 'chat news e2:3']);
  });

  it('a plain room is rejoined without since and without a recovery event', async () => {
    const { client, conn } = await server.openConnected();
    const { recoveries } = record(client);
    await client.join('plain');
    const second = await reconnect(client, conn);
    const rejoin = await second.nextFrame('join');
    assert.equal(rejoin.since, undefined);
    await sync(client, second);
    assert.equal(recoveries.length, 0);
  });

  it('close 4009 (slow_consumer) reconnects with reason slow_consumer and recovers from the tracked position', async () => {
    durableRooms(() => at(3));
    const { client, conn } = await server.openConnected();
    await client.join('news');
    publish(conn, 'news', at(4));
    await sync(client, conn);

    const down = nextEvent(client, 'disconnect');
    const recovery = nextEvent(client, 'recovery');
    conn.send({ type: 'error', code: 'slow_consumer', message: 'too far behind in room news' });
    conn.close(4009, 'slow consumer');
    const [reason, details] = (await down) as [string, ChangeDetails];
    assert.equal(reason, 'slow_consumer');
    assert.equal(details.closeCode, 4009);
    assert.equal(details.error?.code, 'slow_consumer');

    const second = await server.nextConnection();
    assert.deepEqual((await second.nextFrame('join')).since, at(4));
    const [info] = (await recovery) as [RecoveryInfo];
    assert.deepEqual(info, { room: 'news', recovered: true, position: at(3) });
  });
});

describe('durable rooms: join from an explicit position', () => {
  it('sends since, delivers the replay, resolves with recovered and emits no recovery event', async () => {
    server.script.room = () => {};
    const { client, conn } = await server.openConnected();
    const { log, recoveries } = record(client);

    const joined = client.join('news', { since: at(2) });
    assert.deepEqual(client.position('news'), at(2), 'the explicit since is the baseline until the reply');
    const frame = await conn.nextFrame('join');
    assert.deepEqual(frame.since, at(2));
    publish(conn, 'news', at(2)); // at the baseline: the app said it has it
    publish(conn, 'news', at(3));
    publish(conn, 'news', at(4));
    replyJoin(conn, frame, { durable: true, position: at(4), recovered: true });

    assert.deepEqual(await joined, { room: 'news', durable: true, position: at(4), recovered: true });
    assert.deepEqual(log, ['chat news e1:3', 'chat news e1:4']);
    assert.equal(recoveries.length, 0);
    assert.deepEqual(client.position('news'), at(4));
  });

  it('overrides the tracked position: publications after the explicit since are replayed to the handlers', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    const { log } = record(client);
    await client.join('news');
    assert.deepEqual(client.position('news'), at(5));

    server.script.room = (c, f) => {
      for (let offset = 2; offset <= 5; offset++) publish(c, 'news', at(offset));
      replyJoin(c, f, { durable: true, position: at(5), recovered: true });
    };
    const reply = await client.join('news', { since: at(1) });
    assert.equal(reply.recovered, true);
    assert.deepEqual(conn.ofType('join').map((f) => f.since), [undefined, at(1)]);
    assert.deepEqual(log, ['chat news e1:2', 'chat news e1:3', 'chat news e1:4', 'chat news e1:5']);
  });

  it('the reply to an earlier join does not cut off the replay of a later join with since', async () => {
    server.script.room = () => {};
    const { client, conn } = await server.openConnected();
    const { log } = record(client);

    const first = client.join('news');
    const firstFrame = await conn.nextFrame('join');
    const second = client.join('news', { since: at(0) });
    const secondFrame = await conn.nextFrame('join');
    replyJoin(conn, firstFrame, { durable: true, position: at(3) });
    publish(conn, 'news', at(1));
    publish(conn, 'news', at(2));
    publish(conn, 'news', at(3));
    replyJoin(conn, secondFrame, { durable: true, position: at(3), recovered: true });

    assert.deepEqual(await first, { room: 'news', durable: true, position: at(3) });
    assert.deepEqual(await second, { room: 'news', durable: true, position: at(3), recovered: true });
    assert.deepEqual(log, ['chat news e1:1', 'chat news e1:2', 'chat news e1:3']);
  });

  it('a join with since made while disconnected goes out on connect with that since', async () => {
    server.script.hello = () => {};
    durableRooms(() => at(8));
    const client = server.open();
    const { recoveries } = record(client);
    const joined = client.join('news', { since: at(6) });
    const conn = await server.nextConnection();
    await conn.nextFrame('hello');
    server.welcome(conn);
    assert.deepEqual(await joined, { room: 'news', durable: true, position: at(8), recovered: true });
    assert.deepEqual((await conn.nextFrame('join')).since, at(6));
    assert.equal(recoveries.length, 0, 'the caller has the answer; no recovery event for an explicit since');
  });

  it('rejects a malformed since without sending anything', async () => {
    const { client, conn } = await server.openConnected();
    await assert.rejects(client.join('news', { since: { epoch: 'e1', offset: -1 } }), { code: 'bad_request' });
    await assert.rejects(client.join('news', { since: { offset: 1 } as unknown as StreamPosition }), { code: 'bad_request' });
    await sync(client, conn);
    assert.deepEqual(conn.ofType('join'), []);
    assert.deepEqual([...client.rooms], []);
  });
});

describe('durable rooms: history', () => {
  it('sends a history request and resolves with the reply', async () => {
    const publications = [
      { event: 'chat', data: 'a', position: at(3) },
      { event: 'chat', data: 'b', position: at(4) },
    ];
    server.script.history = (conn, f) => conn.send({ type: 'reply', ref: f.ref, data: { publications, position: at(4) } });
    const { client, conn } = await server.openConnected();

    assert.deepEqual(await client.history('news', { since: at(2), limit: 2 }), { publications, position: at(4) });
    const frame = await conn.nextFrame('history');
    assert.deepEqual({ ...frame, ref: 0 }, { type: 'history', ref: 0, room: 'news', since: at(2), limit: 2 });
    assert.equal(typeof frame.ref, 'number');

    await client.history('news');
    const bare = await conn.nextFrame('history');
    assert.deepEqual({ ...bare, ref: 0 }, { type: 'history', ref: 0, room: 'news' });
  });

  it("rejects with the server's error code", async () => {
    const { client } = await server.openConnected();
    await assert.rejects(client.history('plain'), { code: 'not_durable' });
    server.script.history = (conn, f) =>
      conn.send({ type: 'reply', ref: f.ref, error: { code: f.room === 'secret' ? 'forbidden' : 'unrecoverable', message: 'no' } });
    await assert.rejects(client.history('news', { since: at(1, 'old') }), { code: 'unrecoverable' });
    await assert.rejects(client.history('secret'), { code: 'forbidden' });
  });

  it('rejects a bad limit or since locally', async () => {
    const { client, conn } = await server.openConnected();
    await assert.rejects(client.history('news', { limit: 0 }), { code: 'bad_request' });
    await assert.rejects(client.history('news', { limit: 1001 }), { code: 'bad_request' });
    await assert.rejects(client.history('news', { limit: 1.5 }), { code: 'bad_request' });
    await assert.rejects(client.history('news', { since: { epoch: 'e1', offset: 0.5 } }), { code: 'bad_request' });
    await assert.rejects(client.history(''), { code: 'bad_request' });
    await sync(client, conn);
    assert.deepEqual(conn.ofType('history'), []);
  });

  it('carries the namespace of an of() handle', async () => {
    server.script.history = (conn, f) => conn.send({ type: 'reply', ref: f.ref, data: { publications: [], position: at(0) } });
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin');
    await nextEvent(admin, 'connect');
    assert.deepEqual(await admin.history('audit', { limit: 5 }), { publications: [], position: at(0) });
    assert.equal((await conn.nextFrame('history')).ns, '/admin');
  });
});
