import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeClientFrame, decodeServerFrame, type DecodeResult, encodeFrame, utf8ByteLength } from '../../src/protocol/codec.js';
import { MAX_NAME_LENGTH } from '../../src/protocol/constants.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import type { Frame } from '../../src/protocol/frames.js';
import { PendingReplies } from '../../src/protocol/pending-replies.js';

type Decoder = (text: string) => DecodeResult<Frame>;

const json = (value: unknown): string => JSON.stringify(value);

/** Decodes `value` and asserts it is accepted unchanged. */
function assertAccepted(decode: Decoder, value: object): void {
  const result = decode(json(value));
  assert.deepEqual(result, { ok: true, frame: value }, `expected ${json(value)} to decode`);
}

/** Decodes `text` and asserts the error code and whether (and which) ref came back. */
function assertRejected(decode: Decoder, text: string, code: string, ref?: number): { code: string; message: string } {
  const result = decode(text);
  assert.equal(result.ok, false, `expected ${text} to be rejected`);
  if (result.ok) throw new Error('unreachable');
  assert.equal(result.error.code, code, `${text}: ${result.error.message}`);
  assert.equal(typeof result.error.message, 'string');
  assert.ok(result.error.message.length > 0);
  if (ref === undefined) assert.equal('ref' in result, false, `${text} should come back without a ref, got ${result.ref}`);
  else assert.equal(result.ref, ref);
  return result.error;
}

const decoders: [string, Decoder][] = [
  ['decodeClientFrame', decodeClientFrame],
  ['decodeServerFrame', decodeServerFrame],
];

describe('decodeClientFrame accepts every valid client frame', () => {
  const frames: [string, object][] = [
    ['minimal hello', { type: 'hello', v: 1 }],
    ['hello with ns, auth and resume', { type: 'hello', v: 1, ns: '/admin', auth: { token: 't' }, resume: 'r1' }],
    ['hello with null auth', { type: 'hello', v: 1, auth: null }],
    ['hello with a future version (the server, not the codec, checks it)', { type: 'hello', v: 2 }],
    ['connect', { type: 'connect', ref: 1, ns: '/admin' }],
    ['connect with auth', { type: 'connect', ref: 2, ns: '/admin', auth: 'token' }],
    ['disconnect without ns', { type: 'disconnect' }],
    ['disconnect with ns', { type: 'disconnect', ns: '/admin' }],
    ['join', { type: 'join', ref: 3, room: 'lobby' }],
    ['join with ns', { type: 'join', ref: 3, ns: '/admin', room: 'lobby' }],
    ['leave', { type: 'leave', ref: 4, ns: '/', room: 'lobby' }],
    ['event without data', { type: 'event', event: 'tick' }],
    ['event with data', { type: 'event', ns: '/', event: 'chat', data: { text: 'hi', n: [1, 2] } }],
    ['event with null data', { type: 'event', event: 'chat', data: null }],
    ['request (event with ref)', { type: 'event', event: 'sum', data: [1, 2], ref: 5 }],
    ['request with ref 0', { type: 'event', event: 'sum', ref: 0 }],
    ['request with the largest safe ref', { type: 'event', event: 'sum', ref: Number.MAX_SAFE_INTEGER }],
    ['reply with data', { type: 'reply', ref: 6, data: { ok: true } }],
    ['reply without data', { type: 'reply', ref: 6 }],
    ['reply with error', { type: 'reply', ref: 7, error: { code: 'no_handler', message: 'no handler' } }],
    ['ping', { type: 'ping' }],
    ['pong', { type: 'pong' }],
    ['a frame with unknown extra fields', { type: 'event', event: 'chat', future: { x: 1 } }],
  ];
  for (const [name, frame] of frames) test(name, () => assertAccepted(decodeClientFrame, frame));
});

describe('decodeServerFrame accepts every valid server frame', () => {
  const welcome = {
    type: 'welcome',
    v: 1,
    sid: 'abc',
    ns: '/',
    resume: null,
    resumed: false,
    heartbeat: { interval: 25000, timeout: 20000 },
    limits: { maxMessageBytes: 65536 },
  };
  const frames: [string, object][] = [
    ['welcome', welcome],
    ['welcome with a resume token', { ...welcome, resume: 'token', resumed: true }],
    ['disconnect', { type: 'disconnect', ns: '/admin' }],
    ['event to a room', { type: 'event', event: 'chat', room: 'lobby', data: 'hi' }],
    ['request from the server', { type: 'event', ns: '/admin', event: 'confirm', ref: 1 }],
    ['reply with data', { type: 'reply', ref: 1, data: 3 }],
    ['reply with error', { type: 'reply', ref: 2, error: { code: 'forbidden', message: 'no' } }],
    ['ping', { type: 'ping' }],
    ['pong', { type: 'pong' }],
    ['error', { type: 'error', code: 'malformed_frame', message: 'frame is not valid JSON' }],
    ['error with ns', { type: 'error', code: 'namespace_not_connected', message: 'connect first', ns: '/admin' }],
  ];
  for (const [name, frame] of frames) test(name, () => assertAccepted(decodeServerFrame, frame));
});

describe('frames sent in the wrong direction are unknown types', () => {
  test('server-only frames sent by a client', () => {
    assertRejected(decodeClientFrame, json({ type: 'welcome', v: 1, sid: 'x', heartbeat: {}, limits: {} }), ErrorCode.UnknownFrameType);
    assertRejected(decodeClientFrame, json({ type: 'error', code: 'x', message: 'y' }), ErrorCode.UnknownFrameType);
  });
  test('client-only frames sent by a server', () => {
    for (const type of ['hello', 'connect', 'join', 'leave']) {
      assertRejected(decodeServerFrame, json({ type, v: 1, ref: 1, ns: '/', room: 'r' }), ErrorCode.UnknownFrameType, 1);
    }
  });
});

for (const [name, decode] of decoders) {
  describe(`${name}: malformed input`, () => {
    test('text that is not JSON is malformed_frame, without a ref', () => {
      for (const text of ['', 'not json', '{', '{"type":"ping",}', "{'type':'ping'}", '{"type":"event","ref":1']) {
        assertRejected(decode, text, ErrorCode.MalformedFrame);
      }
    });

    test('JSON that is not an object is malformed_frame, even if it holds a frame', () => {
      for (const text of ['[]', '[{"type":"ping"}]', '42', '-1.5', 'null', 'true', '"ping"']) {
        assertRejected(decode, text, ErrorCode.MalformedFrame);
      }
    });

    test('a missing or non-string type is unknown_frame_type', () => {
      assertRejected(decode, '{}', ErrorCode.UnknownFrameType);
      assertRejected(decode, json({ type: 5 }), ErrorCode.UnknownFrameType);
      assertRejected(decode, json({ type: null, ref: 3 }), ErrorCode.UnknownFrameType, 3);
      assertRejected(decode, json({ type: ['ping'] }), ErrorCode.UnknownFrameType);
    });

    test('an unknown type is unknown_frame_type, with the ref when it has a valid one', () => {
      assertRejected(decode, json({ type: 'subscribe' }), ErrorCode.UnknownFrameType);
      assertRejected(decode, json({ type: 'subscribe', ref: 7 }), ErrorCode.UnknownFrameType, 7);
      assertRejected(decode, json({ type: 'subscribe', ref: -7 }), ErrorCode.UnknownFrameType);
      assertRejected(decode, json({ type: 'PING' }), ErrorCode.UnknownFrameType);
    });

    test('names of Object.prototype members are not frame types', () => {
      for (const type of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
        assertRejected(decode, json({ type }), ErrorCode.UnknownFrameType);
      }
    });

    test('a very long unknown type is cut short in the message', () => {
      const error = assertRejected(decode, json({ type: 'x'.repeat(10_000) }), ErrorCode.UnknownFrameType);
      assert.ok(error.message.length < 200, `message is ${error.message.length} characters long`);
    });
  });

  describe(`${name}: bad fields`, () => {
    test('an event with a bad name and a valid ref is bad_request with that ref', () => {
      assertRejected(decode, json({ type: 'event', event: 5, ref: 2 }), ErrorCode.BadRequest, 2);
      assertRejected(decode, json({ type: 'event', event: '', ref: 0 }), ErrorCode.BadRequest, 0);
      assertRejected(decode, json({ type: 'event', ref: 9 }), ErrorCode.BadRequest, 9);
    });

    test('an event with a bad name and no ref is bad_request without a ref', () => {
      assertRejected(decode, json({ type: 'event' }), ErrorCode.BadRequest);
      assertRejected(decode, json({ type: 'event', event: null }), ErrorCode.BadRequest);
    });

    test('a ref that is not a non-negative safe integer is bad_request, and not returned', () => {
      for (const ref of [-1, 1.5, '1', null, true, 2 ** 53, 1e300, { n: 1 }]) {
        assertRejected(decode, json({ type: 'event', event: 'chat', ref }), ErrorCode.BadRequest);
      }
    });

    test('a bad ns is bad_request', () => {
      for (const ns of ['', 'admin', 5, null, ['/'], `/${'a'.repeat(MAX_NAME_LENGTH)}`]) {
        assertRejected(decode, json({ type: 'event', event: 'chat', ns, ref: 4 }), ErrorCode.BadRequest, 4);
        assertRejected(decode, json({ type: 'disconnect', ns }), ErrorCode.BadRequest);
      }
    });

    test('a reply needs a valid ref', () => {
      assertRejected(decode, json({ type: 'reply', data: 1 }), ErrorCode.BadRequest);
      assertRejected(decode, json({ type: 'reply', ref: -1, data: 1 }), ErrorCode.BadRequest);
    });

    test('a reply error needs string code and message', () => {
      for (const error of ['oops', null, 5, {}, { code: 'x' }, { message: 'y' }, { code: 1, message: 'y' }, { code: 'x', message: 2 }]) {
        assertRejected(decode, json({ type: 'reply', ref: 1, error }), ErrorCode.BadRequest);
      }
    });

    test('a bad reply never comes back with its ref (its ref is in the receiver\'s own ref space)', () => {
      assertRejected(decode, json({ type: 'reply', ref: 4, error: 'oops' }), ErrorCode.BadRequest);
      assertRejected(decode, json({ type: 'reply', ref: 4, error: { code: 'x' } }), ErrorCode.BadRequest);
    });
  });
}

describe('decodeClientFrame: bad fields of client-only frames', () => {
  test('hello needs an integer v', () => {
    for (const v of [undefined, '1', 1.5, null, 2 ** 53]) {
      assertRejected(decodeClientFrame, json({ type: 'hello', v }), ErrorCode.BadRequest);
    }
  });

  test('hello.resume must be a string when present', () => {
    assertRejected(decodeClientFrame, json({ type: 'hello', v: 1, resume: 5 }), ErrorCode.BadRequest);
    assertRejected(decodeClientFrame, json({ type: 'hello', v: 1, resume: null }), ErrorCode.BadRequest);
  });

  test('hello.ns must start with "/"', () => {
    assertRejected(decodeClientFrame, json({ type: 'hello', v: 1, ns: 'admin' }), ErrorCode.BadRequest);
  });

  test('connect needs a ref and an ns; a valid ref comes back', () => {
    assertRejected(decodeClientFrame, json({ type: 'connect', ref: 1 }), ErrorCode.BadRequest, 1);
    assertRejected(decodeClientFrame, json({ type: 'connect', ref: 1, ns: 'admin' }), ErrorCode.BadRequest, 1);
    assertRejected(decodeClientFrame, json({ type: 'connect', ns: '/admin' }), ErrorCode.BadRequest);
  });

  test('join and leave need a ref and a room; a valid ref comes back', () => {
    for (const type of ['join', 'leave']) {
      assertRejected(decodeClientFrame, json({ type, ref: 3 }), ErrorCode.BadRequest, 3);
      assertRejected(decodeClientFrame, json({ type, ref: 3, room: '' }), ErrorCode.BadRequest, 3);
      assertRejected(decodeClientFrame, json({ type, ref: 3, room: 42 }), ErrorCode.BadRequest, 3);
      assertRejected(decodeClientFrame, json({ type, room: 'lobby' }), ErrorCode.BadRequest);
      assertRejected(decodeClientFrame, json({ type, ref: 'x', room: 'lobby' }), ErrorCode.BadRequest);
    }
  });
});

describe('decodeServerFrame: bad fields of server-only frames', () => {
  const welcome = { type: 'welcome', v: 1, sid: 's', ns: '/', resume: null, resumed: false, heartbeat: { interval: 1, timeout: 1 }, limits: { maxMessageBytes: 1 } };

  test('welcome needs a string sid and object heartbeat and limits', () => {
    assertRejected(decodeServerFrame, json({ ...welcome, sid: 1 }), ErrorCode.BadRequest);
    assertRejected(decodeServerFrame, json({ ...welcome, sid: undefined }), ErrorCode.BadRequest);
    assertRejected(decodeServerFrame, json({ ...welcome, heartbeat: null }), ErrorCode.BadRequest);
    assertRejected(decodeServerFrame, json({ ...welcome, limits: 65536 }), ErrorCode.BadRequest);
  });

  test('an error frame needs a string code and a valid ns', () => {
    assertRejected(decodeServerFrame, json({ type: 'error', message: 'm' }), ErrorCode.BadRequest);
    assertRejected(decodeServerFrame, json({ type: 'error', code: 5, message: 'm' }), ErrorCode.BadRequest);
    assertRejected(decodeServerFrame, json({ type: 'error', code: 'x', message: 'm', ns: 'admin' }), ErrorCode.BadRequest);
  });
});

describe('name length limits (1..256 UTF-16 code units)', () => {
  const max = 'a'.repeat(MAX_NAME_LENGTH);
  const over = 'a'.repeat(MAX_NAME_LENGTH + 1);

  test('the limit is 256', () => assert.equal(MAX_NAME_LENGTH, 256));

  test('event names', () => {
    assertAccepted(decodeClientFrame, { type: 'event', event: 'a' });
    assertAccepted(decodeClientFrame, { type: 'event', event: max });
    assertRejected(decodeClientFrame, json({ type: 'event', event: over, ref: 1 }), ErrorCode.BadRequest, 1);
    assertRejected(decodeClientFrame, json({ type: 'event', event: '', ref: 1 }), ErrorCode.BadRequest, 1);
    assertAccepted(decodeServerFrame, { type: 'event', event: max });
    assertRejected(decodeServerFrame, json({ type: 'event', event: over }), ErrorCode.BadRequest);
  });

  test('room names', () => {
    for (const type of ['join', 'leave']) {
      assertAccepted(decodeClientFrame, { type, ref: 1, room: 'r' });
      assertAccepted(decodeClientFrame, { type, ref: 1, room: max });
      assertRejected(decodeClientFrame, json({ type, ref: 1, room: over }), ErrorCode.BadRequest, 1);
    }
  });

  test('namespace names, counting the leading "/"', () => {
    const nsMax = `/${'a'.repeat(MAX_NAME_LENGTH - 1)}`;
    const nsOver = `/${'a'.repeat(MAX_NAME_LENGTH)}`;
    assertAccepted(decodeClientFrame, { type: 'connect', ref: 1, ns: '/' });
    assertAccepted(decodeClientFrame, { type: 'connect', ref: 1, ns: nsMax });
    assertRejected(decodeClientFrame, json({ type: 'connect', ref: 1, ns: nsOver }), ErrorCode.BadRequest, 1);
    assertAccepted(decodeClientFrame, { type: 'hello', v: 1, ns: nsMax });
    assertRejected(decodeClientFrame, json({ type: 'hello', v: 1, ns: nsOver }), ErrorCode.BadRequest);
  });

  test('length is counted in UTF-16 code units: an emoji counts 2, é counts 1', () => {
    assertAccepted(decodeClientFrame, { type: 'event', event: '😀'.repeat(MAX_NAME_LENGTH / 2) });
    assertRejected(decodeClientFrame, json({ type: 'event', event: `${'😀'.repeat(MAX_NAME_LENGTH / 2)}a` }), ErrorCode.BadRequest);
    assertAccepted(decodeClientFrame, { type: 'event', event: 'é'.repeat(MAX_NAME_LENGTH) });
  });
});

describe('encodeFrame', () => {
  test('produces JSON that decodes back to the same frame', () => {
    const frame = { type: 'event', ns: '/', event: 'chat', data: { text: 'héllo 😀', list: [1, null, true] }, ref: 3 } as const;
    const text = encodeFrame(frame);
    assert.equal(typeof text, 'string');
    assert.deepEqual(decodeServerFrame(text), { ok: true, frame });
    assert.deepEqual(decodeClientFrame(text), { ok: true, frame });
  });

  test('drops undefined fields like JSON.stringify', () => {
    assert.equal(encodeFrame({ type: 'event', event: 'x', data: undefined }), '{"type":"event","event":"x"}');
  });

  test('throws SwitchboardError unserializable for a BigInt', () => {
    assert.throws(
      () => encodeFrame({ type: 'event', event: 'x', data: { n: 10n } }),
      (err: unknown) => {
        assert.ok(err instanceof SwitchboardError);
        assert.equal(err.code, ErrorCode.Unserializable);
        assert.equal(err.code, 'unserializable');
        assert.ok(err.cause instanceof TypeError, 'the JSON.stringify error is kept as the cause');
        assert.match(err.message, /BigInt/);
        return true;
      },
    );
  });

  test('throws SwitchboardError unserializable for a cycle', () => {
    const data: Record<string, unknown> = { a: 1 };
    data.self = data;
    assert.throws(
      () => encodeFrame({ type: 'reply', ref: 1, data }),
      (err: unknown) => err instanceof SwitchboardError && err.code === 'unserializable' && err.cause instanceof TypeError,
    );
  });
});

describe('utf8ByteLength', () => {
  const cases: [string, string, number][] = [
    ['empty', '', 0],
    ['ASCII', 'hello, world', 12],
    ['2-byte (é, ñ)', 'éñ', 4],
    ['3-byte (€, 中)', '€中', 6],
    ['4-byte emoji', '😀', 4],
    ['mixed', 'a é € 😀', 1 + 1 + 2 + 1 + 3 + 1 + 4],
    ['lone high surrogate', '\uD83D', 3],
    ['lone low surrogate', '\uDE00', 3],
    ['high surrogate at the end', 'ab\uD83D', 5],
    ['low before high (not a pair)', '\uDE00\uD83D', 6],
    ['high surrogate before a non-surrogate', '\uD83Da', 4],
    ['two emoji back to back', '😀👍', 8],
  ];

  for (const [name, s, expected] of cases) {
    test(name, () => {
      assert.equal(utf8ByteLength(s), expected);
      // Buffer and TextEncoder replace lone surrogates by U+FFFD, also 3 bytes.
      assert.equal(utf8ByteLength(s), Buffer.byteLength(s, 'utf8'));
      assert.equal(utf8ByteLength(s), new TextEncoder().encode(s).length);
    });
  }

  test('agrees with Buffer.byteLength on every UTF-16 code unit, alone and after "x"', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const s = String.fromCharCode(c);
      if (utf8ByteLength(s) !== Buffer.byteLength(s) || utf8ByteLength(`x${s}`) !== Buffer.byteLength(`x${s}`)) {
        assert.fail(`utf8ByteLength disagrees with Buffer.byteLength for U+${c.toString(16).padStart(4, '0')}`);
      }
    }
  });

  test('agrees with Buffer.byteLength on an encoded frame', () => {
    const text = encodeFrame({ type: 'event', event: 'chat', data: { text: 'Grüße aus Köln 🌧️ — 東京' } });
    assert.equal(utf8ByteLength(text), Buffer.byteLength(text));
  });
});

describe('PendingReplies', () => {
  test('create hands out increasing refs starting at 1 and counts pending requests', async () => {
    const pending = new PendingReplies();
    const a = pending.create(Infinity, 'a');
    const b = pending.create(Infinity, 'b');
    assert.equal(a.ref, 1);
    assert.equal(b.ref, 2);
    assert.equal(pending.size, 2);
    pending.rejectAll(new SwitchboardError('closed', 'test over'));
    await Promise.allSettled([a.reply, b.reply]);
  });

  test('settle with data resolves the matching request only', async () => {
    const pending = new PendingReplies();
    const a = pending.create(10_000, 'a');
    const b = pending.create(10_000, 'b');
    assert.equal(pending.settle({ type: 'reply', ref: b.ref, data: { sum: 3 } }), true);
    assert.deepEqual(await b.reply, { sum: 3 });
    assert.equal(pending.size, 1);
    assert.equal(pending.settle({ type: 'reply', ref: a.ref }), true);
    assert.equal(await a.reply, undefined);
    assert.equal(pending.size, 0);
  });

  test('settle with an error rejects with a SwitchboardError carrying its code and message', async () => {
    const pending = new PendingReplies();
    const { ref, reply } = pending.create(10_000, 'q');
    assert.equal(pending.settle({ type: 'reply', ref, error: { code: 'out_of_stock', message: 'only 2 left' } }), true);
    await assert.rejects(reply, (err: unknown) => {
      assert.ok(err instanceof SwitchboardError);
      assert.equal(err.code, 'out_of_stock');
      assert.equal(err.message, 'only 2 left');
      return true;
    });
    assert.equal(pending.size, 0);
  });

  test('settle returns false for a ref it never handed out, and changes nothing', async () => {
    const pending = new PendingReplies();
    const { ref, reply } = pending.create(10_000, 'q');
    assert.equal(pending.settle({ type: 'reply', ref: ref + 100, data: 1 }), false);
    assert.equal(pending.size, 1);
    pending.settle({ type: 'reply', ref, data: 'mine' });
    assert.equal(await reply, 'mine');
  });

  test('a second reply to the same ref is ignored', async () => {
    const pending = new PendingReplies();
    const { ref, reply } = pending.create(10_000, 'q');
    assert.equal(pending.settle({ type: 'reply', ref, data: 'first' }), true);
    assert.equal(pending.settle({ type: 'reply', ref, data: 'second' }), false);
    assert.equal(await reply, 'first');
  });

  test('a request without a reply rejects with timeout, and a late reply is ignored', async () => {
    const pending = new PendingReplies();
    const { ref, reply } = pending.create(5, 'emitWithAck("slow")');
    await assert.rejects(reply, (err: unknown) => {
      assert.ok(err instanceof SwitchboardError);
      assert.equal(err.code, ErrorCode.Timeout);
      assert.match(err.message, /emitWithAck\("slow"\)/);
      return true;
    });
    assert.equal(pending.size, 0);
    assert.equal(pending.settle({ type: 'reply', ref, data: 'too late' }), false);
  });

  test('a reply before the timeout wins; the timer does not reject it afterwards', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const pending = new PendingReplies();
    const { ref, reply } = pending.create(5, 'q');
    pending.settle({ type: 'reply', ref, data: 'in time' });
    assert.equal(await reply, 'in time');
    t.mock.timers.tick(1000); // long past the timeout, on the mocked clock
    assert.equal(pending.size, 0);
  });

  test('a timeout of 0 or Infinity means no timeout', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const pending = new PendingReplies();
    const a = pending.create(0, 'a');
    const b = pending.create(Infinity, 'b');
    t.mock.timers.tick(2 ** 31); // longer than any timer can wait
    assert.equal(pending.size, 2);
    pending.settle({ type: 'reply', ref: a.ref, data: 'a' });
    pending.settle({ type: 'reply', ref: b.ref, data: 'b' });
    assert.deepEqual(await Promise.all([a.reply, b.reply]), ['a', 'b']);
  });

  test('rejectAll rejects every pending request with the given error, and later replies are ignored', async () => {
    const pending = new PendingReplies();
    const requests = [pending.create(10_000, 'a'), pending.create(Infinity, 'b'), pending.create(10_000, 'c')];
    const error = new SwitchboardError(ErrorCode.Disconnected, 'connection lost');
    pending.rejectAll(error);
    assert.equal(pending.size, 0);
    for (const { reply } of requests) await assert.rejects(reply, (err: unknown) => err === error);
    assert.equal(pending.settle({ type: 'reply', ref: requests[0]!.ref, data: 1 }), false);
    const next = pending.create(10_000, 'd');
    assert.equal(next.ref, 4, 'refs are not reused after rejectAll');
    pending.settle({ type: 'reply', ref: next.ref, data: 'd' });
    assert.equal(await next.reply, 'd');
  });

  test('fail rejects one request and leaves the others pending', async () => {
    const pending = new PendingReplies();
    const a = pending.create(10_000, 'a');
    const b = pending.create(10_000, 'b');
    const error = new SwitchboardError(ErrorCode.MessageTooBig, 'too big');
    pending.fail(a.ref, error);
    await assert.rejects(a.reply, (err: unknown) => err === error);
    assert.equal(pending.size, 1);
    pending.fail(a.ref, error); // unknown ref now: no effect
    pending.settle({ type: 'reply', ref: b.ref, data: 'b' });
    assert.equal(await b.reply, 'b');
  });
});

describe('decoded payloads carry no own "__proto__" key (docs/SECURITY.md, "Payload objects")', () => {
  /** Decode a client event whose data is `dataText`, as a handler would receive it. */
  function dataOf(dataText: string): Record<string, unknown> {
    const result = decodeClientFrame(`{"type":"event","event":"e","data":${dataText}}`);
    assert.ok(result.ok, result.ok ? "" : result.error.message);
    return (result.frame as { data: Record<string, unknown> }).data;
  }

  test('Object.assign({}, data) cannot be given another prototype by the client', () => {
    for (const text of [
      '{"__proto__":{"admin":true}}',
      '{"\\u005f_proto__":{"admin":true}}', // the same key spelled with an escape
      '{"a":[{"b":{"__proto__":{"admin":true}}}]}', // nested, inside an array
    ]) {
      const data = dataOf(text);
      const copy = Object.assign({}, data);
      assert.equal((copy as { admin?: unknown }).admin, undefined, text);
      assert.equal(Object.getPrototypeOf(copy), Object.prototype, text);
      const nested = JSON.stringify(data);
      assert.ok(!nested.includes('__proto__'), `${text} decoded to ${nested}`);
      assert.equal(({} as { admin?: unknown }).admin, undefined, 'Object.prototype untouched');
    }
  });

  test('everything else arrives as sent, "constructor" and "prototype" keys included', () => {
    assert.deepEqual(dataOf('{"__proto__":1,"x":{"constructor":"c","prototype":2},"y":"__proto__"}'), { x: { constructor: 'c', prototype: 2 }, y: '__proto__' });
    assert.deepEqual(dataOf('{"t":"\\u00e9\\n","list":[1,{"k":null}]}'), { t: 'é\n', list: [1, { k: null }] });
  });

  test('a deep payload is walked without recursion', () => {
    const depth = 50_000;
    const data = dataOf(`${'{"a":'.repeat(depth)}{"__proto__":{"admin":true}}${'}'.repeat(depth)}`);
    let inner: Record<string, unknown> = data;
    for (let i = 0; i < depth; i++) inner = inner.a as Record<string, unknown>;
    assert.deepEqual(Object.keys(inner), []);
    assert.equal((Object.assign({}, inner) as { admin?: unknown }).admin, undefined);
  });

  test('frames from the server get the same treatment in the SDK', () => {
    const result = decodeServerFrame('{"type":"event","event":"e","data":{"__proto__":{"admin":true}}}');
    assert.ok(result.ok);
    assert.equal((Object.assign({}, (result.frame as { data: object }).data) as { admin?: unknown }).admin, undefined);
  });
});
