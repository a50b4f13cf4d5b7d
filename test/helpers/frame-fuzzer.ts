/**
 * A seeded generator of bad (and good) input for a Switchboard server: random and mutated
 * protocol frames, encoded as raw WebSocket frames so that nothing — fragmentation, UTF-8,
 * reserved bits, lengths — is left to a well-behaved library. Every message says what the
 * server must do with it, per docs/PROTOCOL.md "Invalid input", so a fuzz run can check
 * answers and not only survival. The same seed produces the same messages.
 */
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { MAX_FRAME_DEPTH } from '../../src/protocol/constants.js';
import { closePayload, encodeWireFrame, Opcode, type WireFrame } from './raw-websocket.js';
import type { SeededRandom } from './seeded-random.js';

/** What the server must do with a message. */
export type Expectation =
  /** An error frame (no `ref`) or an error reply (`ref`) with one of `codes`, before later frames' answers; the connection stays open. */
  | { kind: 'answer'; codes: readonly string[]; ref?: number }
  /** The connection closes with one of these codes (1005: a close frame without a code). */
  | { kind: 'close'; codes: readonly number[]; clientInitiated?: boolean }
  /** Anything documented: an answer, silence, data. */
  | { kind: 'any' };

export interface FuzzMessage {
  /** The category, for the report. */
  label: string;
  /** One or more encoded WebSocket frames. */
  wire: Buffer;
  expect: Expectation;
  /** A short printable view, for failure messages. */
  preview: string;
}

/** What the first message of a connection must lead to. */
export type HandshakeOutcome =
  | { kind: 'welcome' }
  /** Closed with one of `codes` after an error frame with one of `errors`. */
  | { kind: 'refused'; codes: readonly number[]; errors: readonly string[] }
  /** Either, as long as every code is documented. */
  | { kind: 'either' };

export interface FirstMessage {
  message: FuzzMessage;
  outcome: HandshakeOutcome;
  /** True when the handshake was plain enough to send the first batch right behind it. */
  pipelinable: boolean;
}

/** What the generator knows about the server under test (see fuzz-run.ts). */
export interface FuzzTarget {
  maxMessageBytes: number;
  /** Event names that have handlers. */
  events: readonly string[];
}

/** What the generator may use of the connection's state. Reading it never consumes randomness differently. */
export interface ConnectionView {
  /** Refs of server requests not answered yet. */
  serverRefs: number[];
  /** Resume tokens seen in welcomes, of any connection. */
  resumeTokens: readonly string[];
}

const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'error', 'state', 'reconnecting', 'recovery', 'newListener', 'removeListener'];
const ROOMS = ['lobby', 'r1', 'r2', 'feed:a', 'feed:b', 'secret:x', 'é😀', ' ', 'constructor', '__proto__', 'x'.repeat(256)];
const WEIRD_NUMBERS = ['1e400', '-1e400', '1.0', '1e0', '-0', '0.5', '9007199254740993', '123456789012345678901234567890123456789', '1E2', '0x10', '01', 'NaN', 'Infinity', '-1', '4294967296', '1e-400'];
const INVALID_UTF8 = [[0xc0, 0x80], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe, 0xfe], [0xf0, 0x9f, 0x98]];
const BAD_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];
const BAD_OPCODES = [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf];
const MALFORMED = [ErrorCode.MalformedFrame];
const UNKNOWN = [ErrorCode.UnknownFrameType];
const TOO_DEEP = [ErrorCode.NestingTooDeep];
const BAD = [ErrorCode.BadRequest];

type Frame = Record<string, unknown>;

/** A binary message laid out as PROTOCOL.md says (u32 header length, header JSON, then u32 length and bytes per attachment), built here from the spec. */
function binaryMessage(header: Frame, attachments: readonly Buffer[]): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const parts = [u32(json.length), json];
  for (const a of attachments) parts.push(u32(a.length), a);
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export class FrameFuzzer {
  /** Refs of generated requests: unique per generator, far from the small random refs of mutations. */
  private nextRef: number;

  /**
   * `refBase`: where this generator's refs start. Give each connection-running worker its
   * own range: a resumed session replays replies to refs of the connection it resumes.
   */
  constructor(
    private readonly rng: SeededRandom,
    private readonly target: FuzzTarget,
    refBase = 1_000_000,
  ) {
    this.nextRef = refBase;
  }

  // --- the first message of a connection ------------------------------------------------

  first(view: ConnectionView): FirstMessage {
    const r = this.rng;
    const roll = r.next();
    const hello = (frame: Frame, label: string, outcome: HandshakeOutcome, pipelinable = false): FirstMessage => ({
      message: this.text(label, JSON.stringify(frame), { kind: 'any' }),
      outcome,
      pipelinable,
    });
    if (roll < 0.55) return hello({ type: 'hello', v: 1, ...(r.chance(0.3) ? { auth: this.json(3) } : {}) }, 'hello', { kind: 'welcome' }, true);
    if (roll < 0.6) return hello({ type: 'hello', v: 1, ns: '/admin', auth: { admin: true } }, 'hello/admin', { kind: 'welcome' }, true);
    if (roll < 0.63) return hello({ type: 'hello', v: 1, ns: '/admin' }, 'hello/refused-by-middleware', { kind: 'refused', codes: [1008], errors: [ErrorCode.Unauthorized] });
    if (roll < 0.66) return hello({ type: 'hello', v: 1, auth: { deny: true } }, 'hello/denied', { kind: 'refused', codes: [1008], errors: [ErrorCode.Unauthorized] });
    if (roll < 0.69) return hello({ type: 'hello', v: r.pick([0, 2, 99, -1, 2 ** 31]) }, 'hello/version', { kind: 'refused', codes: [4003], errors: [ErrorCode.UnsupportedVersion] });
    if (roll < 0.71) return hello({ type: 'hello', v: 1, ns: r.pick(['/nope', '/admin/x', '//']) }, 'hello/unknown-ns', { kind: 'refused', codes: [4000], errors: [ErrorCode.BadHandshake] });
    if (roll < 0.77) {
      const slot = r.int(0, 63);
      const unknown = this.string(32);
      // Tokens of live sessions (maybe another worker's: it is taken over) or one never issued.
      const token = slot < 56 ? (view.resumeTokens[slot % Math.max(1, view.resumeTokens.length)] ?? unknown) : unknown;
      const received = r.pick([0, r.int(0, 40), r.int(0, 2 ** 20)]);
      return hello({ type: 'hello', v: 1, resume: token, received }, 'hello/resume', { kind: 'welcome' }, true);
    }
    if (roll < 0.79) {
      const depth = this.depth();
      const text = `{"type":"hello","v":1,"auth":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      // Deeper than MAX_FRAME_DEPTH (the hello object is level 1): refused before it is read, as any invalid first frame.
      const outcome: HandshakeOutcome = depth + 1 > MAX_FRAME_DEPTH ? { kind: 'refused', codes: [4000], errors: [ErrorCode.BadHandshake] } : { kind: 'welcome' };
      return { message: this.text('hello/deep-auth', text, { kind: 'any' }), outcome, pipelinable: false };
    }
    // Anything else as the first frame: a frame before the hello.
    const message = this.next(view);
    // A hello sent "again" is the first hello here: valid or refused as any hello is.
    const aHello = message.label.startsWith('hello-again');
    message.label = `first:${message.label}`;
    if (message.expect.kind === 'close') return { message, outcome: { kind: 'refused', codes: message.expect.codes, errors: [] }, pipelinable: false };
    if (message.expect.kind === 'answer' && !aHello) {
      return { message, outcome: { kind: 'refused', codes: [4000], errors: [ErrorCode.BadHandshake] }, pipelinable: false };
    }
    // Maybe a valid hello by chance, maybe a frame with no answer (a ping): a real hello
    // follows, and the first frame decides between a welcome and a documented close.
    const after = encodeWireFrame({ opcode: Opcode.Text, payload: Buffer.from('{"type":"hello","v":1}') });
    message.wire = Buffer.concat([message.wire, after]);
    return { message, outcome: { kind: 'either' }, pipelinable: false };
  }

  // --- messages after the handshake ---------------------------------------------------

  next(view: ConnectionView): FuzzMessage {
    const r = this.rng;
    const roll = r.next() * 100;
    if (roll < 24) return this.text('valid', JSON.stringify(this.template(view)), { kind: 'any' });
    if (roll < 38) return this.mutated(view);
    if (roll < 50) return this.definitelyInvalid();
    if (roll < 55) return this.unknownType();
    if (roll < 61) return this.text('garbage', this.garbage(), { kind: 'answer', codes: MALFORMED });
    if (roll < 68) {
      const json = JSON.stringify(this.template(view));
      return this.text('truncated', json.slice(0, r.int(0, json.length - 1)), { kind: 'answer', codes: MALFORMED });
    }
    if (roll < 72) return this.text('not-an-object', this.notAnObject(), { kind: 'answer', codes: MALFORMED });
    if (roll < 74) {
      const json = JSON.stringify(this.template(view));
      const text = r.chance(0.5) ? `\uFEFF${json}` : `${json}${r.pick(['x', '}', ',', ']', '{}', '\u0000', '//'])}`;
      return this.text('framing-junk', text, { kind: 'answer', codes: MALFORMED });
    }
    if (roll < 75.5) return this.deep();
    if (roll < 80) return this.weirdNumber(view);
    if (roll < 82) return this.duplicateKeys();
    if (roll < 84) return this.reservedEvent();
    if (roll < 87) return this.binary(view);
    if (roll < 89) return this.text('hello-again', JSON.stringify({ type: 'hello', v: r.pick([1, 2]) }), { kind: 'answer', codes: BAD });
    if (roll < 92) return this.replyToServer(view);
    if (roll < 93) return this.ping();
    if (roll < 93.3) return this.clientClose();
    if (roll < 94) return this.invalidUtf8(view);
    if (roll < 94.3) return this.oversized();
    if (roll < 95.2) return this.protocolViolation(view);
    return this.text('valid', JSON.stringify(this.template(view)), { kind: 'any' });
  }

  /** What a client might still send after a message that closes the connection: frames, or bytes that are no frame at all. */
  afterClose(): Buffer {
    const r = this.rng;
    if (r.chance(0.5)) return this.bytes(r.int(1, 64));
    return encodeWireFrame({ opcode: Opcode.Text, payload: Buffer.from(r.pick(['{"type":"ping"}', '{"type":"hello","v":1}', 'junk'])) });
  }

  /** A `leave` whose reply marks the end of a batch: every earlier synchronous answer comes before it. */
  fence(ref: number): Buffer {
    return encodeWireFrame({ opcode: Opcode.Text, payload: Buffer.from(`{"type":"leave","ref":${ref},"room":"fence"}`) });
  }

  // --- valid frames -------------------------------------------------------------------------

  private template(view: ConnectionView): Frame {
    const r = this.rng;
    const ns = (): Frame => (r.chance(0.7) ? {} : { ns: r.pick(['/', '/admin', '/nope']) });
    switch (r.int(0, 10)) {
      case 0:
        return { type: 'join', ref: this.ref(), room: this.room(), ...ns(), ...(r.chance(0.3) ? { since: this.position() } : {}) };
      case 1:
        return { type: 'leave', ref: this.ref(), room: this.room(), ...ns() };
      case 2:
        return {
          type: 'history',
          ref: this.ref(),
          room: this.room(),
          ...ns(),
          ...(r.chance(0.4) ? { since: this.position() } : {}),
          ...(r.chance(0.4) ? { limit: r.int(1, 1000) } : {}),
        };
      case 3:
      case 4:
      case 5: {
        const frame: Frame = { type: 'event', event: this.eventName(), ...ns() };
        if (r.chance(0.8)) frame.data = this.json(3);
        if (r.chance(0.7)) frame.ref = this.ref();
        if (frame.ref !== undefined && r.chance(0.2)) frame.seq = r.int(1, 30);
        return frame;
      }
      case 6:
        return { type: 'ack', received: r.pick([0, r.int(0, 100), r.int(0, 2 ** 40)]) };
      case 7:
        return { type: 'connect', ref: this.ref(), ns: r.pick(['/admin', '/', '/nope']), ...(r.chance(0.5) ? { auth: r.pick([{ admin: true }, { deny: true }, this.json(2)]) } : {}) };
      case 8:
        return { type: 'disconnect', ...(r.chance(0.6) ? { ns: r.pick(['/admin', '/nope']) } : r.chance(0.3) ? { ns: '/' } : {}) };
      case 9:
        return this.reply(view);
      default:
        return { type: r.pick(['ping', 'pong']) };
    }
  }

  private reply(view: ConnectionView): Frame {
    const r = this.rng;
    // The same draws whatever the server asked meanwhile, so a seed replays the same decisions.
    const useWaiting = r.chance(0.8);
    const random = r.int(0, 50);
    const waiting = useWaiting ? view.serverRefs.shift() : undefined;
    const ref = waiting ?? random;
    if (r.chance(0.7)) return { type: 'reply', ref, data: this.json(2) };
    return { type: 'reply', ref, error: { code: r.pick(['no_handler', 'my_code', 'X', '']), message: this.string(10) } };
  }

  // --- mutations -----------------------------------------------------------------------------

  /** A valid frame with one field replaced, removed or added: valid or not, only documented answers. */
  private mutated(view: ConnectionView): FuzzMessage {
    const r = this.rng;
    const frame = this.template(view);
    const keys = Object.keys(frame);
    const key = r.chance(0.8) ? r.pick(keys) : r.pick(['type', 'ref', 'ns', 'event', 'room', 'data', 'seq', 'since', 'limit', 'received', 'auth', 'error', 'v', 'extra']);
    if (r.chance(0.25)) delete frame[key];
    else frame[key] = this.json(2);
    return this.text('mutated', JSON.stringify(frame), { kind: 'any' });
  }

  /** Frames with one field that the protocol rules out: `bad_request`, as a reply when the ref is valid. */
  private definitelyInvalid(): FuzzMessage {
    const r = this.rng;
    const ref = this.ref();
    const badName = (): unknown => r.pick(['', 'x'.repeat(257), 42, null, [], {}, true]);
    const badRef = (): unknown => r.pick([-1, 1.5, '7', 2 ** 53, 1e300, true, null, [1], { ref: 1 }]);
    const badNs = (): unknown => r.pick(['admin', '', 5, null, `/${'x'.repeat(256)}`, ['/']]);
    const cases: (() => [Frame, boolean])[] = [
      () => [{ type: 'event', event: badName(), ref }, true],
      () => [{ type: 'event', event: 'echo', ref: badRef() }, false],
      () => [{ type: 'event', event: 'echo', seq: r.int(1, 9) }, false],
      () => [{ type: 'event', event: 'echo', ref, seq: r.pick([0, -1, 1.5, '1', null]) }, true],
      () => [{ type: r.pick(['join', 'leave', 'history']), room: 'r1' }, false],
      () => [{ type: r.pick(['join', 'leave', 'history']), ref, room: badName() }, true],
      () => [{ type: r.pick(['join', 'history']), ref, room: 'feed:a', since: r.pick([{ epoch: 1, offset: 0 }, { epoch: 'e' }, { epoch: 'e', offset: -1 }, 'x', null, [], { epoch: 'e', offset: 0.5 }]) }, true],
      () => [{ type: 'history', ref, room: 'feed:a', limit: r.pick([0, 1001, 1.5, '10', -1, null]) }, true],
      () => [{ type: 'connect', ref, ...(r.chance(0.5) ? {} : { ns: badNs() }) }, true],
      () => [{ type: 'connect', ns: '/admin' }, false],
      () => [{ type: 'ack', ...(r.chance(0.3) ? {} : { received: r.pick([-1, 1.5, 'x', null, 2 ** 53]) }) }, false],
      () => [{ type: 'reply', ...(r.chance(0.5) ? {} : { ref: badRef() }), data: 1 }, false],
      () => [{ type: 'reply', ref: r.int(0, 50), error: r.pick([{ code: 1, message: 'm' }, 'x', { code: 'a' }, null, []]) }, false],
      () => [{ type: r.pick(['event', 'join', 'leave']), ref, ns: badNs(), event: 'echo', room: 'r1' }, true],
      () => [{ type: 'disconnect', ns: badNs() }, false],
      () => [{ type: 'hello', v: r.pick([1.5, '1', null, 2 ** 53]) }, false],
    ];
    const [frame, answeredWithReply] = r.pick(cases)();
    return this.text(`invalid:${String(frame.type)}`, JSON.stringify(frame), answeredWithReply ? { kind: 'answer', codes: BAD, ref } : { kind: 'answer', codes: BAD });
  }

  private unknownType(): FuzzMessage {
    const r = this.rng;
    const type = r.pick<unknown>(['welcome', 'error', 'Event', 'EVENT', '', 'hello ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'subscribe', this.string(8), 5, null, true, [], {}, undefined]);
    const frame: Frame = type === undefined ? { event: 'echo' } : { type };
    const withRef = r.chance(0.5);
    const ref = this.ref();
    if (withRef) frame.ref = ref;
    if (r.chance(0.5)) frame.data = this.json(2);
    return this.text('unknown-type', JSON.stringify(frame), withRef ? { kind: 'answer', codes: UNKNOWN, ref } : { kind: 'answer', codes: UNKNOWN });
  }

  private reservedEvent(): FuzzMessage {
    const r = this.rng;
    const frame: Frame = { type: 'event', event: r.pick(RESERVED), data: this.json(1) };
    const ref = this.ref();
    const withRef = r.chance(0.5);
    if (withRef) frame.ref = ref;
    // The namespace is checked first: after a client `disconnect` of "/", that is the answer.
    const codes = [ErrorCode.BadRequest, ErrorCode.NamespaceNotConnected];
    return this.text('reserved-event', JSON.stringify(frame), withRef ? { kind: 'answer', codes, ref } : { kind: 'answer', codes });
  }

  private replyToServer(view: ConnectionView): FuzzMessage {
    const frame = this.reply(view);
    if (this.rng.chance(0.3)) frame[this.rng.pick(['ref', 'data', 'error'])] = this.json(1);
    return this.text('reply', JSON.stringify(frame), { kind: 'any' });
  }

  // --- malformed JSON ---------------------------------------------------------------------

  private garbage(): string {
    const r = this.rng;
    const length = r.int(1, 200);
    let s = '';
    while (s.length < length) s += String.fromCharCode(r.chance(0.8) ? r.int(0x21, 0x7e) : r.int(0xa0, 0xd7ff));
    // Anything whose first non-blank character is not "{" cannot decode to an object.
    return s[0] === '{' ? `x${s}` : s;
  }

  private notAnObject(): string {
    const r = this.rng;
    return r.pick([
      () => r.pick(['1', '[]', 'null', 'true', 'false', '""', '"hello"', '1e999', '-0', '123456789012345678901234567890', '[{"type":"ping"}]', ' 7 ']),
      () => JSON.stringify([this.json(2)]),
      () => JSON.stringify(this.string(20)),
      () => String(r.next() * 10 ** r.int(0, 300)),
    ])();
  }

  private weirdNumber(view: ConnectionView): FuzzMessage {
    const r = this.rng;
    const json = JSON.stringify(this.template(view));
    const numbers = [...json.matchAll(/(?<=":)-?\d+(\.\d+)?(e[+-]?\d+)?/gi)];
    const literal = r.pick(WEIRD_NUMBERS);
    if (numbers.length === 0) return this.text('weird-number', `{"type":"event","event":"echo","ref":${literal},"data":${literal}}`, { kind: 'any' });
    const m = r.pick(numbers);
    const text = json.slice(0, m.index) + literal + json.slice((m.index ?? 0) + m[0].length);
    return this.text('weird-number', text, { kind: 'any' });
  }

  private duplicateKeys(): FuzzMessage {
    const r = this.rng;
    const ref = r.int(0, 50);
    return this.text(
      'duplicate-keys',
      r.pick([
        `{"type":"event","event":"echo","type":"join","ref":${ref},"room":"r1"}`,
        `{"type":"join","ref":${ref},"room":"r1","room":"feed:a","room":7}`,
        `{"type":"ping","__proto__":{"type":"event"}}`,
        `{"__proto__":{"type":"ping"}}`,
        `{"type":"event","event":"echo","ref":${ref},"data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}}`,
        `{"type":"event","event":"__proto__","ref":${ref}}`,
        `{"type":"event","event":"constructor"}`,
        `{"type":"event","event":"hasOwnProperty","ref":${ref}}`,
      ]),
      { kind: 'any' },
    );
  }

  /** 10 to 100 000 levels of nesting (as many as fit in the size limit), at the top or inside a frame. */
  private deep(): FuzzMessage {
    const r = this.rng;
    const depth = this.depth();
    const open = '['.repeat(depth);
    const close = ']'.repeat(depth);
    switch (r.int(0, 4)) {
      case 0:
        return this.text('deep/array', open + close, { kind: 'answer', codes: MALFORMED });
      case 1:
        return this.text('deep/unbalanced', open, { kind: 'answer', codes: MALFORMED });
      case 2: {
        // Six bytes a level: a third of the depth keeps it within the size limit.
        const levels = Math.max(1, Math.floor(depth / 3));
        return this.text('deep/object', `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`, { kind: 'answer', codes: levels > MAX_FRAME_DEPTH ? TOO_DEEP : UNKNOWN });
      }
      default: {
        const ref = this.ref();
        const event = r.pick(['echo', 'publish', 'slow', 'fire', 'nohandler']);
        return this.text('deep/data', `{"type":"event","event":"${event}","ref":${ref},"data":${open}${close}}`, { kind: 'any' });
      }
    }
  }

  private depth(): number {
    const most = Math.min(100_000, Math.floor((this.target.maxMessageBytes - 200) / 2));
    // Log-uniform: every order of magnitude as likely, so huge ones are rare enough to be cheap.
    return Math.max(1, Math.floor(Math.exp(Math.log(10) + this.rng.next() * (Math.log(most) - Math.log(10)))));
  }

  // --- binary, UTF-8 and WebSocket framing --------------------------------------------------

  /**
   * Binary messages (PROTOCOL.md, "Binary data"): valid ones, ones whose layout is broken
   * (an error frame: nothing in them can be trusted, not even a ref), ones whose header does
   * not match their attachments (a reply with the ref), and random bytes.
   */
  private binary(view: ConnectionView): FuzzMessage {
    const r = this.rng;
    const roll = r.int(0, 9);
    if (roll < 3) {
      const payload = r.chance(0.7) ? this.bytes(r.int(0, 300)) : Buffer.from(JSON.stringify(this.template(view)));
      // Random bytes: nearly always a broken layout; a short header may parse, as anything but a valid frame.
      return this.message('binary', Opcode.Binary, payload, { kind: 'answer', codes: [ErrorCode.MalformedBinary, ...MALFORMED, ...UNKNOWN, ...BAD, ...TOO_DEEP] });
    }
    const ref = this.ref();
    // Well within maxMessageBytes: a valid message must not be refused for its size.
    const largest = Math.max(64, Math.floor(this.target.maxMessageBytes / 8));
    const attachments = Array.from({ length: r.int(1, 4) }, () => this.bytes(r.pick([0, 1, r.int(2, 64), r.int(64, largest)])));
    const data = (): unknown[] => attachments.map((_, i) => (r.chance(0.5) ? { $bin: i } : { nested: [{ $bin: i }, this.json(1)] }));
    const header: Frame = { type: 'event', event: r.pick(this.target.events), ref, data: data(), bin: attachments.length };
    if (r.chance(0.2)) header.seq = r.int(1, 30);
    if (roll < 6) return this.message('binary/valid', Opcode.Binary, binaryMessage(header, attachments), { kind: 'any' });
    if (roll < 8) {
      const wire = binaryMessage(header, attachments);
      const headerLength = wire.readUInt32BE(0);
      switch (r.int(0, 3)) {
        case 0:
          wire.writeUInt32BE(r.pick([wire.length, wire.length + r.int(1, 100), 0xffffffff]), 0);
          break;
        case 1: {
          // An attachment length running past the end.
          const at = 4 + headerLength;
          wire.writeUInt32BE(wire.readUInt32BE(at) + r.int(1, 50_000), at);
          break;
        }
        case 2:
          // Cut inside the last attachment or its length.
          return this.message('binary/layout', Opcode.Binary, wire.subarray(0, wire.length - r.int(1, Math.min(3, wire.length - 4 - headerLength))), { kind: 'answer', codes: [ErrorCode.MalformedBinary] });
        default:
          return this.message('binary/layout', Opcode.Binary, Buffer.concat([wire, this.bytes(r.int(1, 3))]), { kind: 'answer', codes: [ErrorCode.MalformedBinary] });
      }
      return this.message('binary/layout', Opcode.Binary, wire, { kind: 'answer', codes: [ErrorCode.MalformedBinary] });
    }
    // A readable header that does not match its attachments: answered with its ref.
    switch (r.int(0, 4)) {
      case 0:
        header.bin = r.pick([attachments.length + 1, 0, -1, 1.5, '1', null]);
        break;
      case 1:
        delete header.bin;
        break;
      case 2:
        (header.data as unknown[])[0] = { $bin: r.pick([attachments.length, -1, 0.5, 'x', null]) };
        break;
      case 3:
        header.data = [...(header.data as unknown[]), { $bin: 0 }];
        header.bin = attachments.length;
        break;
      default:
        attachments.push(this.bytes(r.int(0, 10)));
    }
    return this.message('binary/mismatch', Opcode.Binary, binaryMessage(header, attachments), { kind: 'answer', codes: [ErrorCode.MalformedBinary], ref });
  }

  private invalidUtf8(view: ConnectionView): FuzzMessage {
    const r = this.rng;
    const json = Buffer.from(JSON.stringify(this.template(view)));
    const at = r.int(0, json.length);
    const payload = Buffer.concat([json.subarray(0, at), Buffer.from(r.pick(INVALID_UTF8)), json.subarray(at)]);
    return this.message('invalid-utf8', Opcode.Text, payload, { kind: 'close', codes: [1007] });
  }

  private oversized(): FuzzMessage {
    const r = this.rng;
    const max = this.target.maxMessageBytes;
    const tooBig = { kind: 'close', codes: [1009] } as const;
    switch (r.int(0, 3)) {
      case 0: {
        // The header alone says it is too big: the server must not wait for (or buffer) the rest.
        const claimed = BigInt(max + 1 + r.int(0, 1 << 20));
        return { label: 'oversized/header', wire: encodeWireFrame({ opcode: Opcode.Text, payload: this.bytes(16), claimedLength: claimed }), expect: tooBig, preview: `header claims ${claimed} bytes` };
      }
      case 1:
        return { label: 'oversized/2^63', wire: encodeWireFrame({ opcode: Opcode.Text, payload: Buffer.alloc(8), claimedLength: 2n ** 63n + BigInt(r.int(0, 1000)) }), expect: tooBig, preview: 'header claims 2^63 bytes' };
      case 2: {
        const text = `{"type":"event","event":"echo","data":"${'x'.repeat(max)}"}`;
        return { label: 'oversized/whole', wire: encodeWireFrame({ opcode: Opcode.Text, payload: Buffer.from(text) }), expect: tooBig, preview: `${text.length} bytes` };
      }
      default: {
        // Each fragment is small; together they are too big.
        const piece = Buffer.alloc(Math.ceil(max / 3), 0x61);
        const frames: WireFrame[] = [{ opcode: Opcode.Text, payload: Buffer.from('"'), fin: false }];
        for (let i = 0; i < 4; i++) frames.push({ opcode: Opcode.Continuation, payload: piece, fin: i === 3 });
        return { label: 'oversized/fragments', wire: Buffer.concat(frames.map(encodeWireFrame)), expect: tooBig, preview: 'four fragments of a third of the limit' };
      }
    }
  }

  private protocolViolation(view: ConnectionView): FuzzMessage {
    const r = this.rng;
    const json = Buffer.from(JSON.stringify(this.template(view)));
    const violation = (label: string, frames: WireFrame[], codes: readonly number[] = [1002]): FuzzMessage => ({
      label: `violation/${label}`,
      wire: Buffer.concat(frames.map(encodeWireFrame)),
      expect: { kind: 'close', codes },
      preview: label,
    });
    switch (r.int(0, 10)) {
      case 0:
        return violation('rsv-bits', [{ opcode: Opcode.Text, payload: json, rsv: r.int(1, 7) }]);
      case 1:
        return violation('bad-opcode', [{ opcode: r.pick(BAD_OPCODES), payload: json }]);
      case 2:
        return violation('orphan-continuation', [{ opcode: Opcode.Continuation, payload: json }]);
      case 3:
        return violation('interrupted-fragments', [
          { opcode: Opcode.Text, payload: json.subarray(0, 3), fin: false },
          { opcode: r.pick([Opcode.Text, Opcode.Binary]), payload: json },
        ]);
      case 4:
        return violation('unmasked', [{ opcode: Opcode.Text, payload: json, mask: false }]);
      case 5:
        return violation('fragmented-control', [{ opcode: r.pick([Opcode.Ping, Opcode.Pong, Opcode.Close]), payload: this.bytes(4), fin: false }]);
      case 6:
        return violation('long-control', [{ opcode: r.pick([Opcode.Ping, Opcode.Pong, Opcode.Close]), payload: this.bytes(r.int(126, 500)) }]);
      case 7:
        return violation('close-1-byte', [{ opcode: Opcode.Close, payload: Buffer.from([3]) }]);
      case 8:
        return violation('close-bad-code', [{ opcode: Opcode.Close, payload: closePayload(r.pick(BAD_CLOSE_CODES), 'bye') }]);
      case 9:
        return violation('close-bad-utf8', [{ opcode: Opcode.Close, payload: Buffer.concat([closePayload(1000), Buffer.from(r.pick(INVALID_UTF8))]) }], [1007]);
      default:
        return violation('rsv-on-continuation', [
          { opcode: Opcode.Text, payload: json.subarray(0, 2), fin: false },
          { opcode: Opcode.Continuation, payload: json.subarray(2), rsv: r.int(1, 7) },
        ]);
    }
  }

  private ping(): FuzzMessage {
    const r = this.rng;
    const opcode = r.pick([Opcode.Ping, Opcode.Pong]);
    return { label: opcode === Opcode.Ping ? 'ws-ping' : 'ws-pong', wire: encodeWireFrame({ opcode, payload: this.bytes(r.int(0, 125)) }), expect: { kind: 'any' }, preview: 'control frame' };
  }

  private clientClose(): FuzzMessage {
    const r = this.rng;
    const code = r.pick([1000, 1001, 4005, 3000, 4999, 1005]);
    const payload = code === 1005 ? Buffer.alloc(0) : closePayload(code, this.string(r.int(0, 20)));
    return {
      label: 'client-close',
      wire: encodeWireFrame({ opcode: Opcode.Close, payload }),
      expect: { kind: 'close', codes: [code], clientInitiated: true },
      preview: `close ${code}`,
    };
  }

  /** A text message, fragmented now and then (with pings between the fragments, which the RFC allows). */
  private text(label: string, text: string, expect: Expectation): FuzzMessage {
    return this.message(label, Opcode.Text, Buffer.from(text), expect);
  }

  private message(label: string, opcode: number, payload: Buffer, expect: Expectation): FuzzMessage {
    const r = this.rng;
    const preview = payload.length > 120 ? `${payload.subarray(0, 100).toString()}… (${payload.length} bytes)` : payload.toString();
    if (!r.chance(0.12)) return { label, wire: encodeWireFrame({ opcode, payload }), expect, preview };
    const cuts = Array.from({ length: r.int(1, 7) }, () => r.int(0, payload.length)).sort((a, b) => a - b);
    const frames: WireFrame[] = [];
    let from = 0;
    for (const [i, cut] of [...cuts, payload.length].entries()) {
      frames.push({ opcode: i === 0 ? opcode : Opcode.Continuation, payload: payload.subarray(from, cut), fin: i === cuts.length });
      from = cut;
      if (i < cuts.length && r.chance(0.3)) frames.push({ opcode: Opcode.Ping, payload: this.bytes(r.int(0, 10)) });
    }
    return { label: `${label}+fragmented`, wire: Buffer.concat(frames.map(encodeWireFrame)), expect, preview: `${preview} [in ${cuts.length + 1} fragments]` };
  }

  // --- values --------------------------------------------------------------------------------

  private ref(): number {
    return this.nextRef++;
  }

  private room(): string {
    return this.rng.chance(0.85) ? this.rng.pick(ROOMS) : this.string(this.rng.int(1, 40));
  }

  private eventName(): string {
    const r = this.rng;
    return r.chance(0.85) ? r.pick(this.target.events) : r.pick(['nohandler', this.string(r.int(1, 20)), 'x'.repeat(256)]);
  }

  private position(): unknown {
    const r = this.rng;
    return { epoch: r.chance(0.5) ? this.string(8) : 'e', offset: r.pick([0, 1, r.int(0, 1000), 2 ** 53 - 1]) };
  }

  /** Any JSON value, including the awkward ones. */
  json(depth: number): unknown {
    const r = this.rng;
    const kind = r.int(0, depth > 0 ? 9 : 6);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return r.chance(0.5);
      case 2:
        return r.pick([0, -0, 1, -1, 0.1, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, 1e21, r.int(-1000, 1000)]);
      case 3:
      case 4:
        return this.string(r.int(0, 30));
      case 5:
        return r.pick(['', '\u0000', '\uD800', '\uDFFF', '😀', '\u202E', '"\\', '</script>']);
      case 6:
        return r.int(0, 1 << 30);
      case 7:
        return Array.from({ length: r.int(0, 5) }, () => this.json(depth - 1));
      default: {
        const o: Frame = {};
        for (let i = r.int(0, 5); i > 0; i--) o[r.pick(['a', 'n', 'ok', 'type', 'ref', 'constructor', 'toString', 'valueOf', this.string(5)])] = this.json(depth - 1);
        return o;
      }
    }
  }

  /** A string of random UTF-16 code units, lone surrogates included. */
  private string(length: number): string {
    const r = this.rng;
    let s = '';
    for (let i = 0; i < length; i++) {
      const band = r.int(0, 9);
      s += String.fromCharCode(band < 6 ? r.int(0x20, 0x7e) : band < 7 ? r.int(0, 0x1f) : band < 9 ? r.int(0x80, 0xffff) : r.int(0xd800, 0xdfff));
    }
    return s;
  }

  private bytes(length: number): Buffer {
    const b = Buffer.alloc(length);
    for (let i = 0; i < length; i++) b[i] = this.rng.int(0, 255);
    return b;
  }
}
