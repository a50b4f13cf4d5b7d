/**
 * What every command's option parsing shares (src/cli/usage.ts): durations, and the `--auth`
 * JSON whose error message must never repeat the value (it is often a token).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAuthJson, parseDuration, UsageError } from '../../src/cli/usage.js';
import { parseBenchArgs } from '../../src/cli/bench/bench-options.js';
import { parseConnectArgs } from '../../src/cli/connect/connect-options.js';
import { parseDoctorArgs } from '../../src/cli/doctor/options.js';

/** The UsageError message `run` throws. */
function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  assert.fail('no UsageError');
}

describe('parseAuthJson', () => {
  test('any JSON value comes back parsed', () => {
    assert.deepEqual(parseAuthJson('--auth', '{"token":"abc"}'), { token: 'abc' });
    assert.deepEqual(parseAuthJson('--auth', ' ["a", 1] '), ['a', 1]);
    assert.equal(parseAuthJson('--auth', '"just-a-string"'), 'just-a-string');
  });

  test('not JSON: says where it goes wrong, never the value (V8 quotes it; this must not)', () => {
    for (const [text, where] of [
      ['sk_live_abcdef0123456789', 'unexpected character at position 0'], // a bare token, quotes forgotten
      ['{"token":sk_live_abcdef}', 'unexpected character at position 9'],
      ['{token:"sk_live_abcdef"}', 'unexpected character at position 1'],
      ['{"token":"sk_live_abcdef"} extra', 'unexpected character at position 27'],
      ['{"token":"sk_live_abcdef"', 'it ends before the value is complete'],
      ['', 'it ends before the value is complete'],
    ] as const) {
      const message = usageMessage(() => parseAuthJson('--auth', text));
      assert.equal(message, `--auth takes the hello's auth payload as JSON, such as '{"token":"…"}'; the value given (not shown: it may be a secret) is not JSON: ${where}`, text);
      assert.doesNotMatch(message, /sk_live|extra/, text);
    }
  });

  test('doctor, connect and bench all use it', () => {
    const secret = 'hunter2-admin-token';
    for (const parse of [
      () => parseDoctorArgs(['ws://x/ws', '--auth', secret]),
      () => parseConnectArgs(['ws://x/ws', '--auth', secret]),
      () => parseBenchArgs(['ws://x/ws', '--auth', secret], {}),
    ]) {
      const message = usageMessage(parse);
      assert.match(message, /^--auth takes the hello's auth payload as JSON.*unexpected character at position 0$/);
      assert.ok(!message.includes(secret), message);
    }
  });
});

describe('parseDuration', () => {
  test('units, bare seconds, and a one-line error naming the option', () => {
    assert.equal(parseDuration('--timeout', '500ms'), 500);
    assert.equal(parseDuration('--timeout', '75s'), 75_000);
    assert.equal(parseDuration('--timeout', '2m'), 120_000);
    assert.equal(parseDuration('--timeout', '1.5'), 1500);
    assert.equal(usageMessage(() => parseDuration('--timeout', '0')), '--timeout takes a duration such as 75s, 500ms or 2m; got "0"');
  });
});
