/**
 * An upgraded connection the doctor talks over, behaving as the SDK does on the wire:
 * it answers WebSocket pings with pongs and `{"type":"ping"}` frames with `{"type":"pong"}`
 * (so a server's heartbeat sees a live client), and otherwise stays silent.
 */
import type { Duplex } from 'node:stream';
import { Opcode, ServerFrameReader, clientFrame, closePayload, readClose } from './ws-frames.js';

/** A JSON frame from the server (only `type` is looked at by the doctor). */
export type ServerJson = { type?: unknown } & Record<string, unknown>;

/** How the connection ended: a close frame's code and reason, or the socket ending without one (1006). */
export interface LinkEnd {
  code: number;
  reason: string;
  /** Whether the server sent a close frame (false: the TCP connection just ended). */
  closeFrame: boolean;
  /** When it ended, and when the last bytes from the server came before that (Date.now()). */
  at: number;
  lastServerBytesAt: number;
}

export class WsLink {
  private readonly reader = new ServerFrameReader();
  private readonly frames: ServerJson[] = [];
  private waiter: (() => void) | undefined;
  private endInfo: LinkEnd | undefined;
  private closeSent = false;
  lastServerBytesAt = Date.now();
  /** Heartbeat pings the server sent (JSON and WebSocket control frames). */
  pingsAnswered = 0;

  constructor(private readonly socket: Duplex, head: Buffer) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.ended(1006, '', false));
    socket.on('close', () => this.ended(1006, '', false));
    socket.on('end', () => this.ended(1006, '', false));
    if (head.length > 0) this.receive(head);
  }

  get end(): LinkEnd | undefined {
    return this.endInfo;
  }

  send(frame: object): void {
    if (this.endInfo || this.closeSent) return;
    this.socket.write(clientFrame(Opcode.Text, Buffer.from(JSON.stringify(frame), 'utf8')));
  }

  /** The next JSON frame the server sends, or how the connection ended; undefined after `ms`. */
  async next(ms: number): Promise<ServerJson | LinkEnd | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.endInfo) return this.endInfo;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Resolves with how the connection ended, or undefined if it is still open after `ms`. */
  async endWithin(ms: number): Promise<LinkEnd | undefined> {
    const deadline = Date.now() + ms;
    while (!this.endInfo && Date.now() < deadline) {
      this.frames.length = 0;
      await this.next(deadline - Date.now());
    }
    return this.endInfo;
  }

  /** Close with `code` (1000 ends the session on the server) and drop the socket. */
  close(code = 1000): void {
    if (!this.endInfo && !this.closeSent) {
      this.closeSent = true;
      this.socket.write(clientFrame(Opcode.Close, closePayload(code)));
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 200).unref();
  }

  private receive(chunk: Buffer): void {
    this.lastServerBytesAt = Date.now();
    let frames;
    try {
      frames = this.reader.feed(chunk);
    } catch (error) {
      this.ended(1002, (error as Error).message, false);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.opcode === Opcode.Ping) {
        this.pingsAnswered++;
        this.socket.write(clientFrame(Opcode.Pong, frame.payload));
      } else if (frame.opcode === Opcode.Close) {
        const { code, reason } = readClose(frame.payload);
        this.ended(code, reason, true);
        if (!this.closeSent) this.socket.write(clientFrame(Opcode.Close, frame.payload.subarray(0, 2)));
        this.closeSent = true;
        this.socket.end();
      } else if (frame.opcode === Opcode.Text) {
        let json: ServerJson;
        try {
          json = JSON.parse(frame.payload.toString('utf8')) as ServerJson;
        } catch {
          json = { type: '(not JSON)', text: frame.payload.toString('utf8').slice(0, 200) };
        }
        if (json.type === 'ping') {
          this.pingsAnswered++;
          this.send({ type: 'pong' });
        }
        this.frames.push(json);
      }
    }
    this.waiter?.();
  }

  private ended(code: number, reason: string, closeFrame: boolean): void {
    if (!this.endInfo) this.endInfo = { code, reason, closeFrame, at: Date.now(), lastServerBytesAt: this.lastServerBytesAt };
    this.waiter?.();
  }
}

/** Whether `next()` gave the end of the connection rather than a frame. */
export function isEnd(value: ServerJson | LinkEnd | undefined): value is LinkEnd {
  return value !== undefined && 'closeFrame' in value && 'at' in value;
}
