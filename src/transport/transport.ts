/**
 * What the server core needs from a connection, whatever carries it. WebSocket is the
 * first implementation; long-polling and SSE implement the same interface later, so the
 * core never branches on the transport.
 */
export interface TransportHandlers {
  /** One complete incoming frame. `binary` frames are not part of protocol v1. */
  onFrame(data: string, binary: boolean): void;
  /** Transport-level liveness signal (a WebSocket pong); app frames count too. */
  onPong(): void;
  /** Called exactly once, whoever closed. */
  onClose(code: number, reason: string): void;
}

export interface Transport {
  readonly kind: string;
  /** Bytes queued for the peer but not yet handed to the network. */
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  /** Install the session's handlers; frames arriving before this are held by the transport. */
  attach(handlers: TransportHandlers): void;
  /** Send one encoded text frame. A string or pre-encoded UTF-8 bytes (encoded once per broadcast). */
  send(frame: string | Uint8Array): void;
  /** Send a transport-level ping if the transport has one. */
  ping(): void;
  /** Close with a close code and a short reason (at most 123 bytes of UTF-8). */
  close(code: number, reason: string): void;
  /** Drop the connection at once, without a closing handshake (for dead peers). */
  terminate(): void;
}

/** Who is on the other end, captured at the upgrade so the HTTP request can be released. */
export interface TransportRequestInfo {
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  remoteAddress: string;
}
