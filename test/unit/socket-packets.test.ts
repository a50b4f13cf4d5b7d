import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decoder as TheirDecoder, Encoder as TheirEncoder } from 'socket.io-parser';
import {
  encodePacket,
  SocketPacketDecoder,
  SocketPacketType as T,
  type BinaryValue,
  type DecodeStep,
  type SocketPacket,
  type SocketPacketErrorKind,
} from '../../src/compat/socketio/socket-packets.js';

type Message = string | BinaryValue;

/** Feeds `messages` to a fresh decoder of ours; the packets it completed, or its first error. */
function ours(messages: Message[], maxAttachments?: number): { packets: SocketPacket[]; error?: SocketPacketErrorKind; steps: DecodeStep['kind'][] } {
  const decoder = new SocketPacketDecoder(maxAttachments === undefined ? {} : { maxAttachments });
  const packets: SocketPacket[] = [];
  const steps: DecodeStep['kind'][] = [];
  for (const message of messages) {
    const step = decoder.add(message);
    steps.push(step.kind);
    if (step.kind === 'error') return { packets, error: step.error.kind, steps };
    if (step.kind === 'packet') packets.push(step.packet);
  }
  return { packets, steps };
}

/** The same with the real socket.io-parser Decoder, which throws on bad input. */
function theirs(messages: Message[], maxAttachments = 10): { packets: SocketPacket[]; error?: string } {
  const decoder = new TheirDecoder({ maxAttachments });
  const packets: SocketPacket[] = [];
  decoder.on('decoded', (packet: SocketPacket) => packets.push(packet));
  try {
    for (const message of messages) decoder.add(message);
  } catch (error) {
    return { packets, error: (error as Error).message };
  }
  return { packets };
}

const theirEncoder = new TheirEncoder();

/** A small deterministic PRNG (mulberry32) so failures replay. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const next = random(seed);
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <V>(values: readonly V[]): V => values[int(values.length)]!;
  const strings = ['', 'a', 'héllo', 'quote " and \\ back', '{"_placeholder":true}', '𝄞 emoji 😀', 'line\nbreak', '0,1-2/3'];
  const value = (depth: number, binary: boolean): unknown => {
    const roll = int(depth > 2 ? 6 : 9);
    switch (roll) {
      case 0: return null;
      case 1: return next() < 0.5;
      case 2: return int(1000) - 500;
      case 3: return next() * 1e6;
      case 4: return pick(strings);
      case 5: return binary && next() < 0.5 ? Buffer.from(Array.from({ length: int(5) }, () => int(256))) : pick(strings);
      case 6: return Array.from({ length: int(4) }, () => value(depth + 1, binary));
      case 7: return Object.fromEntries(Array.from({ length: int(4) }, (_, k) => [`k${k}${pick(strings)}`, value(depth + 1, binary)]));
      default: return binary ? new Uint8Array([int(256), int(256)]) : int(10);
    }
  };
  const nsp = (): string => pick(['/', '/', '/chat', '/a-b_c/d.e', '/ünï', '/admin~1']);
  const packet = (): SocketPacket => {
    const binary = next() < 0.4;
    const args = (): unknown[] => Array.from({ length: int(4) }, () => value(0, binary));
    switch (int(5)) {
      case 0: return next() < 0.3 ? { type: T.CONNECT, nsp: nsp() } : { type: T.CONNECT, nsp: nsp(), data: { token: pick(strings), n: int(9), sub: value(1, false) } };
      case 1: return { type: T.DISCONNECT, nsp: nsp() };
      case 2: {
        const p: SocketPacket = { type: T.EVENT, nsp: nsp(), data: [next() < 0.9 ? `ev${pick(strings)}` : int(50), ...args()] };
        if (next() < 0.5) p.id = int(next() < 0.2 ? 2 ** 40 : 100);
        return p;
      }
      case 3: return { type: T.ACK, nsp: nsp(), id: int(1000), data: args() };
      default: return { type: T.CONNECT_ERROR, nsp: nsp(), data: next() < 0.5 ? pick(strings) : { message: pick(strings), data: value(1, false) } };
    }
  };
  return { packet };
}

describe('encodePacket', () => {
  test('writes the text form of every type', () => {
    assert.deepEqual(encodePacket({ type: T.CONNECT, nsp: '/' }), ['0']);
    assert.deepEqual(encodePacket({ type: T.CONNECT, nsp: '/admin', data: { token: 'x' } }), ['0/admin,{"token":"x"}']);
    assert.deepEqual(encodePacket({ type: T.DISCONNECT, nsp: '/admin' }), ['1/admin,']);
    assert.deepEqual(encodePacket({ type: T.EVENT, nsp: '/', data: ['hi', 1] }), ['2["hi",1]']);
    assert.deepEqual(encodePacket({ type: T.EVENT, nsp: '/chat', id: 12, data: ['hi'] }), ['2/chat,12["hi"]']);
    assert.deepEqual(encodePacket({ type: T.ACK, nsp: '/', id: 0, data: [] }), ['30[]']);
    assert.deepEqual(encodePacket({ type: T.CONNECT_ERROR, nsp: '/', data: { message: 'no' } }), ['4{"message":"no"}']);
  });

  test('moves binary values, nested anywhere, to attachments in depth-first order', () => {
    const a = Buffer.from([1, 2]);
    const b = new Uint8Array([3]);
    const c = new ArrayBuffer(2);
    const [text, ...attachments] = encodePacket({ type: T.EVENT, nsp: '/x', id: 4, data: ['up', a, { deep: [b, { c }] }] });
    assert.equal(text, '53-/x,4["up",{"_placeholder":true,"num":0},{"deep":[{"_placeholder":true,"num":1},{"c":{"_placeholder":true,"num":2}}]}]');
    assert.equal(attachments.length, 3);
    assert.equal(attachments[0], a);
    assert.equal(attachments[1], b);
    assert.equal(attachments[2], c);
    assert.deepEqual(encodePacket({ type: T.ACK, nsp: '/', id: 1, data: [a] }), ['61-1[{"_placeholder":true,"num":0}]', a]);
    // BINARY_* given without binary data is written as the plain type.
    assert.deepEqual(encodePacket({ type: T.BINARY_EVENT, nsp: '/', data: ['x'] }), ['2["x"]']);
  });

  test('keeps a "__proto__" key as data', () => {
    const data = JSON.parse('["e",{"__proto__":{"polluted":1},"b":{"_placeholder":false}}]') as unknown[];
    (data[1] as Record<string, unknown>).bin = Buffer.from([9]);
    const [text] = encodePacket({ type: T.EVENT, nsp: '/', data });
    assert.match(text, /"__proto__":\{"polluted":1\}/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('SocketPacketDecoder', () => {
  test('round-trips every type, namespaces and ack ids', () => {
    const packets: SocketPacket[] = [
      { type: T.CONNECT, nsp: '/' },
      { type: T.CONNECT, nsp: '/admin', data: { token: 't', n: [1, 2] } },
      { type: T.DISCONNECT, nsp: '/' },
      { type: T.DISCONNECT, nsp: '/a/b' },
      { type: T.EVENT, nsp: '/', data: ['e'] },
      { type: T.EVENT, nsp: '/chat', id: 0, data: [7, null, { a: 'b' }] },
      { type: T.EVENT, nsp: '/', id: Number.MAX_SAFE_INTEGER, data: ['e'] },
      { type: T.ACK, nsp: '/x', id: 99, data: [] },
      { type: T.CONNECT_ERROR, nsp: '/', data: 'refused' },
      { type: T.CONNECT_ERROR, nsp: '/admin', data: { message: 'no', data: { code: 4 } } },
    ];
    for (const packet of packets) assert.deepEqual(ours(encodePacket(packet)).packets, [packet], JSON.stringify(packet));
  });

  test('reassembles a binary packet: text, then its attachments, then the next packet', () => {
    const a = Buffer.from([1]);
    const b = Buffer.from([2, 3]);
    const encoded = encodePacket({ type: T.ACK, nsp: '/n', id: 3, data: [{ x: [a, { y: b }] }, a] });
    assert.equal(encoded.length, 4);
    const decoder = new SocketPacketDecoder();
    assert.deepEqual(decoder.add(encoded[0]), { kind: 'pending' });
    assert.equal(decoder.awaitingAttachments, true);
    assert.deepEqual(decoder.add(encoded[1] as Uint8Array), { kind: 'pending' });
    assert.deepEqual(decoder.add(encoded[2] as Uint8Array), { kind: 'pending' });
    const step = decoder.add(encoded[3] as Uint8Array);
    assert.equal(step.kind, 'packet');
    assert.deepEqual(step.kind === 'packet' && step.packet, { type: T.ACK, nsp: '/n', id: 3, data: [{ x: [a, { y: b }] }, a] });
    assert.equal(decoder.awaitingAttachments, false);
    assert.deepEqual(decoder.add('2["next"]'), { kind: 'packet', packet: { type: T.EVENT, nsp: '/', data: ['next'] } });
  });

  test('after an error it drops the half-built packet and reads the next one', () => {
    const decoder = new SocketPacketDecoder();
    assert.equal(decoder.add('52-["e",{"_placeholder":true,"num":0}]').kind, 'pending');
    assert.equal(decoder.add(Buffer.from([1])).kind, 'pending');
    const step = decoder.add('2["e"]');
    assert.equal(step.kind === 'error' && step.error.kind, 'missing-attachments');
    assert.equal(decoder.awaitingAttachments, false);
    assert.equal(decoder.add('2["e"]').kind, 'packet');
    assert.equal(decoder.add('51-["e",{"_placeholder":true,"num":0}]').kind, 'pending');
    decoder.reset();
    const deep = `51-["e",${'['.repeat(200_000)}${']'.repeat(200_000)}]`;
    const tooDeep = decoder.add(deep);
    assert.equal(tooDeep.kind === 'error' && tooDeep.error.kind, 'invalid-payload');
    const stray = decoder.add(Buffer.from([1]));
    assert.equal(stray.kind === 'error' && stray.error.kind, 'unexpected-attachment');
  });
});

describe('differential against socket.io-parser', () => {
  test('for generated packets: same encoding, and each decoder reads the other encoder', () => {
    const { packet } = generator(17);
    const seen = { binary: 0, ids: 0, namespaces: new Set<string>(), types: new Set<string>() };
    for (let n = 0; n < 3000; n++) {
      const p = packet();
      const mine = encodePacket(p);
      if (mine.length > 1) seen.binary++;
      if (p.id !== undefined) seen.ids++;
      seen.namespaces.add(p.nsp);
      seen.types.add(mine[0][0]!);
      const theirsEncoded = theirEncoder.encode(p as never) as Message[];
      assert.deepEqual(mine, theirsEncoded, `packet ${n}: ${JSON.stringify(p)}`);
      const readByThem = theirs(mine);
      const readByUs = ours(theirsEncoded);
      assert.equal(readByThem.error, undefined, `packet ${n}`);
      assert.equal(readByUs.error, undefined, `packet ${n}`);
      assert.equal(readByUs.packets.length, 1);
      assert.deepEqual(readByUs.packets, readByThem.packets, `packet ${n}: ${mine[0]}`);
      // And what came back is the packet sent (toJSON-free data, so JSON is the identity).
      assert.deepEqual(readByUs.packets[0], p, `packet ${n}`);
    }
    // The generator really covers what it claims to.
    assert.ok(seen.binary > 100 && seen.ids > 300, JSON.stringify(seen));
    assert.deepEqual([...seen.types].sort(), ['0', '1', '2', '3', '4', '5', '6']);
    assert.equal(seen.namespaces.size, 5);
  });

  test('mutated encodings: ours never throws, and whatever we accept they read the same way', () => {
    const { packet } = generator(99);
    const next = random(5);
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      const [text, ...attachments] = encodePacket(packet());
      const at = Math.floor(next() * (text.length + 1));
      const insert = '0-/,["{}]:"_ 9x'[Math.floor(next() * 15)]!;
      const cut = Math.floor(next() * 3);
      const mutated = text.slice(0, at) + (next() < 0.5 ? insert : '') + text.slice(at + cut);
      const messages: Message[] = [mutated, ...attachments.slice(0, Math.floor(next() * (attachments.length + 2)))];
      const mine = ours(messages);
      const them = theirs(messages);
      if (mine.error === undefined && mine.packets.length > 0) {
        accepted++;
        assert.deepEqual(mine.packets, them.packets, `ours accepted ${JSON.stringify(mutated)}; theirs: ${them.error}`);
      }
    }
    assert.ok(accepted > 100, `only ${accepted} mutants accepted`);
  });

  /** Malformed input both refuse; `kind` is our error. */
  const bothRefuse: [string, Message[], SocketPacketErrorKind][] = [
    ['type out of range', ['7'], 'bad-type'],
    ['type not a digit', ['x["a"]'], 'bad-type'],
    ['binary count missing', ['5["e"]'], 'bad-attachment-count'],
    ['binary count empty', ['5-["e"]'], 'bad-attachment-count'],
    ['binary count zero', ['50-["e"]'], 'bad-attachment-count'],
    ['binary count not a number', ['5x-["e"]'], 'bad-attachment-count'],
    ['too many attachments', ['54-["e"]'], 'too-many-attachments'],
    ['bad JSON', ['2["e"'], 'bad-json'],
    ['bad JSON after an ack id', ['31abc'], 'bad-json'],
    ['CONNECT payload an array', ['0[]'], 'invalid-payload'],
    ['CONNECT payload a string', ['0"x"'], 'invalid-payload'],
    ['DISCONNECT with a payload', ['1{}'], 'invalid-payload'],
    ['EVENT payload empty array', ['2[]'], 'invalid-payload'],
    ['EVENT payload an object', ['2{"a":1}'], 'invalid-payload'],
    ['EVENT name an object', ['2[{}]'], 'invalid-payload'],
    ['EVENT name reserved', ['2["disconnect"]'], 'invalid-payload'],
    ['ACK payload an object', ['31{}'], 'invalid-payload'],
    ['CONNECT_ERROR payload an array', ['4[]'], 'invalid-payload'],
    ['binary EVENT payload invalid', ['51-{}'], 'invalid-payload'],
    ['text while attachments are due', ['52-["e",{"_placeholder":true,"num":1}]', Buffer.from([1]), '2["e"]'], 'missing-attachments'],
    ['attachment with no packet', [Buffer.from([1])], 'unexpected-attachment'],
    ['attachment after a complete packet', ['2["e"]', Buffer.from([1])], 'unexpected-attachment'],
    ['placeholder index past the end', ['51-["e",{"_placeholder":true,"num":1}]', Buffer.from([1])], 'bad-placeholder'],
    ['placeholder index negative', ['51-["e",{"_placeholder":true,"num":-1}]', Buffer.from([1])], 'bad-placeholder'],
    ['placeholder index a string', ['51-["e",{"_placeholder":true,"num":"0"}]', Buffer.from([1])], 'bad-placeholder'],
  ];
  for (const [name, messages, kind] of bothRefuse) {
    test(`both refuse: ${name}`, () => {
      assert.equal(ours(messages, 3).error, kind);
      assert.notEqual(theirs(messages, 3).error, undefined, 'socket.io-parser accepted it');
    });
  }

  /**
   * Where socket.io-parser's decoder accepts nonsense that its own encoder never writes,
   * and a server built on it would then misread or drop the packet later. We refuse.
   */
  const onlyWeRefuse: [string, Message[], SocketPacketErrorKind, string][] = [
    ['empty message', [''], 'bad-type', 'theirs reads Number("") = 0: a CONNECT to "/"'],
    ['space as type', [' '], 'bad-type', 'Number(" ") = 0: a CONNECT'],
    ['space in the attachment count', ['5 1-["e",{"_placeholder":true,"num":0}]', Buffer.from([1])], 'bad-attachment-count', '" 1" == 1'],
    ['EVENT without payload', ['2'], 'invalid-payload', 'its decoder checks a payload only when one is there; its isPacketValid refuses this'],
    ['CONNECT_ERROR without payload', ['4'], 'invalid-payload', 'same'],
    ['ACK without ack id', ['3[]'], 'bad-ack-id', 'an ACK that answers nothing'],
    ['ack id on CONNECT', ['012{}'], 'bad-ack-id', 'theirs keeps id 12 on a CONNECT'],
    ['ack id on CONNECT_ERROR', ['4/a,5"x"'], 'bad-ack-id', 'same'],
    ['ack id beyond 2^53', ['2123456789012345678901["e"]'], 'bad-ack-id', 'theirs rounds it: the ACK would answer another id'],
    ['space before the payload', ['2 ["e"]'], 'bad-json', 'theirs reads " " as ack id 0 (Number(" ") == " ")'],
    ['namespace without its comma', ['2/chat["e"]'], 'bad-namespace', 'theirs reads namespace \'/chat["e"]\' and an EVENT with no payload'],
    ['fractional placeholder index', ['51-["e",{"_placeholder":true,"num":0.5}]', Buffer.from([1])], 'bad-placeholder', 'theirs puts undefined where the binary was'],
  ];
  for (const [name, messages, kind, why] of onlyWeRefuse) {
    test(`only we refuse: ${name} (${why})`, () => {
      assert.equal(ours(messages).error, kind);
      const them = theirs(messages);
      assert.equal(them.error, undefined, `socket.io-parser now refuses it too: ${them.error}`);
      assert.equal(them.packets.length, 1);
    });
  }

  test('both accept the odd but meaningful forms', () => {
    for (const messages of [['2[1,"numeric event name"]'], ['2/,["e"]'], ['0/admin'], ['2012["e"]'], ['4"plain string"'], ['2["e",{"_placeholder":true,"num":0}]']] as Message[][]) {
      const mine = ours(messages);
      assert.equal(mine.error, undefined, String(messages[0]));
      assert.deepEqual(mine.packets, theirs(messages).packets, String(messages[0]));
    }
  });
});
