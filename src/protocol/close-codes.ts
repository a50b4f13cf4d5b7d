/**
 * WebSocket close codes Switchboard uses, with their names and whether the SDK reconnects
 * after each. What each means, in words, is in close-code-table.ts, which the browser client
 * does not load. docs/ERRORS.md lists the same table; a test fails when the two disagree.
 */

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
  UserDisconnected: 4010,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Each code's name (as in docs/ERRORS.md) and whether the SDK reconnects by itself after a close with it. */
export const CLOSE_CODE_RULES: Readonly<Record<CloseCode, readonly [name: string, reconnect: boolean]>> = {
  1000: ['normal', false],
  1001: ['going_away', true],
  1002: ['protocol_error', true],
  1005: ['no_status', false],
  1006: ['abnormal', true],
  1007: ['invalid_payload', true],
  1008: ['policy_violation', false],
  1009: ['message_too_big', true],
  1011: ['internal_error', true],
  1013: ['try_again_later', true],
  4000: ['bad_handshake', false],
  4001: ['handshake_timeout', true],
  4002: ['heartbeat_timeout', true],
  4003: ['unsupported_version', false],
  4004: ['session_taken_over', false],
  4005: ['reconnecting', true],
  4006: ['auth_expired', true],
  4009: ['slow_consumer', true],
  4010: ['user_disconnected', false],
};

/** The name of a close code of the table (`policy_violation`); undefined for others. */
export function closeCodeName(code: number): string | undefined {
  return (CLOSE_CODE_RULES as Partial<Record<number, readonly [string, boolean]>>)[code]?.[0];
}

/** Unknown codes (e.g. an app's own 4xxx) reconnect, except 1000 which means "done". */
export function shouldReconnectAfter(code: number): boolean {
  return (CLOSE_CODE_RULES as Partial<Record<number, readonly [string, boolean]>>)[code]?.[1] ?? true;
}
