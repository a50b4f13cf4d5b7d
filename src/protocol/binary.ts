/**
 * Binary data in frames (docs/PROTOCOL.md, "Binary data"). A frame whose `data` holds
 * binary values travels in one of two forms, told apart by the transport's message kind:
 *
 * - **binary message** (WebSocket only): `u32 H`, H bytes of UTF-8 JSON (the frame, each
 *   binary value replaced by the marker `{"$bin": i}`, and `"bin": n`), then n attachments,
 *   each `u32 L` and L bytes. Integers are big-endian. No base64.
 * - **text form** (every transport): the frame as JSON, each binary value replaced by the
 *   marker `{"$bin": "<base64>"}`, and `"bin": n`.
 *
 * Markers are looked for only in `data`, and only when the frame has `bin`: a frame without
 * it is plain JSON whatever its objects look like. The server keeps, stores and relays the
 * text form (one string, like any frame) and makes the binary message once per broadcast.
 * Pure: no Buffer, no `node:` imports, so the browser client uses it too.
 */

/** The key of a binary marker: an object with this one member stands for a binary value. */
export const BINARY_MARKER = '$bin';

/** What the SDK and the server accept as binary data; it always arrives as a `Uint8Array`. */
export type BinaryData = ArrayBuffer | ArrayBufferView;

/** Deeper than any frame JSON could encode anyway; stops the walk on a cyclic value (JSON.stringify then reports the cycle). */
const MAX_WALK_DEPTH = 1000;

export function isBinary(value: unknown): value is BinaryData {
  return typeof value === 'object' && value !== null && (ArrayBuffer.isView(value) || value instanceof ArrayBuffer);
}

/**
 * A Blob (or File) cannot be sent: its bytes can only be read asynchronously, and JSON
 * would turn it into `{}` without a word. Encoding a frame holding one throws.
 */
function isBlob(value: object): boolean {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

function refuseBlob(): never {
  throw new TypeError('a Blob cannot be sent: read it first (await blob.arrayBuffer()) and send the ArrayBuffer or a Uint8Array');
}

/** The bytes of a binary value, as a view (no copy). */
export function bytesOf(value: BinaryData): Uint8Array {
  return value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Whether an application value holds binary data anywhere. Stops at the first; a value
 * without objects is answered at once, so plain data pays one `typeof`.
 */
export function hasBinary(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // A Blob takes the binary path too, whose encoders refuse it.
  if (isBinary(value) || isBlob(value)) return true;
  if (depth > MAX_WALK_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasBinary(value[i], depth + 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) if (hasBinary(record[key], depth + 1)) return true;
  return false;
}

/** `,"bin":n` before the closing brace of an encoded frame (an object: it ends with `}`). */
function withCount(json: string, count: number): string {
  return `${json.slice(0, -1)},"bin":${count}}`;
}

/**
 * The text form of a frame whose data holds binary values. The replacer reads the holder's
 * own value: JSON.stringify would otherwise hand it a Buffer's `toJSON()` result.
 */
export function encodeTextForm(frame: object): string {
  let count = 0;
  const json = JSON.stringify(frame, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (!isBinary(raw)) return typeof raw === 'object' && raw !== null && isBlob(raw) ? refuseBlob() : value;
    count++;
    return { [BINARY_MARKER]: toBase64(bytesOf(raw)) };
  });
  return withCount(json, count);
}

const utf8 = /* @__PURE__ */ new TextEncoder();

/** The binary message of a frame whose data holds binary values (the WebSocket form). */
export function encodeBinaryMessage(frame: object): Uint8Array {
  const attachments: Uint8Array[] = [];
  const json = JSON.stringify(frame, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (!isBinary(raw)) return typeof raw === 'object' && raw !== null && isBlob(raw) ? refuseBlob() : value;
    attachments.push(bytesOf(raw));
    return { [BINARY_MARKER]: attachments.length - 1 };
  });
  const header = utf8.encode(withCount(json, attachments.length));
  let length = 4 + header.length;
  for (const a of attachments) length += 4 + a.length;
  const message = new Uint8Array(length);
  const view = new DataView(message.buffer);
  view.setUint32(0, header.length);
  message.set(header, 4);
  let at = 4 + header.length;
  for (const a of attachments) {
    view.setUint32(at, a.length);
    message.set(a, at + 4);
    at += 4 + a.length;
  }
  return message;
}

/** A binary message taken apart: the JSON header (not yet parsed) and the attachments (copies). */
export interface BinaryMessageParts {
  header: string;
  attachments: Uint8Array[];
}

const utf8Strict = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true });

/** Take a binary message apart; a string says what is wrong with its layout. */
export function splitBinaryMessage(message: Uint8Array): BinaryMessageParts | string {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (message.length < 4) return 'a binary message starts with a 4-byte header length';
  const headerLength = view.getUint32(0);
  if (4 + headerLength > message.length) return `the header length (${headerLength}) runs past the end of the message (${message.length} bytes)`;
  let header: string;
  try {
    header = utf8Strict.decode(message.subarray(4, 4 + headerLength));
  } catch {
    return 'the header is not valid UTF-8';
  }
  const attachments: Uint8Array[] = [];
  let at = 4 + headerLength;
  while (at < message.length) {
    if (at + 4 > message.length) return `attachment ${attachments.length} has no 4-byte length`;
    const length = view.getUint32(at);
    if (at + 4 + length > message.length) return `attachment ${attachments.length} (${length} bytes) runs past the end of the message`;
    // A copy, and a plain Uint8Array: a view would keep the whole receive buffer alive as long as
    // the application keeps the data (and a Node Buffer's slice() is such a view).
    attachments.push(new Uint8Array(message.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return { header, attachments };
}

/**
 * Put the binary values of a parsed frame in place of its markers, in place. Without
 * `attachments` the markers carry base64 (the text form); with them, indexes into them
 * (a binary message). Returns what is wrong, or undefined. A frame without `bin` is left
 * as it is, unless attachments came with it.
 */
export function reviveBinary(frame: Record<string, unknown>, attachments?: readonly Uint8Array[]): string | undefined {
  const count = frame.bin;
  if (count === undefined) return attachments && attachments.length > 0 ? 'a binary message needs "bin", the number of its attachments' : undefined;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) return '"bin" must be a positive integer';
  if (attachments && attachments.length !== count) return `"bin" is ${count} but the message has ${attachments.length} attachments`;
  if (!('data' in frame)) return '"bin" given but the frame has no "data"';
  const used = attachments ? new Array<boolean>(count).fill(false) : undefined;
  let found = 0;
  let problem: string | undefined;
  const revive = (marker: unknown): Uint8Array | undefined => {
    const value = (marker as Record<string, unknown>)[BINARY_MARKER];
    if (used && attachments) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= count || used[value]) {
        problem = `a "${BINARY_MARKER}" marker must be an unused attachment index from 0 to ${count - 1}`;
        return undefined;
      }
      used[value] = true;
      return attachments[value];
    }
    const bytes = typeof value === 'string' ? fromBase64(value) : undefined;
    if (!bytes) problem = `a "${BINARY_MARKER}" marker must hold base64 (RFC 4648, with padding)`;
    return bytes;
  };
  // Iterative: a server frame's data may nest deeper than the stack.
  const pending: [Record<string, unknown> | unknown[], string | number][] = [[frame, 'data']];
  while (pending.length > 0 && problem === undefined) {
    const [holder, key] = pending.pop() as [Record<string, unknown>, string];
    const node = holder[key];
    if (typeof node !== 'object' || node === null) continue;
    if (isMarker(node)) {
      if (++found > count) return `the frame holds more markers than "bin" (${count})`;
      const bytes = revive(node);
      if (bytes) holder[key] = bytes;
      continue;
    }
    if (Array.isArray(node)) for (let i = 0; i < node.length; i++) pending.push([node, i]);
    else for (const k in node) pending.push([node as Record<string, unknown>, k]);
  }
  if (problem !== undefined) return problem;
  if (found !== count) return `"bin" is ${count} but the frame holds ${found} markers`;
  delete frame.bin;
  return undefined;
}

function isMarker(node: object): boolean {
  if (Array.isArray(node) || !Object.hasOwn(node, BINARY_MARKER)) return false;
  for (const key in node) if (key !== BINARY_MARKER) return false;
  return true;
}

/** Whether an encoded frame may be in the text form (false for every frame without binary data). */
export function mayCarryBinary(text: string): boolean {
  return text.includes(`{"${BINARY_MARKER}":"`);
}

/**
 * The binary message of a frame in the text form (made once per broadcast, for the
 * recipients that take binary messages); undefined when the frame carries no binary data.
 */
export function textFormToBinaryMessage(text: string): Uint8Array | undefined {
  if (!mayCarryBinary(text)) return undefined;
  const frame = JSON.parse(text) as Record<string, unknown>;
  if (frame.bin === undefined || reviveBinary(frame) !== undefined) return undefined;
  return encodeBinaryMessage(frame);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = /* @__PURE__ */ (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += `${ALPHABET[n >>> 18]}${ALPHABET[(n >>> 12) & 63]}${ALPHABET[(n >>> 6) & 63]}${ALPHABET[n & 63]}`;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += `${ALPHABET[n >>> 18]}${ALPHABET[(n >>> 12) & 63]}==`;
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += `${ALPHABET[n >>> 18]}${ALPHABET[(n >>> 12) & 63]}${ALPHABET[(n >>> 6) & 63]}=`;
  }
  return out;
}

/** Strict standard base64 with padding; undefined for anything else (other alphabets, whitespace, bad padding). */
export function fromBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let at = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      const last = i + 4 === text.length;
      if (c === 61 /* = */ && last && j >= 4 - padding) {
        n <<= 6;
        continue;
      }
      const v = c < 128 ? (DECODE[c] as number) : -1;
      if (v < 0) return undefined;
      n = (n << 6) | v;
    }
    bytes[at++] = n >>> 16;
    if (at < bytes.length) bytes[at++] = (n >>> 8) & 255;
    if (at < bytes.length) bytes[at++] = n & 255;
  }
  return bytes;
}
