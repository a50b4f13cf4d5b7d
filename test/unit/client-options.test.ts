import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/client/node.js';

test('bad timing options fail at connect() with a RangeError naming the option', () => {
  const url = 'ws://127.0.0.1:9/ws';
  for (const [options, name] of [
    [{ ackTimeout: 0 }, 'ackTimeout'],
    [{ ackTimeout: Number.NaN }, 'ackTimeout'],
    [{ connectTimeout: -5 }, 'connectTimeout'],
    [{ reconnect: { delay: Number.POSITIVE_INFINITY } }, 'reconnect.delay'],
    [{ reconnect: { maxDelay: 0 } }, 'reconnect.maxDelay'],
    [{ bufferLimit: { count: 0 } }, 'bufferLimit.count'],
    [{ outboxLimit: { count: 0 } }, 'outboxLimit.count'],
    [{ outboxLimit: { count: 1000 } }, 'outboxLimit.count'], // the server's dedupe window is 1000: the outbox must stay below it
    [{ outboxLimit: { count: 2.5 } }, 'outboxLimit.count'],
    [{ outboxLimit: { bytes: -1 } }, 'outboxLimit.bytes'],
  ] as const) {
    assert.throws(() => connect(url, options), (err: unknown) => err instanceof RangeError && err.message.includes(name), name);
  }
});

test('Infinity means no timeout instead of a 1 ms timer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  // Port 9 (discard) refuses: the client keeps retrying, and the join waits for a connection.
  const client = connect('ws://127.0.0.1:9/ws', { ackTimeout: Number.POSITIVE_INFINITY, connectTimeout: Number.POSITIVE_INFINITY, reconnect: { delay: 1000, maxDelay: 1000 } });
  t.after(() => client.close());
  let settled = false;
  client.join('room').then(
    () => (settled = true),
    () => (settled = true),
  );
  t.mock.timers.tick(2 ** 31); // longer than any timer can wait: a finite timeout would have fired
  await new Promise((resolve) => setImmediate(resolve)); // and its rejection reached the handlers
  assert.equal(settled, false);
});

test('an unknown option throws a TypeError naming it, and what to use instead for socket.io-client names and renamed ones', () => {
  const url = 'ws://127.0.0.1:9/ws';
  for (const [options, message] of [
    [{ reconnectionDelay: 500 }, /option reconnectionDelay is unknown; use reconnect\.delay instead/],
    [{ timeout: 5000 }, /option timeout is unknown; use connectTimeout instead/],
    [{ reconnect: { baseMs: 10 } }, /option reconnect\.baseMs is unknown; use reconnect\.delay instead/],
    [{ bufferLimit: { maximum: 10 } }, /option bufferLimit\.maximum is unknown; the options are bufferLimit\.count, bufferLimit\.bytes/],
    [{ reconect: true }, /option reconect is unknown; did you mean reconnect\?/],
    [{ transport: ['polling'] }, /option transport is unknown/],
  ] as const) {
    assert.throws(() => connect(url, options as never), (err: unknown) => err instanceof TypeError && message.test(err.message), String(message));
  }
});
