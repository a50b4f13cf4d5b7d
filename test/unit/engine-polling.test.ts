/** The pure parts of Engine.IO long-polling and its refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePayload } from 'engine.io-parser';
import { engineErrorBody, engineRefusal, EngineErrorCode } from '../../src/compat/socketio/engine-errors.js';
import { decodePostPayload, payloadOf } from '../../src/compat/socketio/engine-polling.js';
import { isEngineCodecError } from '../../src/compat/socketio/engine-packets.js';

test('payloadOf joins text packets as they are and writes binary messages as b + base64', () => {
  assert.equal(payloadOf(['4a', '2', '4✓']), '4a\x1e2\x1e4✓');
  assert.equal(payloadOf(['4a', new Uint8Array([1, 2, 3]), '6']), '4a\x1ebAQID\x1e6');
  assert.equal(payloadOf([new Uint8Array([])]), 'b');
});

test('payloadOf refuses a text packet holding the record separator, even alone', () => {
  const result = payloadOf(['4a\x1eb']);
  assert.ok(isEngineCodecError(result));
  assert.equal(result.error, 'separator-in-packet');
});

test('decodePostPayload never refuses a payload within maxPayload for its number of packets', () => {
  const text = Array.from({ length: 50 }, () => '6').join('\x1e');
  const packets = decodePostPayload(text, text.length);
  assert.ok(!isEngineCodecError(packets));
  assert.equal(packets.length, 50);
});

test('an empty POST body is a malformed payload', () => {
  assert.ok(isEngineCodecError(decodePostPayload('', 100)));
});

test('engine.io-parser reads what payloadOf writes', () => {
  const packets = decodePayload(payloadOf(['4hi', new Uint8Array([9])]) as string, 'nodebuffer');
  assert.deepEqual(packets.map((p) => p.type), ['message', 'message']);
  assert.equal(packets[0]?.data, 'hi');
  assert.deepEqual([...(packets[1]?.data as Buffer)], [9]);
});

test('refusal bodies: engine.io code and message, then Switchboard context when there is one', () => {
  assert.equal(engineErrorBody(engineRefusal(EngineErrorCode.UnknownSid)), '{"code":1,"message":"Session ID unknown"}');
  assert.equal(engineRefusal(EngineErrorCode.Forbidden).status, 403);
  assert.equal(engineRefusal(EngineErrorCode.UnknownTransport).status, 400);
  const origin = engineRefusal(EngineErrorCode.Forbidden, { code: 'origin_not_allowed', message: 'no' });
  assert.equal(engineErrorBody(origin), '{"code":4,"message":"Forbidden","context":{"code":"origin_not_allowed","message":"no"}}');
});
