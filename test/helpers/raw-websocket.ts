/**
 * A WebSocket client written against RFC 6455 directly: a manual upgrade on a TCP socket,
 * then frames built byte by byte. Tests use it to send what a well-behaved library never
 * would — fragments split anywhere, reserved bits, bad opcodes, unmasked frames, invalid
 * UTF-8, lying length fields — and to see exactly how the server answers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export const Opcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

/** One WebSocket frame as it goes on the wire. Defaults describe a valid client frame. */
export interface WireFrame {
  opcode: number;
  payload?: Uint8Array;
  /** Default true. */
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number (4 = RSV1). Default 0. */
  rsv?: number;
  /** Clients must mask; false sends the payload in the clear (a protocol violation). Default true. */
  mask?: boolean;
  /** Claim this payload length in the header instead of the real one (the payload is still what is given). */
  claimedLength?: bigint;
}

const ZERO_MASK = Buffer.alloc(4);
/** Masking keys come from a pool: a crypto call per frame would cost more than the frame. */
let maskPool = randomBytes(4096);
let maskAt = 0;

function maskKey(): Buffer {
  if (maskAt + 4 > maskPool.length) {
    maskPool = randomBytes(4096);
    maskAt = 0;
  }
  maskAt += 4;
  return maskPool.subarray(maskAt - 4, maskAt);
}

/** Encode one frame. Large payloads get an all-zero mask (valid, and no XOR pass over the bytes). */
export function encodeWireFrame(frame: WireFrame): Buffer {
  const payload = Buffer.from(frame.payload ?? new Uint8Array(0));
  const masked = frame.mask ?? true;
  const length = frame.claimedLength ?? BigInt(payload.length);
  const lengthBytes = length < 126n ? 0 : length < 65536n ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  header[0] = ((frame.fin ?? true) ? 0x80 : 0) | (((frame.rsv ?? 0) & 7) << 4) | (frame.opcode & 0x0f);
  header[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? Number(length) : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(Number(length), 2);
  else if (lengthBytes === 8) header.writeBigUInt64BE(length, 2);
  if (!masked) return Buffer.concat([header, payload]);
  const key = payload.length > 4096 ? ZERO_MASK : maskKey();
  key.copy(header, 2 + lengthBytes);
  if (key !== ZERO_MASK) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[i & 3] as number);
  return Buffer.concat([header, payload]);
}

/** The payload of a close frame: a 2-byte code and a reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return body;
}

/** How the connection ended: the code of the server's close frame, undefined if there was none (the TCP connection just ended). */
export interface RawClose {
  code: number | undefined;
  reason: string;
}

/**
 * One client connection. Answers the server's pings and echoes its close frame, as the
 * RFC asks, so the server can finish its closing handshake and release the connection.
 */
export class RawWebSocket {
  /** Complete text messages from the server, in order. */
  onText: (text: string) => void = () => {};
  readonly closed: Promise<RawClose>;
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private messageOpcode = Opcode.Text as number;
  private closeSent = false;
  private closeFrame: RawClose | undefined;

  private constructor(
    private readonly socket: Socket,
    leftover: Buffer,
  ) {
    socket.setNoDelay(true);
    // Writes after the server has gone fail with EPIPE/ECONNRESET: that is the server's right.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(this.closeFrame ?? { code: undefined, reason: '' })));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    if (leftover.length > 0) this.receive(leftover);
  }

  /** Upgrade a fresh TCP connection on `path`; rejects with the HTTP status line if the server refuses. */
  static open(port: number, path = '/ws', host = '127.0.0.1', headers: Record<string, string> = {}): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      const key = randomBytes(16).toString('base64');
      const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      let head = Buffer.alloc(0);
      const fail = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', fail);
        const response = head.subarray(0, end).toString('latin1');
        const status = response.split('\r\n', 1)[0] ?? '';
        if (!/^HTTP\/1\.1 101 /.test(status)) return fail(new Error(`upgrade refused: ${status}`));
        if (!response.toLowerCase().includes(`sec-websocket-accept: ${expected.toLowerCase()}`)) return fail(new Error('upgrade answered with a wrong Sec-WebSocket-Accept'));
        resolve(new RawWebSocket(socket, head.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.once('error', fail);
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: switchboard.v1\r\n${extra}\r\n`,
      );
    });
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.closeFrame === undefined;
  }

  /** Write bytes as they are (one or several encoded frames, or a piece of one). */
  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Send one JSON text frame. */
  sendJson(value: unknown): void {
    this.write(encodeWireFrame({ opcode: Opcode.Text, payload: Buffer.from(JSON.stringify(value)) }));
  }

  /** Start the closing handshake; resolves when the TCP connection is gone. */
  close(code = 1000): Promise<RawClose> {
    if (!this.closeSent && !this.socket.destroyed) {
      this.closeSent = true;
      this.write(encodeWireFrame({ opcode: Opcode.Close, payload: closePayload(code) }));
    }
    return this.closed;
  }

  /** Drop the TCP connection without a closing handshake (a lost link: the server sees 1006). */
  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = this.nextFrame();
      if (!frame) return;
      this.handle(frame.fin, frame.opcode, frame.payload);
    }
  }

  /** Server frames are never masked; their lengths are trusted (this is the test's side). */
  private nextFrame(): { fin: boolean; opcode: number; payload: Buffer } | undefined {
    const b = this.buffer;
    if (b.length < 2) return undefined;
    let length = (b[1] as number) & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) return undefined;
    const payload = b.subarray(offset, offset + length);
    this.buffer = b.subarray(offset + length);
    return { fin: ((b[0] as number) & 0x80) !== 0, opcode: (b[0] as number) & 0x0f, payload };
  }

  private handle(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      this.write(encodeWireFrame({ opcode: Opcode.Pong, payload }));
      return;
    }
    if (opcode === Opcode.Close) {
      this.closeFrame = {
        // A close frame without a code reads as 1005 ("no status"), as browsers report it.
        code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
        reason: payload.subarray(2).toString(),
      };
      if (!this.closeSent) {
        this.closeSent = true;
        this.write(encodeWireFrame({ opcode: Opcode.Close, payload: payload.subarray(0, 2) }));
      }
      this.socket.end();
      return;
    }
    if (opcode === Opcode.Pong) return;
    if (opcode !== Opcode.Continuation) this.messageOpcode = opcode;
    this.fragments.push(payload);
    if (!fin) return;
    const message = Buffer.concat(this.fragments);
    this.fragments = [];
    if (this.messageOpcode === Opcode.Text) this.onText(message.toString());
  }
}
