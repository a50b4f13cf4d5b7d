/**
 * The Engine.IO v4 packet codec (src/compat/socketio/engine-packets.ts), on its own and
 * against the real `engine.io-parser` package that `socket.io` and `socket.io-client` use.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as real from 'engine.io-parser';
import {
  decodePacket,
  decodePayload,
  ENGINE_PACKET_TYPES,
  encodePacket,
  encodePayload,
  isEngineCodecError,
  type EngineCodecError,
  type EnginePacket,
} from '../../src/compat/socketio/engine-packets.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

function realEncodePacket(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  let out: string | Uint8Array | undefined;
  real.encodePacket(packet as real.Packet, supportsBinary, (encoded) => (out = encoded as string | Uint8Array));
  assert.notEqual(out, undefined, 'engine.io-parser encodes synchronously in Node');
  return out as string | Uint8Array;
}

function realEncodePayload(packets: EnginePacket[]): string {
  let out: string | undefined;
  real.encodePayload(packets as real.Packet[], (encoded) => (out = encoded));
  assert.notEqual(out, undefined, 'engine.io-parser encodes synchronously in Node');
  return out as string;
}

/** engine.io-parser's packet in our shape: its Buffers as plain Uint8Arrays, its error as undefined. */
function fromReal(packet: real.Packet): EnginePacket | undefined {
  if ((packet.type as string) === 'error') return undefined;
  if (packet.data === undefined) return { type: packet.type } as EnginePacket;
  const data = typeof packet.data === 'string' ? packet.data : new Uint8Array(packet.data as Uint8Array);
  return { type: packet.type, data } as EnginePacket;
}

/** Our packet normalized for comparison: Buffer or not, the same bytes compare equal. */
function plain(packet: EnginePacket | EngineCodecError): unknown {
  if (isEngineCodecError(packet)) return undefined;
  if (packet.data instanceof Uint8Array) return { type: packet.type, data: new Uint8Array(packet.data) };
  return packet.data === undefined || packet.data === '' ? { type: packet.type } : { type: packet.type, data: packet.data };
}

function expectError(value: unknown, reason: EngineCodecError['error']): void {
  assert.ok(isEngineCodecError(value), `expected an error value, got ${JSON.stringify(value)}`);
  assert.equal(value.error, reason);
  assert.equal(typeof value.message, 'string');
}

describe('packets', () => {
  test('every type is its digit followed by its data, and reads back', () => {
    ENGINE_PACKET_TYPES.forEach((type, digit) => {
      const packet = { type, data: 'x\u00e9\u{1f600}' } as EnginePacket;
      assert.equal(encodePacket(packet), `${digit}x\u00e9\u{1f600}`);
      assert.deepEqual(decodePacket(`${digit}x\u00e9\u{1f600}`), packet);
      assert.equal(encodePacket({ type } as EnginePacket), String(digit));
      assert.deepEqual(decodePacket(String(digit)), { type });
    });
  });

  test('the handshake, the probe and the upgrade as a client sees them', () => {
    assert.deepEqual(decodePacket('2probe'), { type: 'ping', data: 'probe' });
    assert.equal(encodePacket({ type: 'pong', data: 'probe' }), '3probe');
    assert.equal(encodePacket({ type: 'open', data: '{"sid":"a","upgrades":[]}' }), '0{"sid":"a","upgrades":[]}');
    assert.deepEqual(decodePacket('5'), { type: 'upgrade' });
  });

  test('an empty message has no data, like engine.io-parser', () => {
    assert.equal(encodePacket({ type: 'message', data: '' }), '4');
    assert.deepEqual(decodePacket('4'), { type: 'message' });
  });

  test('a binary message is its raw bytes on WebSocket, both ways, even empty', () => {
    const data = bytes(0, 1, 0x1e, 0x34, 255);
    assert.deepEqual(encodePacket({ type: 'message', data }), data);
    assert.deepEqual(decodePacket(data), { type: 'message', data });
    assert.deepEqual(decodePacket(bytes()), { type: 'message', data: bytes() });
    assert.deepEqual(decodePacket(Buffer.from([7])), { type: 'message', data: Buffer.from([7]) });
  });

  test('a "b" + base64 text packet is a binary message', () => {
    assert.deepEqual(decodePacket('bAQID'), { type: 'message', data: bytes(1, 2, 3) });
    assert.deepEqual(decodePacket('b'), { type: 'message', data: bytes() });
  });

  test('bad input gives an error value with a reason, never a throw', () => {
    expectError(decodePacket(''), 'empty-packet');
    for (const bad of ['7', '9x', 'x', ' 4', '-1', '\u{1f600}', '\x1e', 'B4']) expectError(decodePacket(bad), 'unknown-type');
    for (const bad of ['bA', 'bAQ', 'b@@@@', 'bAQ==AQ==', 'bA-_B', 'bAQ= ', 'b====']) expectError(decodePacket(bad), 'bad-base64');
  });
});

describe('payloads', () => {
  test('several packets joined by the record separator, binary ones in base64, read back', () => {
    const packets: EnginePacket[] = [
      { type: 'message', data: 'hello' },
      { type: 'message', data: bytes(1, 2, 3, 4) },
      { type: 'ping' },
      { type: 'message', data: bytes() },
      { type: 'message', data: '\u{1f600}' },
      { type: 'close' },
    ];
    const text = encodePayload(packets);
    assert.equal(text, '4hello\x1ebAQIDBA==\x1e2\x1eb\x1e4\u{1f600}\x1e1');
    assert.deepEqual(decodePayload(text as string), packets);
  });

  test('one packet is a payload without separator', () => {
    assert.equal(encodePayload([{ type: 'noop' }]), '6');
    assert.deepEqual(decodePayload('6'), [{ type: 'noop' }]);
  });

  test('one bad packet makes the whole payload an error, naming the packet', () => {
    expectError(decodePayload(''), 'empty-packet');
    expectError(decodePayload('4a\x1e'), 'empty-packet');
    expectError(decodePayload('\x1e4a'), 'empty-packet');
    expectError(decodePayload('4a\x1e\x1e4b'), 'empty-packet');
    const unknown = decodePayload('4a\x1e9\x1e4b');
    expectError(unknown, 'unknown-type');
    assert.match((unknown as EngineCodecError).message, /^packet 1: /);
    expectError(decodePayload('4a\x1eb%%%%'), 'bad-base64');
  });

  test('maxPackets bounds the count', () => {
    assert.equal((decodePayload('4a\x1e4b\x1e4c', { maxPackets: 3 }) as EnginePacket[]).length, 3);
    expectError(decodePayload('4a\x1e4b\x1e4c\x1e4d', { maxPackets: 3 }), 'too-many-packets');
    expectError(decodePayload('\x1e'.repeat(100_000), { maxPackets: 10 }), 'too-many-packets');
  });

  test('a text packet holding the separator is refused, not written ambiguously', () => {
    expectError(encodePayload([{ type: 'message', data: 'a\x1eb' }]), 'separator-in-packet');
    // engine.io-parser writes it, and then reads back two packets, the second one forged.
    const theirs = realEncodePayload([{ type: 'message', data: 'a\x1e2probe' }]);
    assert.deepEqual(real.decodePayload(theirs).map(fromReal), [{ type: 'message', data: 'a' }, { type: 'ping', data: 'probe' }]);
  });
});

/** A small deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'b', '4', '0', ' ', '"', '{}', '\u00e9', '\u4e2d', '\u{1f600}', '\ud800', '\u0000', '\n', 'probe', '=', '/', '+', 'AQ=='];

function generatePacket(next: () => number): EnginePacket {
  if (next() < 0.3) {
    return { type: 'message', data: new Uint8Array(Math.floor(next() * 40)).map(() => Math.floor(next() * 256)) };
  }
  const type = ENGINE_PACKET_TYPES[Math.floor(next() * ENGINE_PACKET_TYPES.length)]!;
  if (next() < 0.15) return { type } as EnginePacket;
  let data = '';
  for (let n = Math.floor(next() * 8); n > 0; n--) data += PIECES[Math.floor(next() * PIECES.length)];
  return { type, data } as EnginePacket;
}

describe('against engine.io-parser (the package socket.io uses)', () => {
  const next = random(17);
  const packets = Array.from({ length: 2000 }, () => generatePacket(next));

  test('the same WebSocket form, each reads the other, for every generated packet', () => {
    for (const packet of packets) {
      const ours = encodePacket(packet);
      const theirs = realEncodePacket(packet, true);
      assert.deepEqual(typeof ours === 'string' ? ours : new Uint8Array(ours), typeof theirs === 'string' ? theirs : new Uint8Array(theirs));
      assert.deepEqual(plain(decodePacket(theirs)), plain(packet));
      assert.deepEqual(fromReal(real.decodePacket(ours, 'nodebuffer')), plain(packet));
    }
  });

  test('the same polling form, each reads the other, for payloads of 1 to 10 packets', () => {
    for (let i = 0; i < 500; i++) {
      const payload = Array.from({ length: 1 + Math.floor(next() * 10) }, () => packets[Math.floor(next() * packets.length)]!);
      const ours = encodePayload(payload);
      assert.equal(ours, realEncodePayload(payload));
      const decoded = decodePayload(realEncodePayload(payload));
      assert.ok(!isEngineCodecError(decoded));
      assert.deepEqual(decoded.map(plain), payload.map(plain));
      assert.deepEqual(real.decodePayload(ours as string, 'nodebuffer').map(fromReal), payload.map(plain));
    }
  });

  test('on arbitrary text, what engine.io-parser refuses we refuse, and what we accept it reads the same', () => {
    const alphabet = ['0', '1', '4', '6', '7', 'b', 'B', 'A', 'Q', '=', '@', '\x1e', '\x1e', '', '\u{1f600}', 'x'];
    let refusedByBoth = 0;
    let refusedOnlyByUs = 0;
    for (let i = 0; i < 5000; i++) {
      let text = '';
      for (let n = Math.floor(next() * 8); n > 0; n--) text += alphabet[Math.floor(next() * alphabet.length)];
      const ours = decodePayload(text);
      const theirs = real.decodePayload(text, 'nodebuffer').map(fromReal);
      const theyRefuse = theirs.includes(undefined);
      if (!isEngineCodecError(ours)) {
        assert.equal(theyRefuse, false, JSON.stringify(text));
        assert.deepEqual(ours.map(plain), theirs, JSON.stringify(text));
      } else if (theyRefuse) {
        refusedByBoth++;
      } else {
        // The one place we are stricter: base64 that engine.io-parser reads leniently.
        assert.equal(ours.error, 'bad-base64', JSON.stringify(text));
        refusedOnlyByUs++;
      }
    }
    assert.ok(refusedByBoth > 0 && refusedOnlyByUs > 0, 'the generator reaches both kinds of refusal');
  });

  test('engine.io-parser reads bad base64 leniently; we refuse it', () => {
    assert.deepEqual(fromReal(real.decodePacket('b@@@@', 'nodebuffer')), { type: 'message', data: bytes() });
    assert.deepEqual(fromReal(real.decodePacket('bAQ', 'nodebuffer')), { type: 'message', data: bytes(1) });
    expectError(decodePacket('b@@@@'), 'bad-base64');
    expectError(decodePacket('bAQ'), 'bad-base64');
  });
});
