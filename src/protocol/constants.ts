/** Wire protocol version carried in `hello.v` and `welcome.v`. */
export const PROTOCOL_VERSION = 1;
/** WebSocket subprotocol a client offers in `Sec-WebSocket-Protocol`. */
export const SUBPROTOCOL = 'switchboard.v1';
/** Default HTTP path of the WebSocket endpoint. */
export const DEFAULT_PATH = '/ws';
/** The namespace a frame belongs to when it carries no `ns` field. */
export const ROOT_NAMESPACE = '/';
/** Longest event, room or namespace name accepted, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 256;
/**
 * Deepest nesting of arrays and objects a client frame may have, the frame object itself
 * being level 1. Deeper ones are refused with `nesting_too_deep`: recursive code (a
 * schema validator, JSON.stringify of an echo) would run out of stack long before the
 * size limit stops them. 128 is also serde_json's default limit.
 */
export const MAX_FRAME_DEPTH = 128;
/** Default cap on one incoming frame, in bytes (64 KiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
/** Default and largest `limit` of a history request. */
export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;
/** Default heartbeat timings, in milliseconds. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 25_000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 20_000;

/**
 * Event names that name lifecycle events on the SDK and server sockets. Apps cannot
 * send them as events: a client `on('disconnect')` must never be triggered by a peer.
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'error',
  'state',
  'reconnecting',
  'recovery',
  'presence',
  'newListener',
  'removeListener',
]);
