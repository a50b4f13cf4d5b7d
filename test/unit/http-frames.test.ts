import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClose } from '../../src/server/http-transports.js';
import { openingPollBody, parseSendBody, pollBody, splitArray, sseEvent, sseMessages } from '../../src/transport/http-frames.js';

describe('send bodies', () => {
  test('one frame object is passed on as sent', () => {
    assert.deepEqual(parseSendBody(' {"type":"ping"}\n'), { ok: true, frames: ['{"type":"ping"}'] });
  });

  test('an array gives the exact text of each element, in order', () => {
    const body = ' [ {"type":"event","data":[1,{"a":"],}"}]} , {"type":"ping"},\n"s\\"t]",1e400, [ ] ,{} ] ';
    assert.deepEqual(parseSendBody(body), {
      ok: true,
      frames: ['{"type":"event","data":[1,{"a":"],}"}]}', '{"type":"ping"}', '"s\\"t]"', '1e400', '[ ]', '{}'],
    });
    assert.deepEqual(parseSendBody('[]'), { ok: true, frames: [] });
    assert.deepEqual(splitArray('["\\\\",{"k":"\\\\\\""}]'), ['"\\\\"', '{"k":"\\\\\\""}']);
  });

  test('a body that is not JSON, or neither an object nor an array, is refused', () => {
    for (const body of ['', 'nope', '42', '"text"', 'null', 'true', '[{"type":"ping"}', '{"a":1}}']) {
      const parsed = parseSendBody(body);
      assert.equal(parsed.ok, false, body);
    }
  });
});

describe('poll responses', () => {
  const frames = [Buffer.from('{"type":"ping"}'), Buffer.from('{"type":"event","event":"é","data":[1]}')];

  test('frames are copied in order, as JSON', () => {
    assert.equal(pollBody(frames).toString(), '{"frames":[{"type":"ping"},{"type":"event","event":"é","data":[1]}]}');
    assert.equal(pollBody([]).toString(), '{"frames":[]}');
    assert.deepEqual(JSON.parse(openingPollBody('abc').toString()), { cid: 'abc', frames: [] });
  });

  test('the last response of a closed connection says how it closed', () => {
    const body = pollBody(frames.slice(0, 1), { code: 4004, reason: 'session_taken_over "x"' });
    assert.deepEqual(JSON.parse(body.toString()), { frames: [{ type: 'ping' }], close: { code: 4004, reason: 'session_taken_over "x"' } });
  });
});

describe('event streams', () => {
  test('one data line per frame; named events for open and close', () => {
    assert.equal(sseMessages([Buffer.from('{"a":"b\\nc"}'), Buffer.from('{}')]).toString(), 'data: {"a":"b\\nc"}\n\ndata: {}\n\n');
    assert.equal(sseEvent('open', { cid: 'x' }), 'event: open\ndata: {"cid":"x"}\n\n');
    assert.equal(sseEvent('close', { code: 1000, reason: '' }), 'event: close\ndata: {"code":1000,"reason":""}\n\n');
  });
});

describe('close bodies', () => {
  test('code and reason are optional; the default is 1000', () => {
    assert.deepEqual(parseClose(''), { code: 1000, reason: '' });
    assert.deepEqual(parseClose('{}'), { code: 1000, reason: '' });
    assert.deepEqual(parseClose('{"code":4005,"reason":"offline"}'), { code: 4005, reason: 'offline' });
  });

  test('codes a client may not send, and bad reasons, are refused', () => {
    for (const body of ['x', '[]', 'null', '{"code":999}', '{"code":5000}', '{"code":1005}', '{"code":1006}', '{"code":1015}', '{"code":1000.5}', '{"reason":1}', `{"reason":"${'é'.repeat(62)}"}`]) {
      assert.equal(typeof parseClose(body), 'string', body);
    }
  });
});
