/**
 * Server-to-client WebSocket frames built by hand (RFC 6455 §5.2). A server frame is
 * never masked, so the same bytes are valid on every connection: a broadcast is framed
 * once and written to each socket as is. Only what Switchboard sends is built here:
 * single-frame (FIN) text and binary messages without extensions.
 */

/** FIN + opcode 1 (text). */
const FIN_TEXT = 0x81;
/** FIN + opcode 2 (binary). */
const FIN_BINARY = 0x82;

/** Bytes of the header of an unmasked frame carrying `length` bytes of payload. */
export function frameHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 0x1_0000 ? 4 : 10;
}

/** Bytes of the header of a frame built here, read from its second byte (the length code). */
export function headerLengthOf(frame: Buffer): number {
  const code = frame[1] as number;
  return code < 126 ? 2 : code === 126 ? 4 : 10;
}

/** Write the header of a final, unmasked text frame of `length` bytes at the start of `target`. */
export function writeTextFrameHeader(target: Buffer, length: number): void {
  writeFrameHeader(target, FIN_TEXT, length);
}

function writeFrameHeader(target: Buffer, first: number, length: number): void {
  target[0] = first;
  if (length < 126) {
    target[1] = length;
  } else if (length < 0x1_0000) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
  } else {
    // 64-bit length; JavaScript lengths stay below 2^53, so the high word is small.
    target[1] = 127;
    target.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    target.writeUInt32BE(length >>> 0, 6);
  }
}

/** A complete text frame: header and the UTF-8 of `text` in one buffer (one allocation, one write). */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const head = frameHeaderLength(length);
  const frame = Buffer.allocUnsafe(head + length);
  writeTextFrameHeader(frame, length);
  frame.write(text, head);
  return frame;
}

/** A complete binary frame (opcode 2) carrying `bytes`: header and a copy of the bytes in one buffer. */
export function binaryFrame(bytes: Uint8Array): Buffer {
  const head = frameHeaderLength(bytes.length);
  const frame = Buffer.allocUnsafe(head + bytes.length);
  writeFrameHeader(frame, FIN_BINARY, bytes.length);
  frame.set(bytes, head);
  return frame;
}
