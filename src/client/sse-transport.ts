import { CloseCode } from '../protocol/close-codes.js';
import type { HttpTransportOptions, TransportClosed, TransportHandlers } from './client-transport.js';
import { HttpTransportBase } from './http-transport-base.js';
import { describeAnswer, errorText, type HttpEndpoint, REQUEST_DEFAULTS, refusalOf } from './http-endpoint.js';
import { type SseEvent, SseParser } from './sse-parser.js';

/**
 * A session carried by Server-Sent Events: `GET {path}/sse` streams the server's frames
 * (first an `open` event with the connection id, then one `message` event per frame, a
 * `close` event at the end); frames to the server go as POSTs (FramePoster). The stream is
 * read from the fetch response, not with EventSource, so requests carry the same headers
 * and cookies as the other transports and no automatic reconnect gets in the way: a stream
 * that ends without `close` is a lost connection (1006), which the session resumes.
 */
export class SseTransport extends HttpTransportBase {
  readonly kind = 'sse' as const;

  constructor(endpoint: HttpEndpoint, handlers: TransportHandlers, options: HttpTransportOptions) {
    super(endpoint, handlers, options);
    void this.run();
  }

  private async run(): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.endpoint.url('sse'), { ...REQUEST_DEFAULTS, headers: { accept: 'text/event-stream' }, signal: this.aborter.signal });
    } catch (cause) {
      this.finish({ code: CloseCode.Abnormal, reason: '', opened: false, errorMessage: errorText(cause) });
      return;
    }
    const type = response.headers.get('content-type') ?? '';
    if (response.status !== 200 || !type.includes('text/event-stream') || !response.body) {
      const refusal = await refusalOf(response);
      const closed: TransportClosed = { code: CloseCode.Abnormal, reason: refusal?.code ?? '', opened: false, errorMessage: describeAnswer(response, refusal) };
      if (refusal) closed.refusal = refusal;
      if (response.status === 200) closed.errorMessage = `the answer is ${type || 'untyped'}, not text/event-stream`;
      this.finish(closed);
      void response.body?.cancel().catch(() => {});
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.done) break;
        for (const event of parser.feed(decoder.decode(value, { stream: true }))) if (!this.dispatch(event)) return;
      }
    } catch (cause) {
      this.finish({ code: CloseCode.Abnormal, reason: '', opened: this.opened, errorMessage: errorText(cause) });
      return;
    }
    this.finish({ code: CloseCode.Abnormal, reason: '', opened: this.opened, errorMessage: 'the event stream ended without a close event' });
  }

  /** False once the connection is over. */
  private dispatch(event: SseEvent): boolean {
    if (this.done) return false;
    switch (event.event) {
      case 'open':
        return this.open(event.data);
      case 'close': {
        const { code, reason } = parseObject(event.data);
        this.finish({ code: typeof code === 'number' ? code : CloseCode.Abnormal, reason: typeof reason === 'string' ? reason : '', opened: this.opened, errorMessage: undefined });
        return false;
      }
      case 'message':
        this.deliver(event.data);
        return !this.done;
      default:
        return true; // unknown event types are for later versions
    }
  }

  private open(data: string): boolean {
    const { cid } = parseObject(data);
    if (this.opened) return true;
    if (typeof cid !== 'string' || cid === '') {
      this.finish({ code: CloseCode.Abnormal, reason: '', opened: false, errorMessage: 'the event stream opened without a connection id' });
      return false;
    }
    this.openedAs(cid);
    return !this.done;
  }
}

function parseObject(data: string): Record<string, unknown> {
  try {
    const value = JSON.parse(data) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
