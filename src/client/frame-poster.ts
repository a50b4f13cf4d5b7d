import { CloseCode } from '../protocol/close-codes.js';
import { utf8ByteLength } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { TransportClosed } from './client-transport.js';
import { describeAnswer, errorText, type HttpEndpoint, POST_HEADERS, REQUEST_DEFAULTS, refusalOf } from './http-endpoint.js';

/** Before the welcome announces the server's limit, only the hello goes out: alone, whatever this says. */
const DEFAULT_BATCH_BYTES = 64 * 1024;

/**
 * The client → server half of an HTTP connection: frames go to `{path}/send?cid=…` as
 * POSTs, one in flight at a time so the server takes them in order. Frames sent while a
 * POST is out, or in the same turn, go together in the next one (a JSON array of at most
 * `maxBytes()` bytes; a bigger frame goes alone and the server refuses it as a WebSocket would).
 */
export class FramePoster {
  private queue: string[] = [];
  private posting = false;
  private scheduled = false;
  private holding = false;
  private stopped = false;
  /** Set by close(): the close request follows the frames still queued. */
  private closing: { code: number; reason: string; done: () => void } | undefined;
  private idle: (() => void)[] = [];
  private readonly aborter = new AbortController();

  constructor(
    private readonly endpoint: HttpEndpoint,
    private readonly cid: string,
    private readonly maxBytes: () => number | undefined,
    /** A POST failed: the connection is lost (or closed with 1009 for a frame over the limit). */
    private readonly failed: (closed: TransportClosed) => void,
  ) {}

  send(text: string): void {
    this.queue.push(text);
    if (this.scheduled || this.posting || this.holding) return;
    // The frames of this turn go together.
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Stop posting; resolves once the POST in flight (if any) has been taken in. */
  hold(): Promise<void> {
    this.holding = true;
    if (!this.posting) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  release(): void {
    this.holding = false;
    this.flush();
  }

  takeHeld(): string[] {
    return this.queue.splice(0);
  }

  /** Post what is queued, then ask the server to close with `code`. Resolves when that is done (or failed). */
  close(code: number, reason: string): Promise<void> {
    if (this.stopped || this.closing) return Promise.resolve();
    this.holding = false;
    return new Promise((resolve) => {
      this.closing = { code, reason, done: resolve };
      this.flush();
    });
  }

  /** Drop everything, in flight included, and post nothing more. */
  abandon(): void {
    this.stop();
    this.aborter.abort();
  }

  private stop(): void {
    this.stopped = true;
    this.queue = [];
    this.closing?.done();
    this.closing = undefined;
  }

  private flush(): void {
    if (this.posting || this.holding || this.stopped) return;
    if (this.queue.length > 0) {
      void this.post(this.takeBatch());
      return;
    }
    const closing = this.closing;
    if (!closing) return;
    this.stopped = true;
    this.closing = undefined;
    void this.request('close', JSON.stringify({ code: closing.code, reason: closing.reason }), true)
      .catch(() => {
        // The connection is gone either way; the server forgets it or lets the session expire.
      })
      .finally(closing.done);
  }

  /** As many queued frames as fit in one body, at least one. */
  private takeBatch(): string[] {
    const limit = this.maxBytes() ?? DEFAULT_BATCH_BYTES;
    let bytes = 2 + utf8ByteLength(this.queue[0] as string);
    let count = 1;
    while (count < this.queue.length) {
      const next = bytes + 1 + utf8ByteLength(this.queue[count] as string);
      if (next > limit) break;
      bytes = next;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async post(batch: string[]): Promise<void> {
    this.posting = true;
    const body = batch.length === 1 ? (batch[0] as string) : `[${batch.join(',')}]`;
    let closed: TransportClosed | undefined;
    try {
      const response = await this.request('send', body, false);
      if (!response.ok) {
        const refusal = await refusalOf(response);
        const tooBig = response.status === 413;
        closed = {
          code: tooBig ? CloseCode.MessageTooBig : CloseCode.Abnormal,
          reason: tooBig ? ErrorCode.MessageTooBig : (refusal?.code ?? `HTTP ${response.status}`),
          opened: true,
          errorMessage: `sending failed: ${describeAnswer(response, refusal)}`,
        };
      }
    } catch (cause) {
      closed = { code: CloseCode.Abnormal, reason: '', opened: true, errorMessage: `sending failed: ${errorText(cause)}` };
    }
    this.posting = false;
    if (this.stopped) return;
    if (closed) {
      this.stop();
      this.failed(closed);
      return;
    }
    for (const wake of this.idle.splice(0)) wake();
    this.flush();
  }

  private request(route: 'send' | 'close', body: string, keepalive: boolean): Promise<Response> {
    return fetch(this.endpoint.url(route, this.cid), {
      ...REQUEST_DEFAULTS,
      method: 'POST',
      headers: POST_HEADERS,
      body,
      // A close may be the last thing a page does: let it outlive the page.
      keepalive,
      signal: this.aborter.signal,
    });
  }
}
