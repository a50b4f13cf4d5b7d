/**
 * WebSocket close codes Switchboard uses, with what the SDK does after each.
 * docs/ERRORS.md lists the same table; a test fails when the two disagree.
 */
export interface CloseCodeInfo {
  code: number;
  name: string;
  /** Whether the SDK reconnects by itself after a close with this code. */
  reconnect: boolean;
  description: string;
}

export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
  TryAgainLater: 1013,
  BadHandshake: 4000,
  HandshakeTimeout: 4001,
  HeartbeatTimeout: 4002,
  UnsupportedVersion: 4003,
  SessionTakenOver: 4004,
  Reconnecting: 4005,
  AuthExpired: 4006,
  SlowConsumer: 4009,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const CLOSE_CODES: readonly CloseCodeInfo[] = [
  { code: 1000, name: 'normal', reconnect: false, description: 'Closed on purpose: the client called close(), or the server disconnected the session.' },
  { code: 1001, name: 'going_away', reconnect: true, description: 'The server is shutting down or restarting; reconnect (to another node if there is one).' },
  { code: 1002, name: 'protocol_error', reconnect: true, description: 'A WebSocket-level protocol violation (RFC 6455), detected by the WebSocket library.' },
  { code: 1005, name: 'no_status', reconnect: false, description: 'Never sent: the peer closed without a code (a plain close()). The server treats it like 1000: the client left on purpose.' },
  { code: 1006, name: 'abnormal', reconnect: true, description: 'Never sent: the connection dropped without a close frame (network loss, killed process).' },
  { code: 1007, name: 'invalid_payload', reconnect: true, description: 'A text frame that is not valid UTF-8.' },
  { code: 1008, name: 'policy_violation', reconnect: false, description: 'Rejected by policy: middleware refused the handshake (the preceding error frame has the code), or the peer overloaded the server or kept sending past its rate limit.' },
  { code: 1009, name: 'message_too_big', reconnect: true, description: 'A frame exceeded limits.maxMessageBytes (default 64 KiB).' },
  { code: 1011, name: 'internal_error', reconnect: true, description: 'The server hit an unexpected condition.' },
  { code: 1013, name: 'try_again_later', reconnect: true, description: 'The server is at capacity; reconnect after a backoff.' },
  { code: 4000, name: 'bad_handshake', reconnect: false, description: 'The first frame was not a valid hello, or named an unknown namespace.' },
  { code: 4001, name: 'handshake_timeout', reconnect: true, description: 'The handshake did not complete within the handshake timeout (default 10 s): no hello, or middleware that did not decide.' },
  { code: 4002, name: 'heartbeat_timeout', reconnect: true, description: 'The peer missed its heartbeats. Usually local only: a dead peer cannot receive a close frame.' },
  { code: 4003, name: 'unsupported_version', reconnect: false, description: 'The client speaks a protocol version the server does not; upgrade the older side.' },
  { code: 4004, name: 'session_taken_over', reconnect: false, description: 'A newer connection resumed this session (same resume token); this connection is closed and must not reconnect.' },
  { code: 4005, name: 'reconnecting', reconnect: true, description: 'Sent by a client that closes its connection and will come back (e.g. the network went offline): the server keeps the session for resume.' },
  { code: 4006, name: 'auth_expired', reconnect: true, description: 'The credentials of the connection expired and fresh ones did not come in time (or were refused); reconnect with fresh credentials (the SDK calls its auth function again).' },
  { code: 4009, name: 'slow_consumer', reconnect: true, description: 'The connection fell too far behind a durable room (unsent bytes over the server cap); reconnect and recover from history.' },
];

const byCode = new Map(CLOSE_CODES.map((info) => [info.code, info]));

export function closeCodeInfo(code: number): CloseCodeInfo | undefined {
  return byCode.get(code);
}

/** Unknown codes (e.g. an app's own 4xxx) reconnect, except 1000 which means "done". */
export function shouldReconnectAfter(code: number): boolean {
  return byCode.get(code)?.reconnect ?? true;
}
