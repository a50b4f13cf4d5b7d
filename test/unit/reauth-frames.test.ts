/** The `reauth` frame in the codec (server → client only) and what the SDK makes of close 4006. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyClose } from '../../src/client/close-outcome.js';
import { decodeClientFrame, decodeServerFrame } from '../../src/protocol/codec.js';

describe('the reauth frame', () => {
  test('the SDK accepts it from the server, with or without ns', () => {
    assert.deepEqual(decodeServerFrame('{"type":"reauth","ref":3}'), { ok: true, frame: { type: 'reauth', ref: 3 } });
    assert.deepEqual(decodeServerFrame('{"type":"reauth","ref":4,"ns":"/admin"}'), { ok: true, frame: { type: 'reauth', ref: 4, ns: '/admin' } });
  });

  test('a reauth without a valid ref or with a bad ns is a bad_request', () => {
    for (const text of ['{"type":"reauth"}', '{"type":"reauth","ref":-1}', '{"type":"reauth","ref":1,"ns":"admin"}']) {
      const decoded = decodeServerFrame(text);
      assert.equal(decoded.ok, false, text);
      if (!decoded.ok) assert.equal(decoded.error.code, 'bad_request');
    }
  });

  test('a client sending reauth gets unknown_frame_type, answered to its ref', () => {
    const decoded = decodeClientFrame('{"type":"reauth","ref":9}');
    assert.equal(decoded.ok, false);
    if (!decoded.ok) {
      assert.equal(decoded.error.code, 'unknown_frame_type');
      assert.equal(decoded.ref, 9);
    }
  });
});

describe('close 4006 in the SDK', () => {
  const ctx = { url: 'ws://x/ws', handshakeDone: true, maxMessageBytes: 1024 };
  const closed = { code: 4006, reason: 'auth_expired', opened: true, errorMessage: undefined };

  test('is auth_expired and reconnects, with the error frame that came before it', () => {
    const outcome = classifyClose(closed, { ...ctx, lastError: { code: 'account_suspended', message: 'suspended' } });
    assert.equal(outcome.reason, 'auth_expired');
    assert.equal(outcome.reconnect, true);
    assert.equal(outcome.details.closeCode, 4006);
    assert.deepEqual([outcome.details.error?.code, outcome.details.error?.message], ['account_suspended', 'suspended']);
    assert.equal(outcome.connectError, undefined);
  });

  test('without an error frame the error is auth_expired', () => {
    const outcome = classifyClose(closed, { ...ctx, lastError: undefined });
    assert.equal(outcome.details.error?.code, 'auth_expired');
  });
});
