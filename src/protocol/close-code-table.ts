import { CLOSE_CODE_RULES, type CloseCode } from './close-codes.js';

/** A close code of the table, with what it means and what the SDK does after it. */
export interface CloseCodeInfo {
  code: number;
  name: string;
  /** Whether the SDK reconnects by itself after a close with this code. */
  reconnect: boolean;
  description: string;
}

/**
 * What each close code means, in words: for the docs and their tests, and for servers and
 * tools that explain a close. Apart from close-codes.ts so that the browser client, which
 * needs only the numbers and names, does not carry the prose.
 */
const DESCRIPTIONS: Readonly<Record<CloseCode, string>> = {
  1000: 'Closed on purpose: the client called close(), or the server disconnected the session.',
  1001: 'The server is shutting down or restarting; reconnect (to another node if there is one).',
  1002: 'A WebSocket-level protocol violation (RFC 6455), detected by the WebSocket library.',
  1005: 'Never sent: the peer closed without a code (a plain close()). The server treats it like 1000: the client left on purpose.',
  1006: 'Never sent: the connection dropped without a close frame (network loss, killed process).',
  1007: 'A text frame that is not valid UTF-8.',
  1008: 'Rejected by policy: middleware refused the handshake (the preceding error frame has the code), or the peer overloaded the server or kept sending past its rate limit.',
  1009: 'A frame exceeded limits.maxMessageBytes (default 64 KiB).',
  1011: 'The server hit an unexpected condition.',
  1013: 'The server is at capacity; reconnect after a backoff.',
  4000: 'The first frame was not a valid hello, or named an unknown namespace.',
  4001: 'The handshake did not complete within the handshake timeout (default 10 s): no hello, or middleware that did not decide.',
  4002: 'The peer missed its heartbeats. Usually local only: a dead peer cannot receive a close frame.',
  4003: 'The client speaks a protocol version the server does not; upgrade the older side.',
  4004: 'A newer connection resumed this session (same resume token); this connection is closed and must not reconnect.',
  4005: 'Sent by a client that closes its connection and will come back (e.g. the network went offline): the server keeps the session for resume.',
  4006: 'The credentials of the connection expired and fresh ones did not come in time (or were refused); reconnect with fresh credentials (the SDK calls its auth function again).',
  4009: 'The connection fell too far behind a durable room (unsent bytes over the server cap); reconnect and recover from history.',
  4010: "The server disconnected every connection of the socket's user (disconnectUser: a logout or a ban); the session ended. Do not reconnect on your own: the app decides (sign in again).",
};

/** Every close code Switchboard uses, in ascending order. */
export const CLOSE_CODES: readonly CloseCodeInfo[] = Object.entries(CLOSE_CODE_RULES).map(([code, [name, reconnect]]) => ({
  code: Number(code),
  name,
  reconnect,
  description: DESCRIPTIONS[Number(code) as CloseCode],
}));

const byCode = new Map(CLOSE_CODES.map((info) => [info.code, info]));

export function closeCodeInfo(code: number): CloseCodeInfo | undefined {
  return byCode.get(code);
}
