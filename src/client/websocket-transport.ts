import { mayCarryBinary, textFormToBinaryMessage } from '../protocol/binary.js';
import { utf8ByteLength } from '../protocol/codec.js';
import { SUBPROTOCOL } from '../protocol/constants.js';
import type { ClientTransport, TransportHandlers } from './client-transport.js';
import { ReadyState, type WebSocketConstructor, type WebSocketLike } from './websocket-like.js';

export type { TransportClosed, TransportHandlers } from './client-transport.js';

/**
 * One WebSocket attempt. Each reconnect makes a new instance, and a closed one detaches
 * its handlers, so a late event from an old socket can never touch the new connection.
 *
 * Frames reach it encoded as text (the SDK keeps, buffers and re-sends text); one in the
 * text form of binary data leaves as a binary message (see protocol/binary.ts), and binary
 * messages from the server (the hello asked for them) are handed up as bytes.
 */
export class WebSocketTransport implements ClientTransport {
  readonly kind = 'websocket' as const;
  private readonly socket: WebSocketLike;
  private opened = false;
  private errorMessage: string | undefined;
  private done = false;
  /** The last frame measured by frameBytes() and its binary message: the send that follows the size check reuses it. */
  private measured: { text: string; message: Uint8Array } | undefined;

  constructor(WebSocketImpl: WebSocketConstructor, url: string, private readonly handlers: TransportHandlers) {
    this.socket = new WebSocketImpl(url, SUBPROTOCOL);
    // ArrayBuffer in browsers and in ws alike (ws would give a Buffer, browsers a Blob, which cannot be read synchronously).
    this.socket.binaryType = 'arraybuffer';
    this.socket.onopen = () => {
      this.opened = true;
      this.handlers.onOpen();
    };
    this.socket.onmessage = (event) => {
      const data = event.data;
      if (typeof data === 'string') this.handlers.onText(data);
      else if (data instanceof ArrayBuffer) this.handlers.onBinary(new Uint8Array(data));
      // A WebSocket implementation that ignores binaryType (a Node Buffer is a Uint8Array).
      else if (ArrayBuffer.isView(data)) this.handlers.onBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else this.handlers.onBinary(new Uint8Array(0));
    };
    this.socket.onerror = (event) => {
      this.errorMessage ??= describeError(event);
    };
    this.socket.onclose = (event) => {
      if (this.done) return;
      this.detach();
      this.handlers.onClose({ code: event.code, reason: event.reason, opened: this.opened, errorMessage: this.errorMessage });
    };
  }

  get isOpen(): boolean {
    return !this.done && this.socket.readyState === ReadyState.Open;
  }

  /** Send a frame (one carrying binary data as a binary message). Returns false when the socket is not open, so the caller can keep the frame. */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    const message = this.binaryMessage(text);
    this.socket.send(message ?? text);
    return true;
  }

  frameBytes(text: string): number {
    return this.binaryMessage(text)?.length ?? utf8ByteLength(text);
  }

  /** Close from our side. No onClose callback follows: the caller already knows why it closed. */
  close(code: number, reason: string): void {
    if (this.done) return;
    this.detach();
    try {
      this.socket.close(code, reason);
    } catch {
      // Closing a socket that is still CONNECTING may throw in some implementations; it is abandoned either way.
    }
  }

  /** The binary message of a frame in the text form of binary data; undefined for any other frame (one substring check). */
  private binaryMessage(text: string): Uint8Array | undefined {
    if (!mayCarryBinary(text)) return undefined;
    const measured = this.measured;
    if (measured?.text === text) return measured.message;
    const message = textFormToBinaryMessage(text);
    this.measured = message ? { text, message } : undefined;
    return message;
  }

  private detach(): void {
    this.done = true;
    this.measured = undefined;
    this.socket.onopen = null;
    this.socket.onmessage = null;
    this.socket.onclose = null;
    // An error after close must still have a handler: `ws` would otherwise throw it as an uncaught 'error'.
    this.socket.onerror = () => {};
  }
}

function describeError(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { message, error } = event as { message?: unknown; error?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  if (error instanceof Error) return error.message;
  return undefined;
}
