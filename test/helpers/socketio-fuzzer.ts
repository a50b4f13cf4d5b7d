/**
 * A seeded generator of bad (and a few good) inputs for the Socket.IO front door:
 * malformed Engine.IO payloads and packets, and malformed Socket.IO packets inside valid
 * Engine.IO messages. Each case says what the server must do with it, per
 * docs/SOCKET-IO.md "Bad input", so a run checks answers and not only survival. The same
 * seed gives the same cases. Used by test/helpers/socketio-fuzz-run.ts.
 *
 * A case is what one Engine.IO connection (polling or WebSocket, after its handshake and a
 * CONNECT to `/`) sends: Engine.IO packets in order — text packets with their type digit
 * (`42["x"]`), and binary messages as bytes. On WebSocket each is one message; by polling
 * they are one POST body (packets joined by "\x1e", bytes as `b` + base64), or `rawBody`
 * when the body itself is the bad input. A probe follows (see `probe`), so that "the
 * connection stays open" is checked by an answer rather than by waiting.
 */
import type { SeededRandom } from './seeded-random.js';

/** What the server must do with a case. Patterns match whole Engine.IO packets (`43…` is a Socket.IO ACK in a message packet). */
export type SocketIoExpectation =
  /** The Engine.IO connection is closed (polling: the POST answered `status`, then a close packet or code 1). */
  | { kind: 'close'; status?: readonly number[] }
  /** A packet matching `answer` arrives, and the connection stays open (the probe is answered). */
  | { kind: 'answer'; answer: RegExp }
  /** The connection stays open (the probe is answered); any well-formed packets may come. */
  | { kind: 'open' }
  /** Closed or open, as long as what arrives is well-formed and documented. */
  | { kind: 'any' };

export interface SocketIoFuzzCase {
  /** Category, for the report (`engine/…`, `socket/…`, `limit/…`, `valid/…`). */
  label: string;
  packets: (string | Uint8Array)[];
  /** Polling only: this exact body instead of the packets (bad payload framing, bodies past maxPayload). */
  rawBody?: string;
  expect: SocketIoExpectation;
  /** Sent after the case when the connection should still be open, and the packet that answers it. */
  probe: { packets: string[]; answer: RegExp };
}

export interface SocketIoFuzzTarget {
  /** The server's `socketIo.maxPayload`. */
  maxPayload: number;
  /** The server's `socketIo.maxAttachments`. */
  maxAttachments: number;
  /** Event names with handlers on `/`: `echo` must answer with its data. */
  events: readonly string[];
  /** A namespace clients may connect (no middleware). */
  namespace: string;
}

/** Names socket.io-parser refuses: Switchboard closes the connection for them too (see the documented-answers test). */
const PARSER_RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
/** Names only Switchboard reserves: answered `bad_request`. */
const NATIVE_RESERVED = ['error', 'state', 'reconnecting', 'recovery', 'presence'];
/** What may not start a payload (an ack id's digits would make it a good packet). */
const NOT_JSON_STARTS = [' ', 'x', '-', 't', 'n', '}', ']', '\'', '<'];
const BAD_NAMESPACES = ['/a"b', '/x[', '/y{', '/\u0001', '/n}'];
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export class SocketIoFuzzer {
  /** Ack ids of probes and generated requests: unique per generator. */
  private nextId: number;

  constructor(
    private readonly rng: SeededRandom,
    private readonly target: SocketIoFuzzTarget,
    idBase = 1000,
  ) {
    this.nextId = idBase;
  }

  next(): SocketIoFuzzCase {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.18) return this.engineCase();
    if (roll < 0.5) return this.malformedSocketCase();
    if (roll < 0.65) return this.binaryCase();
    if (roll < 0.75) return this.limitCase();
    if (roll < 0.85) return this.namespaceCase();
    return this.validCase();
  }

  // --- Engine.IO layer --------------------------------------------------------------------

  /** Malformed Engine.IO packets and payloads: 400 (polling) and the connection closed. */
  private engineCase(): SocketIoFuzzCase {
    const r = this.rng;
    const closed: SocketIoExpectation = { kind: 'close', status: [400] };
    switch (r.int(0, 5)) {
      case 0:
        return this.make('engine/unknown-type', [r.pick(['7', '8', '9', 'x', '{', ' ', 'é']) + this.string(8)], closed);
      case 1:
        return this.make('engine/empty-packet', [''], closed);
      case 2: {
        // `b` + something that is not padded standard base64.
        const bad = r.pick(['A', 'AA', 'AAA', '@@@@', 'AB=C', '====', `${this.base64(4)}!`, '-_-_']);
        return this.make('engine/bad-base64', [`b${bad}`], closed);
      }
      case 3:
        // Only the server opens a connection: a well-formed packet out of place, so the POST may be `ok` (engine.io ignores it; Switchboard closes).
        return this.make('engine/open-from-client', [`0${r.chance(0.5) ? '{}' : ''}`], { kind: 'close', status: [200, 400] });
      case 4: {
        // An empty packet between good ones: the whole payload is refused.
        const c = this.make('engine/empty-in-payload', [], closed);
        c.packets = ['42["echo",1]', '', '3'];
        c.rawBody = `42["echo",1]\x1e\x1e3`;
        return c;
      }
      default: {
        // A random mutation of a good payload: a byte changed into a type that does not exist.
        const text = `42["echo",${JSON.stringify(this.string(6))}]`;
        return this.make('engine/mutated-type', [r.pick(['7', '8', '9']) + text.slice(1)], closed);
      }
    }
  }

  // --- Socket.IO layer --------------------------------------------------------------------

  /** Valid Engine.IO messages carrying Socket.IO packets that break the protocol: closed, as Socket.IO does. */
  private malformedSocketCase(): SocketIoFuzzCase {
    const r = this.rng;
    const closed: SocketIoExpectation = { kind: 'close', status: [200] };
    switch (r.int(0, 11)) {
      case 0: {
        // Truncated JSON: a good packet cut short inside its payload.
        const good = `2${this.id()}["echo",${JSON.stringify(this.json(3))}]`;
        const start = good.indexOf('[');
        return this.make('socket/truncated-json', [`4${good.slice(0, r.int(start + 1, good.length - 1))}`], closed);
      }
      case 1:
        return this.make('socket/bad-type', [`4${r.pick(['7', '8', '9', 'a', '-', ' '])}["echo"]`], closed);
      case 2:
        // An ack id that is not a safe integer.
        return this.make('socket/huge-ack-id', [`42${'9'.repeat(r.int(17, 400))}["echo"]`], closed);
      case 3:
        return this.make('socket/negative-ack-id', [`42-${r.int(1, 1e6)}["echo"]`], closed);
      case 4:
        // A payload that is not an object, an array or a string, or JSON after a space.
        return this.make('socket/not-json', [`42${r.pick(NOT_JSON_STARTS)}${r.pick(['["echo"]', 'rue', 'ull', '1', ''])}`], closed);
      case 5:
        // EVENT payloads that are not a non-empty array with a string or number name.
        return this.make('socket/bad-event-payload', [`42${r.pick(['[]', '{}', '"echo"', '[null]', '[true]', '[{}]', '[[]]', '[["echo"]]'])}`], closed);
      case 6:
        // The server sends CONNECT_ERROR; the client may not.
        return this.make('socket/connect-error-from-client', [`44${r.pick(['{}', '"x"', '{"message":"m"}'])}`], closed);
      case 7:
        // ACK without an id, or with a payload that is not an array.
        return this.make('socket/bad-ack', [r.pick(['43[1]', '43', `43${this.id()}{}`, `43${this.id()}"x"`])], closed);
      case 8:
        // An id on a packet that cannot carry one, a payload on DISCONNECT.
        return this.make('socket/id-where-none', [r.pick(['40', '41']) + String(r.int(1, 99))], closed);
      case 9:
        // A namespace with JSON in it: the comma was forgotten.
        return this.make('socket/bad-namespace', [`42${r.pick(BAD_NAMESPACES)},["echo"]`], closed);
      case 10: {
        // JSON nested as deep as maxPayload allows: read, then refused by the server's depth limit (an `error` event).
        const depth = Math.floor((this.target.maxPayload - 20) / 2);
        return this.make('socket/deep-max-payload', [`42["echo",${'['.repeat(depth)}${']'.repeat(depth)}]`], { kind: 'any' });
      }
      default:
        // A second CONNECT of a namespace it is in.
        return this.make('socket/second-connect', ['40'], closed);
    }
  }

  /** Binary packets whose attachments do not add up. */
  private binaryCase(): SocketIoFuzzCase {
    const r = this.rng;
    const closed: SocketIoExpectation = { kind: 'close', status: [200] };
    const max = this.target.maxAttachments;
    const bytes = (): Uint8Array => this.bytes(r.int(0, 16));
    const placeholders = (n: number): string => Array.from({ length: n }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(',');
    switch (r.int(0, 7)) {
      case 0: {
        // Fewer attachments than announced, then a text packet (the probe).
        const announced = r.int(2, max);
        const sent = r.int(0, announced - 1);
        return this.make('binary/too-few', [`45${announced}-["echo",${placeholders(announced)}]`, ...Array.from({ length: sent }, bytes)], closed);
      }
      case 1: {
        // More than announced: the extra one has no packet.
        const announced = r.int(1, 3);
        return this.make('binary/too-many', [`45${announced}-["echo",${placeholders(announced)}]`, ...Array.from({ length: announced + 1 }, bytes)], closed);
      }
      case 2:
        // Attachments with no binary packet before them.
        return this.make('binary/orphan-attachment', Array.from({ length: r.int(1, 3) }, bytes), closed);
      case 3:
        return this.make('binary/over-max', [`45${r.int(max + 1, max + 1000)}-["echo"]`, bytes()], closed);
      case 4:
        return this.make('binary/bad-count', [`45${r.pick(['0', '', 'x', '-1', '1x', '99999999999'])}-["echo",{"_placeholder":true,"num":0}]`, bytes()], closed);
      case 5: {
        // A placeholder that names no attachment.
        const num = r.pick(['1', '-1', '"0"', '0.5', 'null', '99']);
        return this.make('binary/bad-placeholder', [`451-["echo",{"_placeholder":true,"num":${num}}]`, bytes()], closed);
      }
      case 6: {
        // A good binary event with an ack: answered with the bytes back.
        const id = this.id();
        const n = r.int(1, Math.min(3, max));
        const c = this.make('valid/binary-echo', [`45${n}-${id}["echo",[${placeholders(n)}]]`, ...Array.from({ length: n }, bytes)], {
          kind: 'answer',
          answer: new RegExp(`^46${n}-${id}\\[`),
        });
        return c;
      }
      default:
        // A binary ACK for a request the server never made: ignored.
        return this.make('binary/stray-ack', [`461-${this.id()}[{"_placeholder":true,"num":0}]`, bytes()], { kind: 'open' });
    }
  }

  /** Past maxPayload: 413 by polling, close 1009 on WebSocket; both close the connection. */
  private limitCase(): SocketIoFuzzCase {
    const r = this.rng;
    const size = this.target.maxPayload + r.int(1, this.target.maxPayload);
    if (r.chance(0.5)) {
      const text = `42["echo",${JSON.stringify('x'.repeat(size))}]`;
      return this.make('limit/huge-string', [text], { kind: 'close', status: [413] });
    }
    return this.make('limit/huge-binary', ['451-["echo",{"_placeholder":true,"num":0}]', this.bytes(size)], { kind: 'close', status: [413] });
  }

  private namespaceCase(): SocketIoFuzzCase {
    const r = this.rng;
    const unknown = `/${r.pick(['nope', 'admin', 'x/y', 'é', this.word(5)])}`;
    switch (r.int(0, 3)) {
      case 0:
        // Documented answer: CONNECT_ERROR "Invalid namespace", and the connection goes on.
        return this.make('namespace/unknown-connect', [`40${unknown},`], { kind: 'answer', answer: new RegExp(`^44${escape(unknown)},\\{"message":"Invalid namespace","data":\\{"code":"unknown_namespace"\\}\\}$`) });
      case 1:
        return this.make('namespace/not-connected', [`42${unknown},${r.chance(0.5) ? this.id() : ''}["echo"]`], { kind: 'close', status: [200] });
      case 2: {
        // Into a namespace and out again: DISCONNECT leaves it, the probe's CONNECT joins it again.
        const ns = this.target.namespace;
        const c = this.make('namespace/connect-disconnect', [`40${ns},`, `41${ns},`], { kind: 'open' });
        c.probe = { packets: [`40${ns},`], answer: new RegExp(`^40${escape(ns)},\\{"sid":"[\\w-]+"\\}$`) };
        return c;
      }
      default: {
        // Leaving `/`: what follows for it closes the connection (the probe).
        return this.make('namespace/left-then-event', ['41'], { kind: 'close', status: [200] });
      }
    }
  }

  /** Good packets with odd data: answered as documented, never a close. */
  private validCase(): SocketIoFuzzCase {
    const r = this.rng;
    const id = this.id();
    switch (r.int(0, 6)) {
      case 0:
        return this.make('valid/echo', [`42${id}["echo",${JSON.stringify(this.json(3))}]`], { kind: 'answer', answer: new RegExp(`^43${id}\\[`) });
      case 1:
        return this.make('valid/no-handler', [`42${id}[${JSON.stringify(`nope${this.string(3)}`)}]`], { kind: 'answer', answer: new RegExp(`^43${id}\\[\\{"error":\\{"code":"no_handler"`) });
      case 2:
        return this.make('valid/native-reserved', [`42${id}[${JSON.stringify(r.pick(NATIVE_RESERVED))}]`], { kind: 'answer', answer: new RegExp(`^43${id}\\[\\{"error":\\{"code":"bad_request"`) });
      case 3:
        // Refused by socket.io-parser; the guide says answered (see the documented-answers test). Closed or answered here.
        return this.make('valid/parser-reserved', [`42${r.chance(0.5) ? id : ''}[${JSON.stringify(r.pick(PARSER_RESERVED))}]`], { kind: 'any' });
      case 4:
        // An ack for a request the server never made, with the largest safe id: ignored.
        return this.make('valid/stray-ack', [`43${r.pick([0, 1, Number.MAX_SAFE_INTEGER])}[${JSON.stringify(this.json(2))}]`], { kind: 'open' });
      case 5: {
        // Nesting the server refuses to read (deeper than its frame depth): an error answer.
        const depth = r.int(200, 400);
        return this.make('valid/deep', [`42${id}["echo",${'['.repeat(depth)}${']'.repeat(depth)}]`], { kind: 'answer', answer: new RegExp(`^43${id}\\[\\{"error":\\{"code":"nesting_too_deep"`) });
      }
      default:
        // Engine.IO packets a client may send: ping (answered pong), noop, upgrade on its own transport.
        return this.make('valid/engine-packets', [r.pick(['2', '2probe', '6', '5', '3'])], { kind: 'open' });
    }
  }

  // ---------------------------------------------------------------------------------------

  private make(label: string, packets: (string | Uint8Array)[], expect: SocketIoExpectation): SocketIoFuzzCase {
    const id = this.id();
    return { label, packets, expect, probe: { packets: [`42${id}["echo","probe"]`], answer: new RegExp(`^43${id}\\["probe"\\]$`) } };
  }

  private id(): number {
    return this.nextId++;
  }

  private string(max: number): string {
    const r = this.rng;
    return Array.from({ length: r.int(1, max) }, () => String.fromCharCode(r.pick([r.int(0x61, 0x7a), r.int(0x20, 0x7e), r.int(0xa0, 0x2fff)]))).join('');
  }

  /** Letters and digits only: a namespace name that is not a JSON or separator character. */
  private word(max: number): string {
    return Array.from({ length: this.rng.int(1, max) }, () => this.rng.pick([...'abcdefghijklmnopqrstuvwxyz0123456789'])).join('');
  }

  private base64(groups: number): string {
    return Array.from({ length: groups * 4 }, () => this.rng.pick([...BASE64_ALPHABET])).join('');
  }

  private bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.rng.int(0, 255));
  }

  /** Random JSON-able data, at most `depth` levels. */
  private json(depth: number): unknown {
    const r = this.rng;
    const roll = r.int(0, depth > 0 ? 6 : 3);
    if (roll === 0) return r.int(-1e9, 1e9);
    if (roll === 1) return this.string(12);
    if (roll === 2) return r.pick([true, false, null, 0, -0.5, 1e300]);
    if (roll === 3) return r.pick(['', '\u2028', '\ud83d\ude00', '\\', '"']);
    if (roll <= 5) return Array.from({ length: r.int(0, 4) }, () => this.json(depth - 1));
    return Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [this.string(6), this.json(depth - 1)]));
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
