/**
 * A streaming parser of WebSocket frames (RFC 6455) as a server sends them. It reads
 * headers only: a frame whose payload the sink does not want is skipped without a copy,
 * so counting broadcast deliveries costs a few byte reads per frame. Chunks may be
 * reused by the caller after `push` returns (the load generator reads every socket into
 * one shared buffer), so whatever must outlive a chunk is copied.
 */

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export interface FrameSink {
  /** Whether `onFrame` needs the payload of this frame; when false it gets `undefined`. */
  wantPayload(opcode: number, length: number): boolean;
  /** One complete frame. `fin` is false for all but the last frame of a fragmented message. */
  onFrame(opcode: number, fin: boolean, payload: Buffer | undefined, length: number): void;
}

const MAX_HEADER = 14;

export class FrameParser {
  /** Bytes of a header split across chunks. */
  private readonly header = Buffer.alloc(MAX_HEADER);
  private headerHave = 0;
  /** The frame whose payload is being read (-1: reading a header). */
  private opcode = -1;
  private fin = false;
  private length = 0;
  private remaining = 0;
  private mask: Buffer | undefined;
  private payload: Buffer | undefined;
  private payloadHave = 0;

  constructor(private readonly sink: FrameSink) {}

  /** Parse `chunk[start, end)`. */
  push(chunk: Buffer, start = 0, end = chunk.length): void {
    let i = start;
    while (i < end) {
      if (this.opcode < 0) {
        const used = this.headerHave === 0 ? this.readHeader(chunk, i, end) : this.continueHeader(chunk, i, end);
        if (used === 0) return;
        i += used;
        if (this.opcode >= 0 && this.remaining === 0) this.finishFrame();
        continue;
      }
      const take = Math.min(this.remaining, end - i);
      if (this.payload) {
        chunk.copy(this.payload, this.payloadHave, i, i + take);
        this.payloadHave += take;
      }
      this.remaining -= take;
      i += take;
      if (this.remaining === 0) this.finishFrame();
    }
  }

  /**
   * A header starting at `chunk[i]`. Returns the bytes it used; when the chunk ends
   * inside the header, keeps those bytes and returns all that was left.
   */
  private readHeader(chunk: Buffer, i: number, end: number): number {
    const available = end - i;
    if (available < 2) return this.stash(chunk, i, end);
    const size = headerSize(chunk[i + 1] as number);
    if (available < size) return this.stash(chunk, i, end);
    this.parseHeader(chunk, i);
    return size;
  }

  /** The rest of a header whose first bytes came with an earlier chunk. */
  private continueHeader(chunk: Buffer, i: number, end: number): number {
    let used = 0;
    for (;;) {
      const need = this.headerHave < 2 ? 2 : headerSize(this.header[1] as number);
      if (this.headerHave === need) break;
      const take = Math.min(need - this.headerHave, end - i - used);
      if (take === 0) return used;
      chunk.copy(this.header, this.headerHave, i + used, i + used + take);
      this.headerHave += take;
      used += take;
    }
    this.headerHave = 0;
    this.parseHeader(this.header, 0);
    return used;
  }

  private stash(chunk: Buffer, i: number, end: number): number {
    chunk.copy(this.header, 0, i, end);
    this.headerHave = end - i;
    return end - i;
  }

  private parseHeader(b: Buffer, at: number): void {
    const b0 = b[at] as number;
    const b1 = b[at + 1] as number;
    let length = b1 & 0x7f;
    let next = at + 2;
    if (length === 126) {
      length = b.readUInt16BE(next);
      next += 2;
    } else if (length === 127) {
      length = b.readUInt32BE(next) * 0x1_0000_0000 + b.readUInt32BE(next + 4);
      next += 8;
    }
    this.mask = b1 & 0x80 ? Buffer.from(b.subarray(next, next + 4)) : undefined;
    this.opcode = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.length = length;
    this.remaining = length;
    this.payload = this.sink.wantPayload(this.opcode, length) ? Buffer.allocUnsafe(length) : undefined;
    this.payloadHave = 0;
  }

  private finishFrame(): void {
    const { opcode, fin, length, mask } = this;
    const payload = this.payload;
    if (payload && mask) for (let k = 0; k < payload.length; k++) payload[k] = (payload[k] as number) ^ (mask[k & 3] as number);
    this.opcode = -1;
    this.payload = undefined;
    this.mask = undefined;
    this.sink.onFrame(opcode, fin, payload, length);
  }
}

/** Size of a frame header from its second byte: 2, plus 2 or 8 for the extended length, plus 4 for a mask. */
export function headerSize(b1: number): number {
  const len = b1 & 0x7f;
  return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}
