import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeBinaryMessage,
  encodeTextForm,
  fromBase64,
  hasBinary,
  splitBinaryMessage,
  textFormToBinaryMessage,
  toBase64,
} from '../../src/protocol/binary.js';
import { decodeClientBinary, decodeClientFrame, decodeServerBinary, decodeServerFrame, encodeFrame } from '../../src/protocol/codec.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/** A binary message built by hand, byte by byte, as PROTOCOL.md lays it out. */
function message(header: string, ...attachments: Uint8Array[]): Uint8Array {
  const head = Buffer.from(header);
  const parts: Buffer[] = [Buffer.alloc(4), head];
  parts[0]!.writeUInt32BE(head.length);
  for (const a of attachments) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(a.length);
    parts.push(length, Buffer.from(a));
  }
  return new Uint8Array(Buffer.concat(parts));
}

describe('base64', () => {
  test('round-trips every length and byte, and agrees with Node', () => {
    for (let n = 0; n < 70; n++) {
      const b = new Uint8Array(n).map((_, i) => (i * 37 + n * 11) & 255);
      const text = toBase64(b);
      assert.equal(text, Buffer.from(b).toString('base64'));
      assert.deepEqual(fromBase64(text), b);
    }
  });

  test('refuses what is not strict, padded, standard base64', () => {
    for (const bad of ['A', 'AB', 'ABC', 'AB=C', '=AAA', 'AA==AA==', 'A-_B', 'AA A', 'AAA\u00e9', 'A===']) {
      assert.equal(fromBase64(bad), undefined, bad);
    }
  });
});

describe('encoding a frame with binary data', () => {
  const update = bytes(1, 2, 3, 250);

  test('plain data is plain JSON: no walk result, no "bin"', () => {
    assert.equal(hasBinary({ a: [1, { b: 'x' }] }), false);
    assert.equal(encodeFrame({ type: 'event', event: 'e', data: { a: 1 } }), '{"type":"event","event":"e","data":{"a":1}}');
  });

  test('the text form puts base64 markers in place of each value and counts them', () => {
    const text = encodeFrame({ type: 'event', event: 'doc', data: { update, nested: [Buffer.from([9])], n: 1 } });
    assert.equal(text, '{"type":"event","event":"doc","data":{"update":{"$bin":"AQID+g=="},"nested":[{"$bin":"CQ=="}],"n":1},"bin":2}');
  });

  test('any ArrayBuffer or view is binary and arrives as a Uint8Array of its bytes', () => {
    const words = new Uint16Array([0x0102]);
    const frame = decodeServerFrame(encodeTextForm({ type: 'event', event: 'e', data: [words, new ArrayBuffer(2), new DataView(new ArrayBuffer(1))] }));
    assert.ok(frame.ok);
    const data = (frame.frame as { data: Uint8Array[] }).data;
    for (const d of data) assert.equal(Object.getPrototypeOf(d), Uint8Array.prototype);
    assert.deepEqual(data[0], new Uint8Array(words.buffer));
    assert.deepEqual(data[1], bytes(0, 0));
  });

  test('the binary message: header length, header, then each attachment with its length', () => {
    const m = encodeBinaryMessage({ type: 'event', event: 'doc', data: { update, also: bytes() } });
    assert.deepEqual(m, message('{"type":"event","event":"doc","data":{"update":{"$bin":0},"also":{"$bin":1}},"bin":2}', update, bytes()));
  });

  test('the server turns its text form into the same binary message, once per broadcast', () => {
    const frame = { type: 'event', event: 'doc', data: { update } };
    assert.deepEqual(textFormToBinaryMessage(encodeFrame(frame as never)), encodeBinaryMessage(frame));
    assert.equal(textFormToBinaryMessage('{"type":"event","event":"e","data":1}'), undefined);
    // A plain object that looks like a marker, in a frame without "bin", is not binary.
    assert.equal(textFormToBinaryMessage('{"type":"event","event":"e","data":{"$bin":"AA=="}}'), undefined);
  });
});

describe('decoding frames with binary data', () => {
  test('a binary message from a client: markers replaced, "bin" gone', () => {
    const r = decodeClientBinary(message('{"type":"event","event":"doc","ref":3,"data":{"u":{"$bin":1},"v":[{"$bin":0}]},"bin":2}', bytes(7), bytes(8, 9)));
    assert.deepEqual(r, { ok: true, frame: { type: 'event', event: 'doc', ref: 3, data: { u: bytes(8, 9), v: [bytes(7)] } } });
  });

  test('data that is binary itself', () => {
    const r = decodeClientBinary(message('{"type":"event","event":"doc","data":{"$bin":0},"bin":1}', bytes(1)));
    assert.deepEqual(r, { ok: true, frame: { type: 'event', event: 'doc', data: bytes(1) } });
  });

  test('the text form from a client', () => {
    const r = decodeClientFrame('{"type":"reply","ref":4,"data":[{"$bin":"AQI="}],"bin":1}');
    assert.deepEqual(r, { ok: true, frame: { type: 'reply', ref: 4, data: [bytes(1, 2)] } });
  });

  test('without "bin" a marker-shaped object stays an object', () => {
    const r = decodeClientFrame('{"type":"event","event":"e","data":{"$bin":"AQI="}}');
    assert.deepEqual(r, { ok: true, frame: { type: 'event', event: 'e', data: { $bin: 'AQI=' } } });
  });

  test('"bin" on a frame that carries no data is an unknown field, ignored', () => {
    assert.deepEqual(decodeClientFrame('{"type":"ping","bin":3}'), { ok: true, frame: { type: 'ping', bin: 3 } });
  });

  const refused: [string, Uint8Array | string, number | undefined][] = [
    ['too short for a header length', bytes(0, 0, 1), undefined],
    ['header length past the end', message('{}').subarray(0, 5), undefined],
    ['header not UTF-8', new Uint8Array([0, 0, 0, 2, 0xc3, 0x28]), undefined],
    ['attachment length past the end', message('{"type":"event","event":"e","data":{"$bin":0},"bin":1}', bytes(1, 2)).subarray(0, -1), undefined],
    ['attachment without a length', new Uint8Array([...message('{"type":"event","event":"e","data":{"$bin":0},"bin":1}'), 0, 0]), undefined],
    ['attachments but no "bin"', message('{"type":"event","event":"e","ref":5,"data":1}', bytes(1)), 5],
    ['"bin" not matching the attachments', message('{"type":"event","event":"e","ref":6,"data":{"$bin":0},"bin":2}', bytes(1)), 6],
    ['an index out of range', message('{"type":"event","event":"e","data":{"$bin":1},"bin":1}', bytes(1)), undefined],
    ['an index used twice', message('{"type":"event","event":"e","data":[{"$bin":0},{"$bin":0}],"bin":2}', bytes(1), bytes(2)), undefined],
    ['fewer markers than "bin"', message('{"type":"event","event":"e","data":[{"$bin":0}],"bin":2}', bytes(1), bytes(2)), undefined],
    ['binary on a frame without data', message('{"type":"join","ref":7,"room":"r","bin":1}', bytes(1)), 7],
    ['bad base64 in the text form', '{"type":"event","event":"e","ref":8,"data":{"$bin":"*"},"bin":1}', 8],
    ['"bin" not a positive integer', '{"type":"event","event":"e","data":{"$bin":"AA=="},"bin":0}', undefined],
    ['more markers than "bin"', '{"type":"event","event":"e","data":[{"$bin":"AA=="},{"$bin":"AA=="}],"bin":1}', undefined],
  ];
  for (const [name, input, ref] of refused) {
    test(`refused malformed_binary: ${name}`, () => {
      const r = typeof input === 'string' ? decodeClientFrame(input) : decodeClientBinary(input);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, ErrorCode.MalformedBinary, r.error.message);
      assert.equal(r.ref, ref);
    });
  }

  test('a binary message from the server, for the SDK', () => {
    const r = decodeServerBinary(message('{"type":"event","event":"doc","room":"d","data":{"$bin":0},"bin":1,"position":{"epoch":"e","offset":1}}', bytes(5)));
    assert.deepEqual(r, { ok: true, frame: { type: 'event', event: 'doc', room: 'd', data: bytes(5), position: { epoch: 'e', offset: 1 } } });
  });

  test('a split message keeps no view of the receive buffer', () => {
    const m = message('{"type":"event","event":"e","data":{"$bin":0},"bin":1}', bytes(1, 2));
    const parts = splitBinaryMessage(m);
    assert.ok(typeof parts !== 'string');
    assert.notEqual(parts.attachments[0]!.buffer, m.buffer);
  });
});
