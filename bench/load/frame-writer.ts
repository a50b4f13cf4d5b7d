import { randomFillSync } from 'node:crypto';
import { Opcode } from './frame-parser.js';

/**
 * A client frame (RFC 6455 §5.3: masked). One random mask per call; the bench sends few
 * frames from the client side, so this is not on any hot path.
 */
export function maskedFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = data.length;
  const extra = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + extra + 4 + len);
  frame[0] = 0x80 | opcode;
  if (extra === 0) frame[1] = 0x80 | len;
  else if (extra === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  const maskAt = 2 + extra;
  randomFillSync(frame, maskAt, 4);
  for (let k = 0; k < len; k++) frame[maskAt + 4 + k] = (data[k] as number) ^ (frame[maskAt + (k & 3)] as number);
  return frame;
}

export const textFrame = (text: string): Buffer => maskedFrame(Opcode.Text, text);
