/**
 * The server's hand-built binary WebSocket frames (RFC 6455 §5.2, opcode 2) and the binary
 * message a SharedFrame makes once for every recipient that asked for binary messages.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventEmitter } from 'node:events';
import * as ws from 'ws';
import { encodeFrame } from '../../src/protocol/codec.js';
import { SharedFrame } from '../../src/transport/shared-frame.js';
import { binaryFrame, headerLengthOf } from '../../src/transport/websocket-frame.js';

/** ws's frame parser (exported by ws, not declared by @types/ws). */
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean; binaryType: string }) => EventEmitter & { write(chunk: Buffer): void } };

/** What ws's own parser makes of `frame` (as a client receiving it). */
function parse(frame: Buffer): { data: Buffer; binary: boolean } {
  const receiver = new Receiver({ isServer: false, binaryType: 'nodebuffer' });
  let got: { data: Buffer; binary: boolean } | undefined;
  receiver.on('message', (data: Buffer, binary: boolean) => (got = { data, binary }));
  receiver.write(frame);
  assert.ok(got, 'ws parsed a complete message');
  return got;
}

describe('binary WebSocket frames', () => {
  for (const length of [0, 1, 125, 126, 65_535, 65_536, 70_000]) {
    test(`a ${length}-byte payload: FIN + opcode 2, the right length code, unmasked, and ws reads it back`, () => {
      const bytes = Uint8Array.from({ length }, (_, i) => i % 251);
      const frame = binaryFrame(bytes);
      assert.equal(frame[0], 0x82);
      const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
      assert.equal(headerLengthOf(frame), head);
      assert.equal(frame.length, head + length);
      assert.equal((frame[1] as number) & 0x80, 0, 'a server frame is not masked');
      if (head === 4) assert.equal(frame.readUInt16BE(2), length);
      if (head === 10) assert.equal(Number(frame.readBigUInt64BE(2)), length);
      const parsed = parse(frame);
      assert.equal(parsed.binary, true);
      assert.ok(parsed.data.equals(Buffer.from(bytes)));
    });
  }

  test('the exact bytes of a small one', () => {
    assert.equal(binaryFrame(Uint8Array.of(1, 2, 3)).toString('hex'), '8203010203');
  });
});

describe('SharedFrame and binary messages', () => {
  test('a frame without binary data has none, and its text wire is unchanged', () => {
    const frame = new SharedFrame(encodeFrame({ type: 'event', event: 'e', data: { $bin: 'AAAA' } }));
    assert.equal(frame.binaryWire, undefined, 'a marker-shaped object without "bin" is plain data');
    assert.equal(new SharedFrame('{"type":"event","event":"e","data":1}').binaryWire, undefined);
  });

  test('a frame in the text form makes its binary message once, and ws reads the layout', () => {
    const text = encodeFrame({ type: 'event', event: 'e', data: [Uint8Array.of(7, 8), 'x'] });
    const frame = new SharedFrame(text);
    assert.equal(frame.payload.toString(), text, 'the text wire is the text form');
    const wire = frame.binaryWire as Buffer;
    assert.equal(frame.binaryWire, wire, 'made once, shared by every recipient');
    const { data, binary } = parse(wire);
    assert.equal(binary, true);
    const header = '{"type":"event","event":"e","data":[{"$bin":0},"x"],"bin":1}';
    const expected = Buffer.concat([Buffer.from([0, 0, 0, header.length]), Buffer.from(header), Buffer.from([0, 0, 0, 2, 7, 8])]);
    assert.equal(data.toString('hex'), expected.toString('hex'));
  });
});
