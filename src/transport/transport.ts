import type { SharedFrame } from './shared-frame.js';

/**
 * What the server core needs from a connection, whatever carries it. WebSocket is the
 * first implementation; long-polling and SSE implement the same interface later, so the
 * core never branches on the transport.
 */
export interface TransportHandlers {
  /** One complete incoming frame: a text frame's JSON, or a binary message's bytes (WebSocket only; see protocol/binary.ts). */
  onFrame(data: string | Uint8Array, from: Transport): void;
  /** Transport-level liveness signal (a WebSocket pong); app frames count too. */
  onPong(from: Transport): void;
  /** Called exactly once, whoever closed. */
  onClose(code: number, reason: string, from: Transport): void;
}

/**
 * How the client on the other end of a transport resumes a session (see `Transport.resumePolicy`):
 * `'none'`: it cannot — a lost connection ends the session at once and nothing is kept for it;
 * `'stable-token'`: it keeps the first token it got for the session's life (a Socket.IO
 * client's `pid`), so every welcome repeats that token instead of issuing a new one.
 */
export type ResumePolicy = 'none' | 'stable-token';

export interface Transport {
  readonly kind: string;
  /** Absent: the native policy, a new resume token in every welcome. */
  readonly resumePolicy?: ResumePolicy;
  /** Bytes queued for the peer but not yet handed to the network, including frames sent this turn and not yet written. */
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  /**
   * Install the session's handlers (replacing any before); frames arriving before the first
   * are held by the transport. Every call passes the transport, so one handler object can
   * tell its current connection from a replaced one without a binding per connection.
   */
  attach(handlers: TransportHandlers): void;
  /**
   * Send one frame: a string, or a frame encoded once for many connections. Frames
   * leave in the order of send() calls; those of one event-loop turn may leave together
   * at its end. Nothing is sent once the connection is closing.
   */
  send(frame: string | SharedFrame): void;
  /**
   * The client asked for binary messages (hello `"binary": true`): from now on, frames in the
   * text form of binary data go to it as binary messages. Only transports that carry binary
   * messages (WebSocket) have it; the others keep sending the text form.
   */
  acceptBinary?(): void;
  /** Send a transport-level ping if the transport has one. */
  ping(): void;
  /** Close with a close code and a short reason (at most 123 bytes of UTF-8), after the frames already sent. */
  close(code: number, reason: string): void;
  /** Drop the connection at once, without a closing handshake (for dead peers). */
  terminate(): void;
}

/** Who is on the other end, captured at the upgrade so the HTTP request can be released. */
export interface TransportRequestInfo {
  url: string;
  /** The request's headers, less those that only served the protocol upgrade (WebSocket: `connection`, `upgrade`, `sec-websocket-key`, `-version`, `-extensions`). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  remoteAddress: string;
}
