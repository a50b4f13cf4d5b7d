/**
 * The SDK's pacing: its token bucket, how it reads `welcome.limits`, the send queue, and the
 * SDK against a scripted server that announces limits, refuses joins with `rate_limited`
 * and closes with 1008.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, test } from 'node:test';
import type { StateChange } from '../../src/client/node.js';
import { pacingLimits } from '../../src/client/pacing-limits.js';
import { SendBudget } from '../../src/client/send-budget.js';
import { type OutgoingFrame, SendPacer } from '../../src/client/send-pacer.js';
import { decodeServerFrame } from '../../src/protocol/codec.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { type Frame, nextEvent, type ScriptedConnection, ScriptedServer } from '../helpers/scripted-server.js';
import { eventually } from '../helpers/server.js';

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('SendBudget', () => {
  test('full at the start, then one frame per 1/perSecond; never more than burst saved up', () => {
    const clock = manualClock();
    const budget = new SendBudget({ perSecond: 10, burst: 3 }, clock.now());
    for (let i = 0; i < 3; i++) {
      assert.equal(budget.waitMs(clock.now()), 0);
      budget.take(clock.now());
    }
    assert.equal(budget.waitMs(clock.now()), 100, 'a token every 100 ms at 10/s');
    clock.advance(60);
    assert.equal(budget.waitMs(clock.now()), 40);
    clock.advance(40);
    assert.equal(budget.waitMs(clock.now()), 0);
    budget.take(clock.now());
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) budget.take(clock.now());
    assert.ok(budget.waitMs(clock.now()) > 0, 'a long pause saves up `burst` tokens, no more');
  });
});

describe('pacingLimits', () => {
  test('a little under the announced rate; half of maxQueuedFrames for the frames behind a join', () => {
    assert.deepEqual(pacingLimits({ maxMessageBytes: 1, frameRate: { perSecond: 100, burst: 200 }, maxQueuedFrames: 256 }), {
      rate: { perSecond: 90, burst: 180 },
      blockingWindow: 128,
    });
    assert.deepEqual(pacingLimits({ frameRate: { perSecond: 1, burst: 1 }, maxQueuedFrames: 1 }), { rate: { perSecond: 0.9, burst: 1 }, blockingWindow: 1 });
  });

  test('lenient: a limit missing, null or malformed is not paced for; unknown fields are ignored', () => {
    const none = { rate: undefined, blockingWindow: undefined };
    assert.deepEqual(pacingLimits({ maxMessageBytes: 65536 }), none, 'an older server announces only maxMessageBytes');
    assert.deepEqual(pacingLimits({ frameRate: null, maxQueuedFrames: null }), none, 'limits that are off');
    assert.deepEqual(pacingLimits({ frameRate: { perSecond: 'fast', burst: 2 }, maxQueuedFrames: -1 }), none);
    assert.deepEqual(pacingLimits({ frameRate: { perSecond: 10 }, maxQueuedFrames: Number.NaN }), none);
    assert.deepEqual(pacingLimits({ frameRate: 'x', future: { anything: true } }), none);
    assert.deepEqual(pacingLimits(undefined), none);
  });
});

describe('decoding welcome.limits', () => {
  test('the announced limits, null ones, malformed ones and unknown fields all decode: only maxMessageBytes is checked', () => {
    const welcome = { type: 'welcome', v: 1, sid: 's', ns: '/', resume: null, resumed: false, heartbeat: { interval: 1, timeout: 1 } };
    const limits = [
      { maxMessageBytes: 65536, frameRate: { perSecond: 100, burst: 200 }, maxQueuedFrames: 256, maxPendingRequests: 100, maxRoomsPerSocket: 1000, dedupeWindow: 1000 },
      { maxMessageBytes: 65536, frameRate: null, maxPendingRequests: null, maxRoomsPerSocket: null },
      { maxMessageBytes: 65536, frameRate: 'fast', maxQueuedFrames: -1, fromTheFuture: [1, 2] },
      { maxMessageBytes: 65536 },
    ];
    for (const l of limits) {
      const decoded = decodeServerFrame(JSON.stringify({ ...welcome, limits: l }));
      assert.ok(decoded.ok, JSON.stringify(l));
      assert.deepEqual(decoded.frame.type === 'welcome' && decoded.frame.limits, l);
    }
    assert.equal(decodeServerFrame(JSON.stringify({ ...welcome, limits: { frameRate: { perSecond: 1, burst: 1 } } })).ok, false, 'maxMessageBytes stays required');
  });
});

describe('SendPacer', () => {
  function recordingPacer(now?: () => number): { pacer: SendPacer; written: string[] } {
    const written: string[] = [];
    const pacer = new SendPacer((text) => {
      written.push(text);
      return true;
    }, now);
    return { pacer, written };
  }
  const plain = (text: string): OutgoingFrame => ({ kind: 'plain', text });

  test('without announced limits every frame goes out at once', () => {
    const { pacer, written } = recordingPacer();
    pacer.start({ rate: undefined, blockingWindow: undefined });
    for (let i = 0; i < 1000; i++) assert.equal(pacer.send(plain(`f${i}`)), true);
    assert.equal(written.length, 1000);
    assert.equal(pacer.waiting, 0);
  });

  test('the burst goes at once, the rest waits in order and is drained by the timer as tokens come back', async () => {
    const { pacer, written } = recordingPacer();
    pacer.start({ rate: { perSecond: 500, burst: 3 }, blockingWindow: undefined });
    for (let i = 0; i < 10; i++) pacer.send(plain(`f${i}`));
    assert.deepEqual(written, ['f0', 'f1', 'f2']);
    assert.equal(pacer.waiting, 7);
    assert.equal(pacer.sendNow({ kind: 'plain', text: 'now' }), false, 'sendNow never jumps the queue');
    await eventually(() => written.length === 10, 'the queue to drain');
    assert.deepEqual(written, Array.from({ length: 10 }, (_, i) => `f${i}`));
    pacer.stop();
  });

  test('replies take no token but keep their place in line', () => {
    const clock = manualClock();
    const { pacer, written } = recordingPacer(clock.now);
    pacer.start({ rate: { perSecond: 1, burst: 1 }, blockingWindow: undefined });
    pacer.send({ kind: 'reply', text: 'r0' });
    pacer.send(plain('e1'));
    pacer.send(plain('e2'));
    pacer.send({ kind: 'reply', text: 'r1' });
    assert.deepEqual(written, ['r0', 'e1'], 'the first reply cost nothing; e2 waits, and the reply behind it too');
    clock.advance(1000);
    pacer.send({ kind: 'reply', text: 'r2' });
    assert.deepEqual(written, ['r0', 'e1', 'e2', 'r1', 'r2'], 'one token for e2; the replies behind it go with it');
    assert.equal(pacer.sendNow({ kind: 'reply', text: 'r3' }), true, 'nothing waits: a reply goes even with the bucket empty');
    pacer.stop();
  });

  test('at most `blockingWindow` frames go out after the oldest unanswered join; its reply lets the next ones go', () => {
    const { pacer, written } = recordingPacer();
    pacer.start({ rate: undefined, blockingWindow: 2 });
    pacer.send({ kind: 'blocking', ref: 1, text: 'join1' });
    pacer.send({ kind: 'blocking', ref: 2, text: 'join2' });
    pacer.send(plain('e1'));
    pacer.send(plain('e2'));
    pacer.send({ kind: 'blocking', ref: 3, text: 'join3' });
    assert.deepEqual(written, ['join1', 'join2', 'e1'], 'two frames after join1');
    pacer.replied(99); // not a join's ref: nothing changes
    assert.deepEqual(written, ['join1', 'join2', 'e1']);
    pacer.replied(1);
    assert.deepEqual(written, ['join1', 'join2', 'e1', 'e2'], 'two frames after join2, the oldest unanswered now');
    pacer.replied(2);
    pacer.send(plain('e3'));
    pacer.send(plain('e4'));
    assert.deepEqual(written, ['join1', 'join2', 'e1', 'e2', 'join3', 'e3', 'e4']);
    pacer.send(plain('e5'));
    assert.equal(pacer.waiting, 1);
    pacer.replied(3);
    assert.equal(pacer.waiting, 0);
    pacer.stop();
  });

  test('take(): the text when the turn comes; undefined skips the frame at no cost; a frame sent from inside take() queues behind it', () => {
    const clock = manualClock();
    const { pacer, written } = recordingPacer(clock.now);
    pacer.start({ rate: { perSecond: 1, burst: 2 }, blockingWindow: undefined });
    pacer.send({ kind: 'plain', take: () => undefined });
    pacer.send({
      kind: 'plain',
      take: () => {
        pacer.send(plain('sent from take'));
        assert.equal(pacer.sendNow({ kind: 'plain', text: 'x' }), false);
        return 'taken';
      },
    });
    assert.deepEqual(written, ['taken', 'sent from take'], 'the skipped frame took no token');
  });

  test('stop() drops what waits, telling the frames that asked; a stopped pacer takes nothing', () => {
    const { pacer, written } = recordingPacer();
    assert.equal(pacer.send(plain('before the welcome')), false);
    pacer.start({ rate: { perSecond: 1, burst: 1 }, blockingWindow: undefined });
    const dropped: string[] = [];
    pacer.send({ kind: 'plain', text: 'a', dropped: () => dropped.push('a') });
    pacer.send(plain('b'));
    pacer.send({ kind: 'reply', text: 'r', dropped: () => dropped.push('r') });
    pacer.stop();
    assert.deepEqual(dropped, ['r'], 'only what was never written');
    assert.equal(pacer.waiting, 0);
    assert.equal(pacer.send(plain('c')), false);
    assert.equal(pacer.sendNow({ kind: 'plain', text: 'd' }), false);
    pacer.start({ rate: { perSecond: 1, burst: 1 }, blockingWindow: undefined });
    pacer.send(plain('e'));
    assert.deepEqual(written, ['a', 'e'], 'a new socket starts with a full budget');
    pacer.stop();
  });

  test('a write the socket refuses stops the drain, with the rest kept until stop()', () => {
    let open = true;
    const written: string[] = [];
    const pacer = new SendPacer((text) => open && written.push(text) > 0);
    pacer.start({ rate: undefined, blockingWindow: 1 });
    pacer.send({ kind: 'blocking', ref: 1, text: 'j' });
    pacer.send(plain('a'));
    pacer.send(plain('b'));
    open = false;
    pacer.replied(1);
    assert.deepEqual(written, ['j', 'a']);
    pacer.stop();
  });
});

describe('the SDK against a server that announces limits', () => {
  let server: ScriptedServer;
  beforeEach(async () => {
    server = await ScriptedServer.start();
  });
  afterEach(() => server.close());

  const events = (conn: ScriptedConnection): unknown[] => conn.ofType('event').map((f) => f.data);
  /** Everything the client wrote at once before this has arrived: the pong comes after it. */
  async function barrier(conn: ScriptedConnection): Promise<void> {
    const pongs = conn.ofType('pong').length;
    conn.send({ type: 'ping' });
    await eventually(() => conn.ofType('pong').length > pongs, 'the pong');
  }

  it('emits past the burst wait in the buffer and go out in order; past bufferLimit emit throws buffer_full; volatile is dropped while frames wait', async () => {
    server.script.welcome = { limits: { maxMessageBytes: 65536, frameRate: { perSecond: 200, burst: 5 } } };
    const { client, conn } = await server.openConnected({ bufferLimit: { count: 10 } });
    const accepted: number[] = [];
    let refusal: unknown;
    for (let n = 0; n < 30; n++) {
      try {
        client.emit('n', n);
        accepted.push(n);
      } catch (err) {
        refusal ??= err;
      }
    }
    client.volatile.emit('n', 'volatile');
    // Burst 4 (90% of 5) at once, 10 buffered behind them; on a slow machine a token may
    // come back before the first one is buffered. Once one waits, every later emit of the loop does.
    assert.ok(accepted.length >= 14 && accepted.length <= 16, `accepted ${accepted.length}`);
    assert.deepEqual(accepted, Array.from({ length: accepted.length }, (_, i) => i));
    assert.ok(refusal instanceof SwitchboardError && refusal.code === 'buffer_full', String(refusal));
    await eventually(() => events(conn).length === accepted.length, 'the paced emits');
    await barrier(conn);
    assert.deepEqual(events(conn), accepted, 'in order, once; the volatile emit was dropped');
  });

  it('requests and reliable publishes wait in line with emits, in call order', async () => {
    server.script.welcome = { limits: { maxMessageBytes: 65536, frameRate: { perSecond: 200, burst: 2 } } };
    const { client, conn } = await server.openConnected();
    client.emit('e', 0);
    const asked = client.emitWithAck('e', 1);
    client.emit('e', 2);
    const published = client.reliable.emit('e', 3);
    await eventually(() => events(conn).length === 4, 'all four');
    assert.deepEqual(events(conn), [0, 1, 2, 3]);
    const [, ask, , publish] = conn.ofType('event');
    assert.equal(typeof ask?.ref, 'number');
    assert.equal(publish?.seq, 1, 'the publish took its sequence number when it went out');
    conn.send({ type: 'reply', ref: ask?.ref, data: 'one' });
    conn.send({ type: 'reply', ref: publish?.ref, data: 'three' });
    assert.equal(await asked, 'one');
    assert.equal(await published, 'three');
  });

  it('a rejoin keeps at most maxQueuedFrames / 2 frames behind the oldest unanswered join', async () => {
    server.script.welcome = { limits: { maxMessageBytes: 65536, maxQueuedFrames: 4 } };
    const held: Frame[] = [];
    server.script.room = (_conn, frame) => held.push(frame);
    const client = server.open();
    const rooms = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const room of rooms) void client.join(room);
    client.emit('after', 1);
    const conn = await server.nextConnection();
    await nextEvent(client, 'connect');
    await barrier(conn);
    assert.deepEqual(held.map((f) => f.room), ['a', 'b', 'c'], 'join a, then two more');
    const answer = (): void => {
      const frame = held.shift() as Frame;
      conn.send({ type: 'reply', ref: frame.ref, data: { room: frame.room } });
    };
    answer();
    await eventually(() => conn.ofType('join').length === 4, 'one more join');
    await barrier(conn);
    assert.equal(conn.ofType('join').length, 4);
    server.script.room = (c, frame) => c.send({ type: 'reply', ref: frame.ref, data: { room: frame.room } });
    while (held.length > 0) answer();
    await eventually(() => events(conn).length === 1, 'the emit after the joins');
    assert.deepEqual(conn.ofType('join').map((f) => f.room), rooms);
    assert.deepEqual(
      conn.frames.filter((f) => f.type === 'join' || f.type === 'event').map((f) => f.type),
      ['join', 'join', 'join', 'join', 'join', 'join', 'event'],
      'the emit went out after every rejoin',
    );
  });

  for (const code of ['rate_limited', 'cluster_unavailable']) it(`a join refused with ${code} is sent again after a pause: the room stays, the join() resolves, no error event`, async () => {
    const refusedOnce = new Set<string>();
    server.script.room = (conn, frame) => {
      const room = String(frame.room);
      if (frame.type === 'join' && !refusedOnce.has(room)) {
        refusedOnce.add(room);
        conn.send({ type: 'reply', ref: frame.ref, error: { code, message: 'not now' } });
        return;
      }
      conn.send({ type: 'reply', ref: frame.ref, data: { room } });
    };
    const client = server.open();
    const errors: unknown[] = [];
    client.on('error', (err) => errors.push(err));
    const rejoined = client.join('old'); // joined by the first connection, as a rejoin is
    const conn = await server.nextConnection();
    const first = await conn.nextFrame((f) => f.type === 'join' && f.room === 'old');
    assert.deepEqual([...client.rooms], ['old'], `still subscribed after the ${code} reply`);
    const again = await conn.nextFrame((f) => f.type === 'join' && f.room === 'old');
    assert.notEqual(again.ref, first.ref);
    assert.deepEqual(await rejoined, { room: 'old' });
    assert.deepEqual(await client.join('new'), { room: 'new' }, 'a join() call is retried the same way');
    assert.deepEqual([...client.rooms], ['old', 'new']);
    assert.deepEqual(errors, []);
  });

  it('an error frame keeps its details', async () => {
    const { client, conn } = await server.openConnected();
    const error = nextEvent(client, 'error');
    const issues = [{ path: ['items', 2, 'name'], message: 'Expected string' }];
    conn.send({ type: 'error', code: 'bad_request', message: 'event "add": invalid data', details: { issues } });
    const [err] = (await error) as [SwitchboardError];
    assert.ok(err instanceof SwitchboardError);
    assert.equal(err.code, 'bad_request');
    assert.deepEqual(err.details, { issues });
  });

  it('a 1008 close for rate abuse stops the client with policy_violation and the code, and it does not reconnect', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client, conn } = await server.openConnected();
    const stopped = new Promise<StateChange>((resolve) => client.on('state', (change) => change.state === 'disconnected' && resolve(change)));
    conn.send({ type: 'error', code: 'rate_limited', message: 'kept sending past the rate limit; closing' });
    conn.close(1008, 'rate_limited');
    const change = await stopped;
    assert.equal(change.reason, 'policy_violation');
    assert.equal(change.closeCode, 1008);
    assert.equal(change.error?.code, 'rate_limited');
    const later: string[] = [];
    client.on('state', (s) => later.push(s.state));
    t.mock.timers.tick(60_000); // far past any backoff, on the client's mocked clock
    assert.deepEqual(later, [], 'no reconnect');
    assert.equal(server.connections.length, 1);
  });

  it('a welcome without the new limits (an older server) or with malformed ones: no pacing, nothing breaks', async () => {
    server.script.welcome = { limits: { maxMessageBytes: 65536, frameRate: 'fast', maxQueuedFrames: -3, somethingNew: { x: 1 } } };
    const { client, conn } = await server.openConnected();
    for (let n = 0; n < 300; n++) client.emit('n', n);
    await eventually(() => events(conn).length === 300, 'all 300 at once, no buffer_full');
    assert.equal(client.connected, true);
  });
});
