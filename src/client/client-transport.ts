import type { ErrorPayload } from '../protocol/frames.js';

/** What can carry a session, in the client's default order of preference. */
export type TransportKind = 'websocket' | 'sse' | 'polling';

export const TRANSPORT_KINDS: readonly TransportKind[] = ['websocket', 'sse', 'polling'];

/** How one connection ended, as seen from the client. */
export interface TransportClosed {
  code: number;
  reason: string;
  /** False when the connection never opened: refused, DNS failure, HTTP error on upgrade or open. */
  opened: boolean;
  /** What the error event said, when there was one (browsers give no details). */
  errorMessage: string | undefined;
  /** An HTTP transport's open refused by the server with a JSON `{code, message}` body (a WebSocket upgrade cannot show one). */
  refusal?: ErrorPayload;
}

export interface TransportHandlers {
  /** Ready for the hello. */
  onOpen(): void;
  /** One frame from the server, as JSON text. */
  onText(text: string): void;
  /** One binary message from the server (WebSocket only; see protocol/binary.ts). */
  onBinary(message: Uint8Array): void;
  /** Called at most once, and never after close() or abandon(). */
  onClose(closed: TransportClosed): void;
}

/**
 * One connection attempt on some transport. Each reconnect makes a new instance, and a
 * closed one calls no handler any more, so a late event of an old connection can never
 * touch the new one.
 */
export interface ClientTransport {
  readonly kind: TransportKind;
  readonly isOpen: boolean;
  /**
   * Send a frame. One in the text form of binary data goes as the transport carries binary
   * data best (a WebSocket: a binary message). False when the connection is not open, so the
   * caller can keep the frame.
   */
  send(text: string): boolean;
  /** Bytes send(text) would put in one message of this transport (what the server's maxMessageBytes counts). */
  frameBytes(text: string): number;
  /** Close from our side. No onClose follows: the caller already knows why it closed. */
  close(code: number, reason: string): void;
}

/**
 * An HTTP transport, which can hand its session over to a WebSocket: stop sending, let what
 * is in flight land, then be let go without telling the server (the server's resume of the
 * session on the WebSocket closes it there).
 */
export interface HttpTransport extends ClientTransport {
  readonly kind: 'sse' | 'polling';
  /** Keep frames sent from now on instead of posting them; resolves once no POST is in flight. */
  hold(): Promise<void>;
  /** Post what was held, and send as usual again. */
  release(): void;
  /** Call no handler any more, but keep the connection until close() or abandon(). */
  mute(): void;
  /** The frames held since hold(), oldest first; they are no longer this transport's. */
  takeHeld(): string[];
  /** Drop the connection without a close request and without calling a handler. */
  abandon(): void;
}

/** How an HTTP transport is opened and sends. */
export interface HttpTransportOptions {
  /** The server's frame limit (welcome.limits.maxMessageBytes), which bounds a POST body. */
  maxBatchBytes(): number | undefined;
  /** The opening request must have opened the connection (a connection id) within this. */
  openTimeoutMs: number;
  /** The session's current resume token, sent with the close when the page goes away (see page-exit.ts). */
  resumeToken?(): string | undefined;
}

export function isHttpTransport(transport: ClientTransport | undefined): transport is HttpTransport {
  return transport !== undefined && transport.kind !== 'websocket';
}
