/**
 * Just enough RFC 6455 framing for the doctor to speak to a server over a socket it upgraded
 * itself with node:http: the doctor must see the raw 101 (status, Sec-WebSocket-Accept,
 * subprotocol) and every byte after it, which a WebSocket library hides or turns into an
 * error message. Pure functions and a push parser, no I/O.
 */
import { createHash, randomBytes } from 'node:crypto';

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** One complete message or control frame from the server (fragments already joined). */
export interface ServerFrame {
  opcode: Opcode;
  payload: Buffer;
}

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64. */
export function webSocketKey(): string {
  return randomBytes(16).toString('base64');
}

/** The Sec-WebSocket-Accept a server must answer to `key` (RFC 6455 §4.2.2). */
export function expectedAccept(key: string): string {
  return createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
}

/** A client frame: FIN set, masked as RFC 6455 requires of clients. */
export function clientFrame(opcode: Opcode, payload: Buffer = Buffer.alloc(0), mask: Buffer = randomBytes(4)): Buffer {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + extra + 4);
  header[0] = 0x80 | opcode;
  if (extra === 0) header[1] = 0x80 | length;
  else if (extra === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  mask.copy(header, 2 + extra);
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([header, body]);
}

/** The payload of a close frame: a 2-byte code and a UTF-8 reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}

/** Code and reason of a close frame's payload; 1005 (no status) when it carries none. */
export function readClose(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}

/**
 * Push parser for the server's side of the stream: feed it chunks, get whole frames.
 * Throws on what a server must never send (a masked frame, a length past 2^53).
 */
export class ServerFrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  /** Fragments of a message in progress, and its opcode. */
  private fragments: Buffer[] = [];
  private messageOpcode: Opcode | undefined;

  feed(chunk: Buffer): ServerFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: ServerFrame[] = [];
    for (;;) {
      const frame = this.take();
      if (!frame) return out;
      const { fin, opcode, payload } = frame;
      if (opcode >= Opcode.Close) {
        out.push({ opcode, payload }); // control frames may come between fragments
        continue;
      }
      if (opcode !== Opcode.Continuation) this.messageOpcode = opcode;
      this.fragments.push(payload);
      if (fin && this.messageOpcode !== undefined) {
        out.push({ opcode: this.messageOpcode, payload: Buffer.concat(this.fragments) });
        this.fragments = [];
        this.messageOpcode = undefined;
      }
    }
  }

  private take(): { fin: boolean; opcode: Opcode; payload: Buffer } | undefined {
    const data = this.buffered;
    if (data.length < 2) return undefined;
    const first = data[0] as number;
    const second = data[1] as number;
    if ((second & 0x80) !== 0) throw new Error('the server sent a masked frame (RFC 6455 forbids it)');
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) return undefined;
      length = data.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) return undefined;
      const big = data.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('the server sent a frame longer than 2^53 bytes');
      length = Number(big);
      offset = 10;
    }
    if (data.length < offset + length) return undefined;
    const payload = data.subarray(offset, offset + length);
    this.buffered = data.subarray(offset + length);
    return { fin: (first & 0x80) !== 0, opcode: (first & 0x0f) as Opcode, payload };
  }
}
