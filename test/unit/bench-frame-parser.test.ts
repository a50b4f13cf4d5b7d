import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameParser, Opcode, type FrameSink } from '../../bench/load/frame-parser.js';
import { maskedFrame } from '../../bench/load/frame-writer.js';
import { serverFrame } from '../../bench/servers/coalescer.js';

/** Records every frame; decodes payloads when `decode` says so. */
function recorder(decode: (opcode: number, length: number) => boolean = () => true) {
  const frames: { opcode: number; fin: boolean; text: string | undefined; length: number }[] = [];
  const sink: FrameSink = {
    wantPayload: decode,
    onFrame: (opcode, fin, payload, length) => frames.push({ opcode, fin, text: payload?.toString('utf8'), length }),
  };
  return { frames, parser: new FrameParser(sink) };
}

// Payload sizes on both sides of the 7-bit, 16-bit and 64-bit length encodings.
const SIZES = [0, 1, 125, 126, 127, 300, 65535, 65536, 70000];
const text = (n: number): string => 'abcdefghij'.repeat(Math.ceil(n / 10)).slice(0, n);

test('the bench frame parser reads server frames of every length encoding from one chunk', () => {
  const { frames, parser } = recorder();
  parser.push(Buffer.concat(SIZES.map((n) => serverFrame(text(n)))));
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.fin, f.length, f.text === text(f.length)]),
    SIZES.map((n) => [Opcode.Text, true, n, true]),
  );
});

test('the bench frame parser reads frames split at every byte, from a reused buffer', () => {
  const { frames, parser } = recorder();
  const wire = Buffer.concat([serverFrame(text(130)), serverFrame('{"type":"ping"}'), serverFrame(text(65536)), serverFrame('x')]);
  // The load generator reads every socket into one shared buffer: the parser must copy what it keeps.
  const shared = Buffer.alloc(1);
  for (const byte of wire) {
    shared[0] = byte;
    parser.push(shared, 0, 1);
    shared[0] = 0;
  }
  assert.deepEqual(frames.map((f) => f.text), [text(130), '{"type":"ping"}', text(65536), 'x']);
});

test('the bench frame parser counts frames without copying payloads the sink does not want', () => {
  const { frames, parser } = recorder((_opcode, length) => length <= 32);
  const wire = Buffer.concat([serverFrame(text(100)), serverFrame('2'), serverFrame(text(200))]);
  parser.push(wire, 0, 7);
  parser.push(wire, 7, 150);
  parser.push(wire, 150);
  assert.deepEqual(
    frames.map((f) => [f.length, f.text]),
    [
      [100, undefined],
      [1, '2'],
      [200, undefined],
    ],
  );
});

test('the bench frame parser unmasks masked frames and reports control frames and fragments', () => {
  const { frames, parser } = recorder();
  const fragment = Buffer.from(serverFrame('part'));
  fragment[0] = Opcode.Text; // FIN bit cleared
  parser.push(Buffer.concat([maskedFrame(Opcode.Text, 'héllo'), maskedFrame(Opcode.Ping, 'p'), fragment, maskedFrame(Opcode.Continuation, 'end')]));
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.fin, f.text]),
    [
      [Opcode.Text, true, 'héllo'],
      [Opcode.Ping, true, 'p'],
      [Opcode.Text, false, 'part'],
      [Opcode.Continuation, true, 'end'],
    ],
  );
});
