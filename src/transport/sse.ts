import type { ServerResponse } from 'node:http';
import { sseEvent, sseMessages } from './http-frames.js';
import { DROPPED, HttpTransport, type HttpConnectionHost } from './http-transport.js';
import type { SharedFrame } from './shared-frame.js';
import type { TransportRequestInfo } from './transport.js';
import { writeCoalescer } from './write-coalescer.js';

/** Frames queued within a turn are written at once when they reach this many bytes (as on a WebSocket). */
const EARLY_WRITE_BYTES = 16 * 1024;

/**
 * Server-Sent Events down, POSTs up: the response of the `GET sse` that opened the
 * connection stays open and carries every frame as one `data:` event, written once per
 * turn. The client ending that response is a dropped connection (1006).
 */
export class SseTransport extends HttpTransport {
  /** Frames sent this turn and not yet written. */
  private queued: Buffer[] | undefined;
  private queuedBytes = 0;

  constructor(
    cid: string,
    info: TransportRequestInfo,
    host: HttpConnectionHost,
    private readonly res: ServerResponse,
  ) {
    super(cid, info, host);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // nginx buffers proxied responses unless told not to: events would sit there.
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write(sseEvent('open', { cid }));
    res.on('close', () => this.dropped());
    res.on('error', ignore);
  }

  /** What the socket has not handed to the network yet, plus what waits for this turn's write. */
  get kind(): 'sse' {
    return 'sse';
  }

  get bufferedAmount(): number {
    return this.res.writableLength + this.queuedBytes;
  }

  send(frame: string | SharedFrame): void {
    if (!this.isOpen) return;
    const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame.payload;
    if (this.queued === undefined) {
      this.queued = [bytes];
      writeCoalescer.mark(this);
    } else this.queued.push(bytes);
    this.queuedBytes += bytes.length;
    if (this.queuedBytes >= EARLY_WRITE_BYTES) this.flush();
  }

  flush(): void {
    const queued = this.queued;
    if (queued === undefined) return;
    this.queued = undefined;
    this.queuedBytes = 0;
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(sseMessages(queued));
  }

  close(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.flush();
    this.end(code, reason);
  }

  closedByClient(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.dropQueue();
    this.end(code, reason);
  }

  terminate(): void {
    this.dropQueue();
    this.res.destroy();
    this.ended(DROPPED, 'terminated');
    this.host.forget(this);
  }

  /** The last event says how the connection closed, and the response ends. */
  private end(code: number, reason: string): void {
    this.ended(code, reason);
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end(sseEvent('close', { code, reason }));
    this.host.forget(this);
  }

  /** The response closed: the client went away, or the server ended it. */
  private dropped(): void {
    this.dropQueue();
    this.ended(DROPPED, '');
    this.host.forget(this);
  }

  private dropQueue(): void {
    this.queued = undefined;
    this.queuedBytes = 0;
  }
}

function ignore(): void {}
