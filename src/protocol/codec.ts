import { encodeTextForm, hasBinary, reviveBinary, splitBinaryMessage } from './binary.js';
import { MAX_FRAME_DEPTH, MAX_HISTORY_LIMIT, MAX_NAME_LENGTH } from './constants.js';
import { ErrorCode } from './error-codes.js';
import { SwitchboardError } from './errors.js';
import type { ClientFrame, ErrorPayload, Frame, ServerFrame } from './frames.js';
import { mayNestDeeperThan, nestsDeeperThan } from './nesting.js';
import { dropProtoKeys, mayHoldProtoKey } from './proto-keys.js';

/** A decoded frame, or the error to answer it with (`ref` when the bad frame had a usable one). */
export type DecodeResult<F> =
  | { ok: true; frame: F }
  | { ok: false; error: ErrorPayload; ref?: number };

/**
 * Serialize a frame; one whose `data` holds binary values in the text form (see binary.ts).
 * Throws `SwitchboardError('unserializable')` for BigInt, cycles and the like.
 */
export function encodeFrame(frame: Frame): string {
  try {
    return 'data' in frame && hasBinary(frame.data) ? encodeTextForm(frame) : JSON.stringify(frame);
  } catch (cause) {
    throw new SwitchboardError(ErrorCode.Unserializable, `payload cannot be encoded as JSON: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Decode and validate a frame sent by a client (used by the server). A frame nesting
 * arrays and objects deeper than MAX_FRAME_DEPTH is refused `nesting_too_deep` (answered
 * with its ref when it has one) before anything recursive sees it.
 */
export function decodeClientFrame(text: string): DecodeResult<ClientFrame> {
  return decode(text, clientValidators, MAX_FRAME_DEPTH) as DecodeResult<ClientFrame>;
}

/** Decode and validate a frame sent by a server (used by the SDK). */
export function decodeServerFrame(text: string): DecodeResult<ServerFrame> {
  return decode(text, serverValidators, undefined) as DecodeResult<ServerFrame>;
}

/** Decode a binary message sent by a client (see binary.ts): its header as a frame, its attachments in place of the markers. */
export function decodeClientBinary(message: Uint8Array): DecodeResult<ClientFrame> {
  return decodeBinary(message, clientValidators, MAX_FRAME_DEPTH) as DecodeResult<ClientFrame>;
}

/** Decode a binary message sent by a server (used by the SDK). */
export function decodeServerBinary(message: Uint8Array): DecodeResult<ServerFrame> {
  return decodeBinary(message, serverValidators, undefined) as DecodeResult<ServerFrame>;
}

function decodeBinary(message: Uint8Array, validators: Readonly<Record<string, Validator>>, maxDepth: number | undefined): DecodeResult<Frame> {
  const parts = splitBinaryMessage(message);
  if (typeof parts === 'string') return fail(ErrorCode.MalformedBinary, `binary message: ${parts}`);
  return decode(parts.header, validators, maxDepth, parts.attachments);
}

type FrameObject = Record<string, unknown>;
/** Returns a problem description, or undefined when the frame is valid. */
type Validator = (f: FrameObject) => string | undefined;

function decode(
  text: string,
  validators: Readonly<Record<string, Validator>>,
  maxDepth: number | undefined,
  attachments?: Uint8Array[],
): DecodeResult<Frame> {
  let value: unknown;
  try {
    // Iterative in V8: any depth parses; the depth is checked below.
    value = JSON.parse(text);
  } catch {
    return fail(ErrorCode.MalformedFrame, 'frame is not valid JSON');
  }
  if (mayHoldProtoKey(text)) dropProtoKeys(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(ErrorCode.MalformedFrame, 'frame must be a JSON object');
  }
  const f = value as FrameObject;
  // A bad reply is never answered: answering it would look like a reply to the peer's own request.
  const ref = f.type !== 'reply' && isRef(f.ref) ? f.ref : undefined;
  if (maxDepth !== undefined && mayNestDeeperThan(text, maxDepth) && nestsDeeperThan(value, maxDepth)) {
    return fail(ErrorCode.NestingTooDeep, `frame nests arrays and objects more than ${maxDepth} levels deep (the frame object is level 1)`, ref);
  }
  if (typeof f.type !== 'string') return fail(ErrorCode.UnknownFrameType, 'frame has no "type" string', ref);
  const validate = Object.hasOwn(validators, f.type) ? validators[f.type] : undefined;
  if (!validate) return fail(ErrorCode.UnknownFrameType, `unknown frame type "${truncate(f.type)}"`, ref);
  const problem = validate(f);
  if (problem) return fail(ErrorCode.BadRequest, `${f.type} frame: ${problem}`, ref);
  // Only event and reply frames carry application data, so only theirs may be binary; on
  // other frames `bin` is an unknown field, ignored as the protocol says.
  const carriesData = f.type === 'event' || f.type === 'reply';
  if (attachments || (carriesData && f.bin !== undefined)) {
    const binaryProblem = carriesData ? reviveBinary(f, attachments) : 'only event and reply frames carry binary data';
    if (binaryProblem) return fail(ErrorCode.MalformedBinary, `${f.type} frame: ${binaryProblem}`, ref);
  }
  return { ok: true, frame: f as unknown as Frame };
}

function fail(code: string, message: string, ref?: number): DecodeResult<never> {
  return ref === undefined ? { ok: false, error: { code, message } } : { ok: false, error: { code, message }, ref };
}

function isRef(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isPositive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_LENGTH;
}

function checkNs(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (!isName(v) || v[0] !== '/') return `"ns" must be a string starting with "/" of at most ${MAX_NAME_LENGTH} characters`;
  return undefined;
}

function checkRef(v: unknown, required: boolean): string | undefined {
  if (v === undefined) return required ? '"ref" is required' : undefined;
  return isRef(v) ? undefined : '"ref" must be a non-negative integer';
}

function checkName(field: string, v: unknown): string | undefined {
  return isName(v) ? undefined : `"${field}" must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`;
}

function checkErrorPayload(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const e = v as FrameObject;
  if (typeof v !== 'object' || v === null || typeof e.code !== 'string' || typeof e.message !== 'string') {
    return '"error" must be an object with string "code" and "message"';
  }
  return undefined;
}

function checkPosition(field: string, v: unknown, required: boolean): string | undefined {
  if (v === undefined) return required ? `"${field}" is required` : undefined;
  const p = v as FrameObject;
  if (typeof v !== 'object' || v === null || typeof p.epoch !== 'string' || !isRef(p.offset)) {
    return `"${field}" must be {"epoch": string, "offset": non-negative integer}`;
  }
  return undefined;
}

const first = (...problems: (string | undefined)[]): string | undefined => problems.find((p) => p !== undefined);

const event: Validator = (f) => first(checkNs(f.ns), checkName('event', f.event), checkRef(f.ref, false));
const clientEvent: Validator = (f) =>
  first(
    event(f),
    f.seq === undefined || (isRef(f.seq) && f.seq > 0 && f.ref !== undefined) ? undefined : '"seq" must be a positive integer, and needs "ref"',
  );
const reply: Validator = (f) => first(checkRef(f.ref, true), checkErrorPayload(f.error));
const empty: Validator = () => undefined;
const disconnect: Validator = (f) => checkNs(f.ns);

const clientValidators: Readonly<Record<string, Validator>> = {
  hello: (f) =>
    first(
      typeof f.v === 'number' && Number.isSafeInteger(f.v) ? undefined : '"v" must be an integer protocol version',
      checkNs(f.ns),
      f.resume === undefined || typeof f.resume === 'string' ? undefined : '"resume" must be a string',
      f.received === undefined || isRef(f.received) ? undefined : '"received" must be a non-negative integer',
      f.binary === undefined || typeof f.binary === 'boolean' ? undefined : '"binary" must be a boolean',
    ),
  ack: (f) => (isRef(f.received) ? undefined : '"received" must be a non-negative integer'),
  connect: (f) => first(checkRef(f.ref, true), f.ns === undefined ? '"ns" is required' : checkNs(f.ns)),
  disconnect,
  join: (f) => first(checkRef(f.ref, true), checkNs(f.ns), checkName('room', f.room), checkPosition('since', f.since, false)),
  leave: (f) => first(checkRef(f.ref, true), checkNs(f.ns), checkName('room', f.room)),
  history: (f) =>
    first(
      checkRef(f.ref, true),
      checkNs(f.ns),
      checkName('room', f.room),
      checkPosition('since', f.since, false),
      f.limit === undefined || (isRef(f.limit) && f.limit >= 1 && f.limit <= MAX_HISTORY_LIMIT)
        ? undefined
        : `"limit" must be an integer from 1 to ${MAX_HISTORY_LIMIT}`,
    ),
  presence: (f) => first(checkRef(f.ref, true), checkNs(f.ns), checkName('room', f.room)),
  event: clientEvent,
  reply,
  ping: empty,
  pong: empty,
};

const serverValidators: Readonly<Record<string, Validator>> = {
  welcome: (f) => {
    const heartbeat = (f.heartbeat ?? {}) as FrameObject;
    const limits = (f.limits ?? {}) as FrameObject;
    return first(
      typeof f.sid === 'string' ? undefined : '"sid" must be a string',
      isPositive(heartbeat.interval) && isPositive(heartbeat.timeout) ? undefined : '"heartbeat" must have positive "interval" and "timeout"',
      isPositive(limits.maxMessageBytes) ? undefined : '"limits.maxMessageBytes" must be a positive number',
      // The other limits (rate, maxQueuedFrames, ...) are advice for pacing: a reader takes a
      // missing, null or malformed one as not announced, and ignores fields it does not know,
      // so a newer server's welcome is never refused for them.
    );
  },
  disconnect,
  event: (f) => first(event(f), checkPosition('position', f.position, false)),
  reply,
  ping: empty,
  pong: empty,
  reauth: (f) => first(checkRef(f.ref, true), checkNs(f.ns)),
  presence: (f) =>
    first(
      checkNs(f.ns),
      checkName('room', f.room),
      f.kind === 'join' || f.kind === 'leave' ? undefined : '"kind" must be "join" or "leave"',
      typeof f.user === 'string' ? undefined : '"user" must be a string',
    ),
  position: (f) => first(checkNs(f.ns), checkName('room', f.room), checkPosition('position', f.position, true)),
  error: (f) =>
    first(
      typeof f.code === 'string' ? undefined : '"code" must be a string',
      typeof f.message === 'string' ? undefined : '"message" must be a string',
      checkNs(f.ns),
    ),
};

/**
 * Every frame type a client may send, and every one a server may send (what the decoders
 * accept). Pure, so that a bundle which uses neither (the browser client) drops them and
 * the validators only they would keep.
 */
export const CLIENT_FRAME_TYPES: readonly string[] = /* @__PURE__ */ Object.keys(clientValidators);
export const SERVER_FRAME_TYPES: readonly string[] = /* @__PURE__ */ Object.keys(serverValidators);

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

/** UTF-8 length of a string without allocating (the SDK checks sizes before sending). */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
