import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSocketIoOptions } from '../../src/compat/socketio/options.js';
import { RecoveryLedger } from '../../src/compat/socketio/recovery-ledger.js';
import { MAX_OFFSET_ROOMS, parseOffset, SeenPositions } from '../../src/compat/socketio/recovery-offsets.js';
import { resolveOptions } from '../../src/server/options.js';

describe('the socketIo option', () => {
  const defaults = { heartbeat: { interval: 25_000, timeout: 20_000 }, maxMessageBytes: 65_536 };

  test('off unless given; true takes the server-derived defaults', () => {
    assert.equal(resolveSocketIoOptions(undefined, defaults), undefined);
    assert.equal(resolveSocketIoOptions(false, defaults), undefined);
    assert.deepEqual(resolveSocketIoOptions(true, defaults), {
      path: '/socket.io/',
      transports: ['polling', 'websocket'],
      pingInterval: 25_000,
      pingTimeout: 20_000,
      maxPayload: 65_536,
      upgradeTimeout: 10_000,
      maxAttachments: 10,
      recovery: false,
    });
    assert.equal(resolveOptions({ socketIo: true, heartbeat: { interval: 5000 } }).socketIo?.pingInterval, 5000);
  });

  test('a path gets its trailing slash; options are taken as given', () => {
    const resolved = resolveSocketIoOptions({ path: '/io', transports: ['websocket'], recovery: true, maxPayload: 1_000_000 }, defaults);
    assert.equal(resolved?.path, '/io/');
    assert.deepEqual(resolved?.transports, ['websocket']);
    assert.equal(resolved?.recovery, true);
    assert.equal(resolved?.maxPayload, 1_000_000);
  });

  test('bad values and unknown names throw when the server is made', () => {
    assert.throws(() => resolveOptions({ socketIo: { path: 'socket.io' } }), TypeError);
    assert.throws(() => resolveOptions({ socketIo: { transports: [] } }), TypeError);
    assert.throws(() => resolveOptions({ socketIo: { transports: ['sse' as 'polling'] } }), TypeError);
    assert.throws(() => resolveOptions({ socketIo: { pingInterval: 0 } }), RangeError);
    assert.throws(() => resolveOptions({ socketIo: { maxPayload: 1.5 } }), RangeError);
    assert.throws(() => resolveOptions({ socketIo: { recovery: 'yes' as unknown as boolean } }), TypeError);
    assert.throws(() => resolveOptions({ socketIo: { cors: {} } as never }), /socketIo\.cors/);
  });
});

describe('recovery offsets', () => {
  test('a count alone, and a count with the positions of durable rooms, round-trip', () => {
    const seen = new SeenPositions();
    assert.equal(seen.offset(7), '7');
    assert.deepEqual(parseOffset('7'), { count: 7, positions: new Map() });
    seen.set('feed', { epoch: 'e1', offset: 4 });
    seen.set('news', { epoch: 'e2', offset: 9 });
    const offset = seen.offset(12);
    assert.match(offset, /^12\.[A-Za-z0-9_-]+$/);
    const parsed = parseOffset(offset);
    assert.equal(parsed?.count, 12);
    assert.deepEqual([...(parsed?.positions ?? [])], [
      ['feed', { epoch: 'e1', offset: 4 }],
      ['news', { epoch: 'e2', offset: 9 }],
    ]);
  });

  test('what is not one of our offsets is refused, not half-read', () => {
    const encode = (value: unknown): string => `3.${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
    for (const bad of [undefined, 3, '', '-1', '1e3', '9'.repeat(16), '3.', '3.!!', encode({}), encode([['r', 'e']]), encode([['', 'e', 1]]), encode([['r', 'e', -1]]), encode([['r', 'e', 1.5]]), 'x'.repeat(40_000)]) {
      assert.equal(parseOffset(bad), undefined, String(bad).slice(0, 40));
    }
  });

  test('a publication at or before the last position of the same epoch was seen; another epoch was not', () => {
    const seen = new SeenPositions();
    seen.set('feed', { epoch: 'e1', offset: 4 });
    assert.equal(seen.seen('feed', { epoch: 'e1', offset: 4 }), true);
    assert.equal(seen.seen('feed', { epoch: 'e1', offset: 3 }), true);
    assert.equal(seen.seen('feed', { epoch: 'e1', offset: 5 }), false);
    assert.equal(seen.seen('feed', { epoch: 'e2', offset: 1 }), false);
    assert.equal(seen.seen('other', { epoch: 'e1', offset: 1 }), false);
  });

  test(`an offset carries at most ${MAX_OFFSET_ROOMS} rooms, the most recently moved`, () => {
    const seen = new SeenPositions();
    for (let i = 0; i < MAX_OFFSET_ROOMS + 5; i++) seen.set(`room-${i}`, { epoch: 'e', offset: i });
    seen.set('room-6', { epoch: 'e', offset: 100 });
    const rooms = [...(parseOffset(seen.offset(1))?.positions.keys() ?? [])];
    assert.equal(rooms.length, MAX_OFFSET_ROOMS);
    assert.equal(rooms.includes('room-0'), false);
    assert.equal(rooms.at(-1), 'room-6');
  });
});

describe('the recovery ledger', () => {
  test('received: the offset less the base, never below what the client proved it got', () => {
    const ledger = new RecoveryLedger(60_000);
    assert.equal(ledger.receivedFor('unknown', 9), 9, 'a session this node does not know: the offset as it is');
    assert.equal(ledger.receivedFor('unknown', undefined), 0);
    ledger.set('p', 100, 3);
    assert.equal(ledger.receivedFor('p', 110), 10);
    assert.equal(ledger.receivedFor('p', 101), 3, 'replies after the last event were acknowledged by a pong');
    assert.equal(ledger.receivedFor('p', undefined), 3);
    assert.equal(ledger.receivedFor('p', 50), 3, 'an offset from before the takeover');
  });

  test('entries untouched for longer than their keep are let go', () => {
    let now = 0;
    const ledger = new RecoveryLedger(1000, () => now);
    ledger.set('a', 0, 1);
    now = 600;
    ledger.set('b', 0, 1);
    now = 1200;
    ledger.set('a', 0, 2);
    assert.equal(ledger.size, 2, 'a was touched again; b is within its keep');
    now = 1700;
    ledger.set('c', 0, 1);
    assert.deepEqual([ledger.get('a'), ledger.get('b') === undefined, ledger.get('c')], [{ base: 0, acked: 2, touched: 1200 }, true, { base: 0, acked: 1, touched: 1700 }]);
  });
});
