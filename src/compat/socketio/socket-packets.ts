/**
 * Socket.IO protocol v5 packets: the text form
 * `<type>[<attachments>-][<namespace>,][<ack id>][JSON data]`, and binary packets whose
 * binary values travel as separate Engine.IO messages after the text, each replaced in
 * the JSON by `{"_placeholder":true,"num":i}`.
 *
 * Pure codec: no sockets, no Engine.IO framing. It matches the `socket.io-parser` 4.x
 * encoder byte for byte and reads everything that package's encoder writes; on input it
 * is stricter than that package's decoder where the latter accepts nonsense (see
 * `test/unit/socket-packets.test.ts` for each difference). The decoder never throws on
 * bad input: it reports a typed error and drops the packet it was assembling.
 */

export const SocketPacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;
export type SocketPacketType = (typeof SocketPacketType)[keyof typeof SocketPacketType];

/** A binary value inside packet data. */
export type BinaryValue = Uint8Array | ArrayBuffer;

/**
 * A packet as the application sees it. Binary packets are EVENT/ACK whose data holds
 * binary values: the encoder turns them into BINARY_EVENT/BINARY_ACK and the decoder
 * gives them back as EVENT/ACK, as `socket.io-parser` does.
 */
export interface SocketPacket {
  type: SocketPacketType;
  /** Starts with `/`; `/` is the main namespace and is not written on the wire. */
  nsp: string;
  /** Ack id: on EVENT to ask for an ACK, and on ACK to answer it. */
  id?: number;
  data?: unknown;
}

/** What an encoded packet is: the text Engine.IO message, then its binary attachments. */
export type EncodedSocketPacket = [text: string, ...attachments: BinaryValue[]];

/**
 * Event names the Socket.IO client and server keep for themselves; `socket.io-parser`
 * refuses an EVENT that names one of them, and so do we.
 */
export const RESERVED_EVENT_NAMES: readonly string[] = [
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
];

// ---------------------------------------------------------------------------------------
// Encoding

export function isBinaryValue(value: unknown): value is BinaryValue {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * Encodes a packet. The caller gives a valid packet (see `socketPacketProblem`); EVENT
 * and ACK data holding binary values anywhere become BINARY_EVENT / BINARY_ACK with the
 * values, in depth-first order, as attachments. Values with `toJSON` are replaced by its
 * result before the walk, as JSON.stringify and `socket.io-parser` would.
 */
export function encodePacket(packet: SocketPacket): EncodedSocketPacket {
  const { type } = packet;
  const isEventOrAck =
    type === SocketPacketType.EVENT ||
    type === SocketPacketType.ACK ||
    type === SocketPacketType.BINARY_EVENT ||
    type === SocketPacketType.BINARY_ACK;
  if (isEventOrAck) {
    const attachments: BinaryValue[] = [];
    const data = withPlaceholders(packet.data, attachments, false);
    if (attachments.length > 0) {
      const binaryType =
        type === SocketPacketType.EVENT || type === SocketPacketType.BINARY_EVENT
          ? SocketPacketType.BINARY_EVENT
          : SocketPacketType.BINARY_ACK;
      return [textOf(binaryType, attachments.length, packet.nsp, packet.id, data), ...attachments];
    }
    const plainType =
      type === SocketPacketType.BINARY_EVENT ? SocketPacketType.EVENT : type === SocketPacketType.BINARY_ACK ? SocketPacketType.ACK : type;
    return [textOf(plainType, 0, packet.nsp, packet.id, packet.data)];
  }
  return [textOf(type, 0, packet.nsp, packet.id, packet.data)];
}

function textOf(type: SocketPacketType, attachments: number, nsp: string, id: number | undefined, data: unknown): string {
  let text = String(type);
  if (attachments > 0) text += `${attachments}-`;
  if (nsp && nsp !== '/') text += `${nsp},`;
  if (id !== undefined && id !== null) text += String(id);
  if (data !== undefined && data !== null) text += JSON.stringify(data);
  return text;
}

/** A copy of `value` with binary values moved to `out` and replaced by placeholders. */
function withPlaceholders(value: unknown, out: BinaryValue[], afterToJSON: boolean): unknown {
  if (!value || typeof value !== 'object') return value;
  if (isBinaryValue(value)) {
    out.push(value);
    return { _placeholder: true, num: out.length - 1 };
  }
  if (Array.isArray(value)) return value.map((item) => withPlaceholders(item, out, false));
  if (value instanceof Date) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function' && !afterToJSON) return withPlaceholders(toJSON.call(value), out, true);
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withPlaceholders(item, out, false)]));
}

// ---------------------------------------------------------------------------------------
// Validation (shared by the decoder and by callers that build packets from app input)

const isPlainObject = (value: unknown): boolean => Object.prototype.toString.call(value) === '[object Object]';

/**
 * Why `data` cannot be the payload of a packet of `type`, or undefined when it can.
 * Stricter than `socket.io-parser`'s decoder in one way: EVENT, ACK and CONNECT_ERROR
 * need a payload (that package's own `isPacketValid` requires one too).
 */
export function payloadProblem(type: SocketPacketType, data: unknown): string | undefined {
  switch (type) {
    case SocketPacketType.CONNECT:
      return data === undefined || isPlainObject(data) ? undefined : 'CONNECT payload must be an object';
    case SocketPacketType.DISCONNECT:
      return data === undefined ? undefined : 'DISCONNECT has no payload';
    case SocketPacketType.CONNECT_ERROR:
      return typeof data === 'string' || isPlainObject(data) ? undefined : 'CONNECT_ERROR payload must be a string or an object';
    case SocketPacketType.EVENT:
    case SocketPacketType.BINARY_EVENT: {
      if (!Array.isArray(data) || data.length === 0) return 'EVENT payload must be a non-empty array';
      const name: unknown = data[0];
      if (typeof name === 'number') return undefined;
      if (typeof name !== 'string') return 'EVENT name must be a string or a number';
      return RESERVED_EVENT_NAMES.includes(name) ? `EVENT name "${name}" is reserved` : undefined;
    }
    case SocketPacketType.ACK:
    case SocketPacketType.BINARY_ACK:
      return Array.isArray(data) ? undefined : 'ACK payload must be an array';
    default:
      return 'unknown packet type';
  }
}

// ---------------------------------------------------------------------------------------
// Decoding

export type SocketPacketErrorKind =
  | 'bad-type'
  | 'bad-attachment-count'
  | 'too-many-attachments'
  | 'bad-namespace'
  | 'bad-ack-id'
  | 'bad-json'
  | 'invalid-payload'
  /** A text message came while attachments of the previous packet were still due. */
  | 'missing-attachments'
  /** A binary message came while no binary packet was being assembled. */
  | 'unexpected-attachment'
  | 'bad-placeholder';

export interface SocketPacketError {
  kind: SocketPacketErrorKind;
  message: string;
}

export type DecodeStep =
  | { kind: 'packet'; packet: SocketPacket }
  /** A binary packet's text or one of its attachments was taken; more attachments are due. */
  | { kind: 'pending' }
  | { kind: 'error'; error: SocketPacketError };

export interface SocketPacketDecoderOptions {
  /** Most attachments one binary packet may announce; `socket.io-parser` defaults to 10. */
  maxAttachments?: number;
}

const fail = (kind: SocketPacketErrorKind, message: string): DecodeStep => ({ kind: 'error', error: { kind, message } });

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** A binary packet whose attachments are still arriving. */
interface Assembly {
  packet: SocketPacket;
  expected: number;
  attachments: BinaryValue[];
}

/**
 * Reads Engine.IO messages one by one — a text packet, then for a binary packet its N
 * attachments — and returns a packet when one is complete. On any error the packet being
 * assembled is dropped and the decoder is ready for a new text packet; what to do with
 * the connection is the caller's choice (Socket.IO closes it).
 */
export class SocketPacketDecoder {
  readonly #maxAttachments: number;
  #assembly: Assembly | undefined;

  constructor(options: SocketPacketDecoderOptions = {}) {
    this.#maxAttachments = options.maxAttachments ?? 10;
  }

  /** True while a binary packet waits for attachments. */
  get awaitingAttachments(): boolean {
    return this.#assembly !== undefined;
  }

  add(message: string | BinaryValue): DecodeStep {
    if (typeof message === 'string') {
      if (this.#assembly) {
        const { expected, attachments } = this.#assembly;
        this.#assembly = undefined;
        return fail('missing-attachments', `text packet while ${expected - attachments.length} of ${expected} attachments were due`);
      }
      return this.#addText(message);
    }
    const assembly = this.#assembly;
    if (!assembly) return fail('unexpected-attachment', 'binary message without a binary packet before it');
    assembly.attachments.push(message);
    if (assembly.attachments.length < assembly.expected) return { kind: 'pending' };
    this.#assembly = undefined;
    const packet = assembly.packet;
    try {
      packet.data = withAttachments(packet.data, assembly.attachments);
    } catch {
      return fail('invalid-payload', 'payload nested too deeply');
    }
    return { kind: 'packet', packet };
  }

  /** Forgets a half-assembled packet (the connection closed). */
  reset(): void {
    this.#assembly = undefined;
  }

  #addText(text: string): DecodeStep {
    const type = Number(text[0]);
    if (!isDigit(text[0]) || type > SocketPacketType.BINARY_ACK) return fail('bad-type', `unknown packet type ${JSON.stringify(text.slice(0, 1))}`);
    let i = 1;

    let attachments = 0;
    const isBinary = type === SocketPacketType.BINARY_EVENT || type === SocketPacketType.BINARY_ACK;
    if (isBinary) {
      const dash = text.indexOf('-', i);
      const count = dash < 0 ? '' : text.slice(i, dash);
      if (!/^[0-9]{1,9}$/.test(count) || Number(count) < 1) return fail('bad-attachment-count', 'binary packet needs "<count>-" with count ≥ 1');
      attachments = Number(count);
      if (attachments > this.#maxAttachments) return fail('too-many-attachments', `${attachments} attachments, at most ${this.#maxAttachments}`);
      i = dash + 1;
    }

    let nsp = '/';
    if (text[i] === '/') {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      nsp = text.slice(i, end);
      // Without a comma the namespace runs to the end, so nothing may follow it; a JSON
      // character inside means the comma was forgotten, not an odd namespace name.
      if (/[\u0000-\u001f"[\]{}]/.test(nsp)) return fail('bad-namespace', 'namespace holds a control or JSON character (missing ","?)');
      i = comma < 0 ? end : end + 1;
    }

    let id: number | undefined;
    if (isDigit(text[i])) {
      const start = i;
      while (isDigit(text[i])) i++;
      id = Number(text.slice(start, i));
      if (!Number.isSafeInteger(id)) return fail('bad-ack-id', 'ack id is not a safe integer');
    }
    const needsId = type === SocketPacketType.ACK || type === SocketPacketType.BINARY_ACK;
    const allowsId = needsId || type === SocketPacketType.EVENT || type === SocketPacketType.BINARY_EVENT;
    if (needsId && id === undefined) return fail('bad-ack-id', 'ACK without an ack id');
    if (!allowsId && id !== undefined) return fail('bad-ack-id', 'ack id on a packet that cannot carry one');

    let data: unknown;
    if (i < text.length) {
      // Every valid payload is an object, an array or a string; refusing anything else here
      // (leading spaces included) keeps "2 [..]" from meaning two things.
      if (!'[{"'.includes(text[i]!)) return fail('bad-json', 'payload must start with [, { or "');
      try {
        data = JSON.parse(text.slice(i));
      } catch {
        return fail('bad-json', 'payload is not JSON');
      }
    }
    const problem = payloadProblem(type as SocketPacketType, data);
    if (problem) return fail('invalid-payload', problem);

    const packet: SocketPacket = { type: type as SocketPacketType, nsp };
    if (id !== undefined) packet.id = id;
    if (data !== undefined) packet.data = data;
    if (!isBinary) return { kind: 'packet', packet };

    let badPlaceholder: string | undefined;
    try {
      badPlaceholder = placeholderProblem(data, attachments);
    } catch {
      // JSON.parse takes nesting deeper than the stack; the walks over the data do not.
      return fail('invalid-payload', 'payload nested too deeply');
    }
    if (badPlaceholder) return fail('bad-placeholder', badPlaceholder);
    packet.type = type === SocketPacketType.BINARY_EVENT ? SocketPacketType.EVENT : SocketPacketType.ACK;
    this.#assembly = { packet, expected: attachments, attachments: [] };
    return { kind: 'pending' };
  }
}

function isPlaceholder(value: unknown): value is { _placeholder: true; num: unknown } {
  return typeof value === 'object' && value !== null && (value as { _placeholder?: unknown })._placeholder === true;
}

/** Why a placeholder in `data` cannot name one of `count` attachments, if one cannot. */
function placeholderProblem(data: unknown, count: number): string | undefined {
  if (isPlaceholder(data)) {
    const num = data.num;
    return Number.isInteger(num) && (num as number) >= 0 && (num as number) < count ? undefined : `placeholder num ${JSON.stringify(num)} outside 0..${count - 1}`;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  for (const value of Object.values(data)) {
    const problem = placeholderProblem(value, count);
    if (problem) return problem;
  }
  return undefined;
}

/** `data` with each placeholder replaced by its attachment (indexes checked before). */
function withAttachments(data: unknown, attachments: BinaryValue[]): unknown {
  if (isPlaceholder(data)) return attachments[data.num as number];
  if (Array.isArray(data)) return data.map((item) => withAttachments(item, attachments));
  if (typeof data !== 'object' || data === null) return data;
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, withAttachments(value, attachments)]));
}
