import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyClose, originRefused } from '../../src/client/close-outcome.js';

const ctx = { url: 'ws://x/ws', handshakeDone: true, lastError: undefined, maxMessageBytes: 1024 };
const closed = (code: number, reason = '') => ({ code, reason, opened: true, errorMessage: undefined });

describe('classifyClose', () => {
  it('a socket that never opened is a transport error and reconnects', () => {
    const out = classifyClose({ code: 1006, reason: '', opened: false, errorMessage: 'connect ECONNREFUSED' }, { ...ctx, handshakeDone: false });
    assert.equal(out.reason, 'transport_error');
    assert.equal(out.reconnect, true);
    assert.equal(out.connectError?.code, 'disconnected');
    assert.match(out.connectError?.message ?? '', /ECONNREFUSED/);
  });

  it('follows the close-code table for reconnects', () => {
    assert.deepEqual([1000, 1001, 1006, 1008, 1009, 1011, 4000, 4003, 4999].map((c) => classifyClose(closed(c), ctx).reconnect), [
      false, true, true, false, true, true, false, false, true,
    ]);
  });

  it('names the reason of each special code', () => {
    assert.equal(classifyClose(closed(1000), ctx).reason, 'server_disconnect');
    assert.equal(classifyClose(closed(1001), ctx).reason, 'server_shutdown');
    assert.equal(classifyClose(closed(1006), ctx).reason, 'transport_closed');
    assert.equal(classifyClose(closed(4003), ctx).reason, 'unsupported_version');
    assert.equal(classifyClose(closed(4000), ctx).reason, 'protocol_error');
  });

  it('1008 during the handshake is unauthorized, with the error frame as the error', () => {
    const out = classifyClose(closed(1008), { ...ctx, handshakeDone: false, lastError: { code: 'token_expired', message: 'token expired' } });
    assert.equal(out.reason, 'unauthorized');
    assert.equal(out.details.error?.code, 'token_expired');
    assert.equal(out.details.closeCode, 1008);
    assert.equal(out.connectError?.message, 'token expired');
  });

  it('1008 after the welcome is a policy violation, not a connect error', () => {
    const out = classifyClose(closed(1008), { ...ctx, lastError: { code: 'overloaded', message: 'too many frames' } });
    assert.equal(out.reason, 'policy_violation');
    assert.equal(out.details.error?.code, 'overloaded');
    assert.equal(out.connectError, undefined);
  });

  it('1008 without an error frame surfaces the code its reason names (`<code>: <message>`), before and after the welcome', () => {
    const before = classifyClose(closed(1008, 'token_expired: the token expired'), { ...ctx, handshakeDone: false });
    assert.equal(before.reason, 'unauthorized');
    assert.equal(before.connectError?.code, 'token_expired');
    assert.equal(before.connectError?.message, 'the token expired');
    const after = classifyClose(closed(1008, 'rate_limited'), ctx);
    assert.equal(after.reason, 'policy_violation');
    assert.equal(after.details.error?.code, 'rate_limited');
    // Free text is a message, not a code.
    const prose = classifyClose(closed(1008, 'go away now'), { ...ctx, handshakeDone: false });
    assert.equal(prose.connectError?.code, 'unauthorized');
    assert.equal(prose.connectError?.message, 'go away now');
  });

  it('1008 origin_not_allowed: no reconnect, and the error says the remedy', () => {
    const out = classifyClose(closed(1008, 'origin_not_allowed: https://evil.example is not in allowedOrigins'), { ...ctx, handshakeDone: false });
    assert.equal(out.reason, 'unauthorized');
    assert.equal(out.reconnect, false);
    assert.equal(out.connectError?.code, 'origin_not_allowed');
    assert.match(out.connectError?.message ?? '', /allowedOrigins option \(the server said: https:\/\/evil\.example is not in allowedOrigins\)$/);
  });

  it('an HTTP open refused with origin_not_allowed: no reconnect either', () => {
    const refused = { code: 1006, reason: 'origin_not_allowed', opened: false, errorMessage: 'HTTP 403', refusal: { code: 'origin_not_allowed', message: 'no' } };
    const out = classifyClose(refused, { ...ctx, transport: 'sse', handshakeDone: false });
    assert.equal(out.reason, 'unauthorized');
    assert.equal(out.reconnect, false);
    assert.equal(out.connectError?.code, 'origin_not_allowed');
  });

  it("names the page's origin (location.origin) in the remedy when there is a page", () => {
    const had = Object.getOwnPropertyDescriptor(globalThis, 'location');
    Object.defineProperty(globalThis, 'location', { value: { origin: 'https://app.example:8443' }, configurable: true });
    try {
      const error = originRefused('', 'wss://api.example/ws');
      assert.equal(error.code, 'origin_not_allowed');
      assert.equal(error.message, "wss://api.example/ws does not accept connections from pages on https://app.example:8443: add 'https://app.example:8443' to the server's allowedOrigins option");
    } finally {
      if (had) Object.defineProperty(globalThis, 'location', had);
      else delete (globalThis as { location?: unknown }).location;
    }
    assert.match(originRefused('', 'ws://x/ws').message, /the Origin this client sent: add that origin to the server's allowedOrigins option$/);
  });

  it('4009 is slow_consumer and reconnects, with the error frame when it said so', () => {
    const out = classifyClose(closed(4009, 'slow consumer'), { ...ctx, lastError: { code: 'slow_consumer', message: 'too far behind in room news' } });
    assert.equal(out.reason, 'slow_consumer');
    assert.equal(out.reconnect, true);
    assert.equal(out.details.closeCode, 4009);
    assert.equal(out.details.error?.message, 'too far behind in room news');
    assert.equal(out.connectError, undefined);
    // An unrelated earlier error frame is not taken as the cause.
    const bare = classifyClose(closed(4009), { ...ctx, lastError: { code: 'bad_request', message: 'older problem' } });
    assert.equal(bare.reason, 'slow_consumer');
    assert.equal(bare.details.error?.code, 'slow_consumer');
  });

  it('1009 says how big a message may be', () => {
    const out = classifyClose(closed(1009), ctx);
    assert.equal(out.reason, 'message_too_big');
    assert.equal(out.details.error?.message, 'message too big: the server accepts at most 1024 bytes per frame');
  });
});
