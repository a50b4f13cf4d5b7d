import type { Socket } from 'node:net';

/**
 * An unmasked server frame (RFC 6455) built once: header and UTF-8 payload in one buffer,
 * shared by every recipient.
 */
export function serverFrame(payload: string | Buffer, opcode = 0x1): Buffer {
  const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const head = len < 126 ? 2 : len < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + len);
  frame[0] = 0x80 | opcode;
  if (head === 2) frame[1] = len;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  if (typeof payload === 'string') frame.write(payload, head);
  else payload.copy(frame, head);
  return frame;
}

const kQueue = Symbol('bench.queue');
type QueuedSocket = Socket & { [kQueue]?: Buffer[] };

/**
 * Cork by hand: every frame bound for a socket during one event-loop turn is queued on
 * the socket, and one `setImmediate` callback writes each socket's frames in a single
 * `write` — one syscall per socket per turn however many messages the turn produced.
 * The queue array stays on the socket and is reused, so a turn allocates one buffer
 * per socket (the concatenation), nothing per frame.
 */
export class Coalescer {
  private readonly dirty: QueuedSocket[] = [];
  private scheduled = false;
  private readonly flushBound = (): void => this.flush();

  add(socket: Socket, frame: Buffer): void {
    const s = socket as QueuedSocket;
    let q = s[kQueue];
    if (q === undefined) s[kQueue] = q = [];
    if (q.length === 0) {
      this.dirty.push(s);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushBound);
      }
    }
    q.push(frame);
  }

  private flush(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const s = dirty[i] as QueuedSocket;
      const q = s[kQueue] as Buffer[];
      if (!s.destroyed) s.write(q.length === 1 ? (q[0] as Buffer) : Buffer.concat(q));
      q.length = 0;
    }
    dirty.length = 0;
  }
}
