/** The doctor's pure parts: WebSocket framing, durations and options, the URL step. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDoctorArgs } from '../../src/cli/doctor/options.js';
import { parseDuration as duration, UsageError } from '../../src/cli/usage.js';
import { resolveTarget, TargetError } from '../../src/cli/doctor/target.js';
import { clientFrame, closePayload, expectedAccept, Opcode, readClose, ServerFrameReader } from '../../src/cli/doctor/ws-frames.js';
import { longestSilence } from '../../src/cli/doctor/idle-step.js';

/** A server (unmasked) frame. */
function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const header = payload.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, payload.length]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

describe('doctor: WebSocket framing', () => {
  test('Sec-WebSocket-Accept of the RFC 6455 example key', () => {
    assert.equal(expectedAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('a client frame is masked and unmasks to its payload, for each length form', () => {
    for (const size of [0, 5, 125, 126, 300, 70_000]) {
      const payload = Buffer.alloc(size, 7);
      const frame = clientFrame(Opcode.Text, payload, Buffer.from([1, 2, 3, 4]));
      assert.equal(frame[0], 0x81);
      assert.equal((frame[1] as number) & 0x80, 0x80, 'masked');
      const extra = size < 126 ? 0 : size < 65536 ? 2 : 8;
      const mask = frame.subarray(2 + extra, 6 + extra);
      const body = frame.subarray(6 + extra).map((b, i) => b ^ (mask[i % 4] as number));
      assert.deepEqual(Buffer.from(body), payload);
    }
  });

  test('the reader joins split chunks and fragments, and passes control frames between fragments', () => {
    const reader = new ServerFrameReader();
    const bytes = Buffer.concat([
      serverFrame(Opcode.Text, Buffer.from('{"type":'), false),
      serverFrame(Opcode.Ping, Buffer.from('p')),
      serverFrame(Opcode.Continuation, Buffer.from('"welcome"}')),
      serverFrame(Opcode.Close, closePayload(1008, 'origin_not_allowed: x')),
    ]);
    const frames = [];
    for (let i = 0; i < bytes.length; i += 3) frames.push(...reader.feed(bytes.subarray(i, i + 3)));
    assert.deepEqual(frames.map((f) => f.opcode), [Opcode.Ping, Opcode.Text, Opcode.Close]);
    assert.equal(frames[1]?.payload.toString(), '{"type":"welcome"}');
    assert.deepEqual(readClose(frames[2]?.payload ?? Buffer.alloc(0)), { code: 1008, reason: 'origin_not_allowed: x' });
    assert.deepEqual(readClose(Buffer.alloc(0)), { code: 1005, reason: '' });
  });

  test('a masked frame from the server is refused', () => {
    assert.throws(() => new ServerFrameReader().feed(Buffer.from([0x81, 0x80, 0, 0, 0, 0])), /masked frame/);
  });
});

describe('doctor: options', () => {
  test('durations: 75s, 500ms, 2m, bare seconds; anything else is bad usage', () => {
    assert.equal(duration('--idle', '75s'), 75_000);
    assert.equal(duration('--idle', '500ms'), 500);
    assert.equal(duration('--idle', '2m'), 120_000);
    assert.equal(duration('--idle', '1.5'), 1500);
    for (const bad of ['', '0', '-1s', '5h', 'soon']) assert.throws(() => duration('--idle', bad), UsageError, bad);
  });

  test('defaults and every option', () => {
    assert.deepEqual(parseDoctorArgs(['ws://h/ws']), { url: 'ws://h/ws', json: false, timeoutMs: 5000, sseWaitMs: 3000, insecure: false });
    assert.deepEqual(parseDoctorArgs(['wss://h/ws', '--json', '--insecure', '--idle', '75s', '--origin', 'https://app.example', '--path', '/rt', '--timeout', '2s', '--sse-wait', '500ms']), {
      url: 'wss://h/ws', json: true, timeoutMs: 2000, sseWaitMs: 500, idleMs: 75_000, origin: 'https://app.example', path: '/rt', insecure: true,
    });
  });
});

describe('doctor: the url step', () => {
  test('ws and wss URLs pass with their default ports', () => {
    const { target, result } = resolveTarget('wss://chat.example.com/ws?x=1', undefined);
    assert.equal(result.status, 'pass');
    assert.deepEqual([target.secure, target.port, target.path, target.requestTarget], [true, 443, '/ws', '/ws?x=1']);
    assert.equal(resolveTarget('ws://[::1]/ws', undefined).target.host, '::1');
  });

  test('https:// is tested as wss://, --path replaces the path, a bad --path or scheme is bad usage', () => {
    const { target, result } = resolveTarget('https://chat.example.com/app', '/ws');
    assert.equal(target.url.href, 'wss://chat.example.com/ws');
    assert.equal(result.status, 'warn');
    assert.equal(result.fix, 'connect to wss://chat.example.com/ws (https:// reaches only the HTTP fallback)');
    assert.throws(() => resolveTarget('ws://h/ws', 'ws'), TargetError);
    assert.throws(() => resolveTarget('mqtt://h/ws', undefined), /has the scheme mqtt:/);
  });

  test('the longest silence between heartbeat pings: interval plus the sweep delay', () => {
    assert.equal(longestSilence({ interval: 25_000, timeout: 20_000 }), 30_000);
    assert.equal(longestSilence({ interval: 30_000, timeout: 30_000 }), 37_500);
    assert.equal(longestSilence({ interval: 10, timeout: 10 }), 15);
  });
});
