import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandError, parseCommandLine, parseJsonCommand, parsePosition } from '../../src/cli/connect/actions.js';
import { normalizeUrl } from '../../src/cli/connect/connect-options.js';
import { parseDuration, UsageError } from '../../src/cli/usage.js';

test('interactive lines parse into the same actions as JSON lines', () => {
  assert.deepEqual(parseCommandLine('join news --since ab:c:12'), { cmd: 'join', room: 'news', since: { epoch: 'ab:c', offset: 12 } });
  assert.deepEqual(parseJsonCommand('{"cmd":"join","room":"news","since":{"epoch":"ab:c","offset":12}}').action, parseCommandLine('join news --since ab:c:12'));
  assert.deepEqual(parseCommandLine('  emit chat {"text": "a b"} '), { cmd: 'emit', event: 'chat', data: { text: 'a b' } });
  assert.deepEqual(parseCommandLine('request ping'), { cmd: 'request', event: 'ping' });
  assert.deepEqual(parseCommandLine('history news 5'), { cmd: 'history', room: 'news', limit: 5 });
  assert.deepEqual(parseCommandLine('EXIT'), { cmd: 'quit' });
  assert.equal(parseCommandLine('   '), undefined);
  assert.deepEqual(parseJsonCommand('{"cmd":"request","event":"e","data":null,"timeout":0,"id":"x"}'), { action: { cmd: 'request', event: 'e', data: null, timeout: 0 }, id: 'x' });
});

test('bad input is a CommandError with a message that says what to type', () => {
  const cases: Array<[string, RegExp]> = [
    ['join', /usage: join <room>.*\(the room is missing\)/],
    ['join a b', /usage: join <room>/],
    ['emit', /usage: emit <event> \[json\]/],
    ['emit x {', /bad JSON/],
    ['history r ten', /the limit is a whole number/],
    ['join r --since 12', /a position is <epoch>:<offset>/],
    ['rooms now', /rooms takes no arguments/],
    ['dance', /unknown command "dance"/],
  ];
  for (const [line, message] of cases) assert.throws(() => parseCommandLine(line), (e: unknown) => e instanceof CommandError && message.test(e.message), line);
  assert.throws(() => parseJsonCommand('[1]'), /a command is a JSON object/);
  assert.throws(() => parseJsonCommand('{"cmd":"leave","id":true}'), /"id" must be a string or a number/);
  assert.throws(() => parseJsonCommand('{"cmd":"history","room":"r","limit":1.5,"id":3}'), (e: unknown) => e instanceof CommandError && e.id === 3);
  assert.throws(() => parsePosition(':4'), CommandError);
});

test('URLs: http(s) means ws(s), a bare host gets /ws, other paths are kept', () => {
  assert.equal(normalizeUrl('ws://localhost:3000'), 'ws://localhost:3000/ws');
  assert.equal(normalizeUrl('https://example.com'), 'wss://example.com/ws');
  assert.equal(normalizeUrl('http://example.com/realtime'), 'ws://example.com/realtime');
  assert.equal(normalizeUrl('ws://example.com/'), 'ws://example.com/');
  assert.throws(() => normalizeUrl('localhost:3000'), UsageError);
  assert.equal(parseDuration('--timeout', '10s'), 10_000);
  assert.equal(parseDuration('--timeout', '250ms'), 250);
  assert.equal(parseDuration('--timeout', '2'), 2000, 'a bare number is seconds, in every command');
  assert.throws(() => parseDuration('--timeout', '0s'), UsageError);
});
