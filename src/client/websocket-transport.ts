import { SUBPROTOCOL } from '../protocol/constants.js';
import type { ClientTransport, TransportHandlers } from './client-transport.js';
import { ReadyState, type WebSocketConstructor, type WebSocketLike } from './websocket-like.js';

export type { TransportClosed, TransportHandlers } from './client-transport.js';

/**
 * One WebSocket attempt. Each reconnect makes a new instance, and a closed one detaches
 * its handlers, so a late event from an old socket can never touch the new connection.
 */
export class WebSocketTransport implements ClientTransport {
  readonly kind = 'websocket' as const;
  private readonly socket: WebSocketLike;
  private opened = false;
  private errorMessage: string | undefined;
  private done = false;

  constructor(WebSocketImpl: WebSocketConstructor, url: string, private readonly handlers: TransportHandlers) {
    this.socket = new WebSocketImpl(url, SUBPROTOCOL);
    this.socket.onopen = () => {
      this.opened = true;
      this.handlers.onOpen();
    };
    this.socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.handlers.onText(event.data);
      else this.handlers.onBinary();
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

  /** Send a text frame. Returns false when the socket is not open, so the caller can keep the frame. */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.socket.send(text);
    return true;
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

  private detach(): void {
    this.done = true;
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
