import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { FrameParser, Opcode, type FrameSink } from './frame-parser.js';
import { maskedFrame, textFrame } from './frame-writer.js';

/** Where and how to open the WebSocket: the server's port, the HTTP path and subprotocol. */
export interface Target {
  host: string;
  port: number;
  path: string;
  subprotocol?: string;
  /** Source address (127.9.0.x) so that many connections do not run out of ephemeral ports. */
  localAddress?: string;
}

/** Counts shared by every connection of a scenario, so reading a total costs nothing. */
export class Tally {
  /** Data frames counted (not decoded) since the last reset. */
  frames = 0;
  /** [arrival µs, latency µs] of stamped frames seen by probe connections. */
  stamps: number[] = [];
}

/** Frames no larger than this are decoded even when counting: they are heartbeats (`{"type":"ping"}`, Engine.IO `2`), never a bench message. */
export const CONTROL_MAX_BYTES = 32;

/** What a dialect does with the decoded text frames of a connection. */
export interface TextHandler {
  /** Return true when the frame was protocol housekeeping (a heartbeat), not a delivery. */
  onText(conn: LoadConnection, text: string): boolean;
}

const INBOX_MAX = 64;

/** Every socket reads into this one buffer: its callback parses each chunk before the next read. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** Any 16 bytes in base64 will do; one key for all keeps the load generator's cost per connection down (the accept hash is not checked). */
const UPGRADE_KEY = randomBytes(16).toString('base64');

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
const STAMP = Buffer.from('"t":');

/**
 * A raw TCP connection that speaks just enough WebSocket for the bench: a hand-made
 * upgrade, then a header-only frame parser. While `decodeAll` is on (the handshake and
 * setup), every text frame is decoded and handed to the dialect; after that frames are
 * only counted, except small ones (heartbeats) and, on probe connections, the send stamp.
 */
export class LoadConnection implements FrameSink {
  readonly socket: Socket;
  decodeAll = true;
  probe = false;
  /** Text frames received since the WebSocket opened (Switchboard's `received` counts the same, minus welcome). */
  received = 0;
  /** For dialects that acknowledge (Switchboard's `ack`): received count last acknowledged. */
  acked = 0;
  /** …and how many frames may arrive between two acks (set from the welcome). */
  ackEvery = Infinity;
  /** The dialect's per-connection state. */
  state: Record<string, unknown> = {};
  private readonly parser = new FrameParser(this);
  private httpHead: Buffer | undefined = Buffer.alloc(0);
  /** Decoded frames nobody waited for yet (during setup), for a later `next`. */
  private inbox: string[] = [];
  /** A scenario's own reader of decoded frames (request/ack replies); true when it took the frame. */
  listener: ((text: string) => boolean) | undefined;
  private waiters: { match: (text: string) => boolean; resolve: (text: string) => void; reject: (err: Error) => void }[] = [];
  private opened!: { resolve: () => void; reject: (err: Error) => void };
  readonly open: Promise<void>;
  closed = false;
  private onCountHook: ((conn: LoadConnection) => void) | undefined;

  constructor(
    target: Target,
    private readonly tally: Tally,
    readonly handler: TextHandler,
  ) {
    this.open = new Promise((resolve, reject) => (this.opened = { resolve, reject }));
    this.open.catch(() => {});
    this.socket = connect({
      host: target.host,
      port: target.port,
      localAddress: target.localAddress,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Buffer): boolean => {
          this.onBytes(buf, n);
          return true;
        },
      },
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      this.closed = true;
      this.fail(new Error('connection closed'));
    });
    const protocol = target.subprotocol ? `Sec-WebSocket-Protocol: ${target.subprotocol}\r\n` : '';
    this.socket.write(
      `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${UPGRADE_KEY}\r\nSec-WebSocket-Version: 13\r\n${protocol}\r\n`,
    );
  }

  /** Called after every counted frame (Switchboard acknowledges every 100). */
  onCount(hook: (conn: LoadConnection) => void): void {
    this.onCountHook = hook;
  }

  sendText(text: string): void {
    if (!this.closed) this.socket.write(textFrame(text));
  }

  /** The next decoded text frame that `match` accepts (only while `decodeAll` is on, or for small frames). */
  next(match: (text: string) => boolean = () => true): Promise<string> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as string);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.fail(new Error('connection closed'));
  }

  // --- FrameSink ----------------------------------------------------------------------

  wantPayload(opcode: number, length: number): boolean {
    if (opcode >= Opcode.Close) return true;
    return this.decodeAll || this.probe || length <= CONTROL_MAX_BYTES;
  }

  onFrame(opcode: number, fin: boolean, payload: Buffer | undefined, length: number): void {
    if (opcode >= Opcode.Close) {
      if (opcode === Opcode.Ping) this.socket.write(maskedFrame(Opcode.Pong, payload ?? Buffer.alloc(0)));
      else if (opcode === Opcode.Close) this.close();
      return;
    }
    if (!fin) return;
    this.received++;
    if (payload === undefined) {
      this.tally.frames++;
      this.onCountHook?.(this);
      return;
    }
    if (this.probe && length > CONTROL_MAX_BYTES && !this.decodeAll) {
      this.recordStamp(payload);
      this.tally.frames++;
      this.onCountHook?.(this);
      return;
    }
    const text = payload.toString('utf8');
    if (this.handler.onText(this, text)) return;
    if (this.listener?.(text)) return;
    const i = this.waiters.findIndex((w) => w.match(text));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w?.resolve(text);
    } else if (this.decodeAll) {
      if (this.inbox.length < INBOX_MAX) this.inbox.push(text);
    } else {
      this.tally.frames++;
      this.onCountHook?.(this);
    }
  }

  private recordStamp(payload: Buffer): void {
    const at = payload.indexOf(STAMP);
    if (at < 0) return;
    let t = 0;
    for (let k = at + STAMP.length; k < payload.length; k++) {
      const c = payload[k] as number;
      if (c < 48 || c > 57) break;
      t = t * 10 + (c - 48);
    }
    const now = monotonicUs();
    this.tally.stamps.push(now, now - t);
  }

  // --- bytes --------------------------------------------------------------------------

  private onBytes(buf: Buffer, n: number): void {
    if (this.httpHead === undefined) {
      this.parser.push(buf, 0, n);
      return;
    }
    const head = Buffer.concat([this.httpHead, buf.subarray(0, n)]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      this.httpHead = head;
      return;
    }
    this.httpHead = undefined;
    const status = head.toString('latin1', 0, head.indexOf('\r\n'));
    if (!/^HTTP\/1\.1 101/.test(status)) {
      this.fail(new Error(`upgrade refused: ${status}`));
      this.close();
      return;
    }
    this.opened.resolve();
    if (end + 4 < head.length) this.parser.push(head, end + 4, head.length);
  }

  private fail(err: Error): void {
    this.opened.reject(err);
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
