/**
 * The part of the standard browser WebSocket API the SDK uses. Both the browser's
 * WebSocket and the `ws` package satisfy it, and so can a future long-polling or SSE
 * fallback shaped like a WebSocket.
 */

// Handlers are declared through a method so parameters compare bivariantly: `ws` and the
// DOM pass richer event objects than the fields the SDK reads, and both must fit.
export type WebSocketListener<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface MessageEventLike {
  data: unknown;
}

export interface CloseEventLike {
  code: number;
  reason: string;
}

export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected ('' when none). */
  readonly protocol: string;
  readonly bufferedAmount: number;
  /** How binary messages arrive; the SDK sets 'arraybuffer' (an implementation without it may hand over any ArrayBuffer view). */
  binaryType?: string;
  onopen: WebSocketListener<unknown> | null;
  onmessage: WebSocketListener<MessageEventLike> | null;
  onclose: WebSocketListener<CloseEventLike> | null;
  onerror: WebSocketListener<unknown> | null;
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** readyState values of the standard API (constants on the class are not on every implementation). */
export const ReadyState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;
