/** Users as addresses, the pure parts: user room names, user ids, who may use a user room, and what the SDK makes of close 4010. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyClose } from '../../src/client/close-outcome.js';
import { closeCodeInfo } from '../../src/protocol/close-code-table.js';
import { shouldReconnectAfter } from '../../src/protocol/close-codes.js';
import { isUserRoom, MAX_USER_ID_LENGTH, USER_ROOM_PREFIX, userIdProblem, userRoom, userRooms } from '../../src/protocol/user-rooms.js';
import { userRoomAccess } from '../../src/server/room-requests.js';
import { MAX_NAME_LENGTH } from '../../src/protocol/constants.js';

describe('user rooms', () => {
  test('a user room is the prefix and the id; the longest one is still a valid room name', () => {
    assert.equal(USER_ROOM_PREFIX, '#user:');
    assert.equal(userRoom('42'), '#user:42');
    assert.equal(userRoom('ü'), '#user:ü');
    assert.ok(userRoom('x'.repeat(MAX_USER_ID_LENGTH)).length <= MAX_NAME_LENGTH);
    assert.equal(isUserRoom('#user:42'), true);
    assert.equal(isUserRoom('#user:'), true, 'the bare prefix is a user room too (of nobody): refused to clients');
    assert.equal(isUserRoom('user:42'), false);
    assert.equal(isUserRoom('#users'), false);
  });

  test('a user id is a string of 1 to 200 UTF-16 code units', () => {
    assert.equal(userIdProblem('a'), undefined);
    assert.equal(userIdProblem('x'.repeat(200)), undefined);
    assert.equal(userIdProblem('😀'.repeat(100)), undefined, 'code units, not code points');
    assert.match(userIdProblem('😀'.repeat(101)) ?? '', /at most 200/);
    assert.match(userIdProblem('') ?? '', /empty/);
    assert.match(userIdProblem(7) ?? '', /string, got number/);
    assert.match(userIdProblem(null) ?? '', /got null/);
    assert.throws(() => userRoom(''), TypeError);
  });

  test('toUser targets: one room, several, never none (to([]) would be everyone)', () => {
    assert.equal(userRooms('a'), '#user:a');
    assert.deepEqual(userRooms(['a', 'b']), ['#user:a', '#user:b']);
    assert.throws(() => userRooms([]), /at least one user id/);
    assert.throws(() => userRooms(['a', '']), TypeError);
  });

  test('a socket may use its own user room only; a socket without a user none', () => {
    const alice = { user: 'alice' };
    const nobody = { user: undefined };
    assert.equal(userRoomAccess(alice, '#user:alice'), 'own');
    assert.equal(userRoomAccess(alice, '#user:bob'), 'refused');
    assert.equal(userRoomAccess(alice, '#user:alice2'), 'refused');
    assert.equal(userRoomAccess(alice, '#user:'), 'refused');
    assert.equal(userRoomAccess(nobody, '#user:alice'), 'refused');
    assert.equal(userRoomAccess(nobody, '#user:'), 'refused');
    assert.equal(userRoomAccess(alice, 'lobby'), undefined, 'other rooms: the usual rules');
    assert.equal(userRoomAccess(nobody, 'user:alice'), undefined);
  });
});

describe('close 4010 user_disconnected', () => {
  const ctx = { url: 'ws://x/ws', handshakeDone: true, lastError: undefined, maxMessageBytes: 1024 };
  const closed = { code: 4010, reason: 'user_disconnected', opened: true, errorMessage: undefined };

  test('is in the close code table, and the SDK does not reconnect after it', () => {
    assert.equal(closeCodeInfo(4010)?.name, 'user_disconnected');
    assert.equal(closeCodeInfo(4010)?.reconnect, false);
    assert.equal(shouldReconnectAfter(4010), false);
  });

  test('the SDK reports reason user_disconnected with the error frame that came before it', () => {
    const out = classifyClose(closed, { ...ctx, lastError: { code: 'user_disconnected', message: 'signed out everywhere' } });
    assert.equal(out.reason, 'user_disconnected');
    assert.equal(out.reconnect, false);
    assert.equal(out.details.closeCode, 4010);
    assert.deepEqual([out.details.error?.code, out.details.error?.message], ['user_disconnected', 'signed out everywhere']);
    assert.equal(out.connectError, undefined);
  });

  test('without that error frame (or after an unrelated one) the error is still user_disconnected', () => {
    for (const lastError of [undefined, { code: 'bad_request', message: 'older problem' }]) {
      const out = classifyClose(closed, { ...ctx, lastError });
      assert.equal(out.reason, 'user_disconnected');
      assert.equal(out.details.error?.code, 'user_disconnected');
    }
  });
});
