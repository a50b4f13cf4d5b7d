/**
 * Every error code Switchboard puts on the wire (in `reply.error.code` or an `error`
 * frame) or raises locally in the SDK. docs/ERRORS.md lists the same codes; a test
 * fails when the two disagree.
 */
export const ErrorCode = {
  /** The frame is not valid JSON, or not a JSON object. The connection stays open. */
  MalformedFrame: 'malformed_frame',
  /** A client frame nests arrays and objects deeper than `MAX_FRAME_DEPTH` (128). The connection stays open. */
  NestingTooDeep: 'nesting_too_deep',
  /** `type` is missing or names no frame of this protocol version. The connection stays open. */
  UnknownFrameType: 'unknown_frame_type',
  /** A known frame with missing or invalid fields, or a reserved event name. */
  BadRequest: 'bad_request',
  /** Binary data that cannot be read: a binary message's layout, a marker, `bin`, or base64 (PROTOCOL.md, Binary data). */
  MalformedBinary: 'malformed_binary',
  /** The first frame was not a valid `hello`, or the handshake failed otherwise. Close 4000. */
  BadHandshake: 'bad_handshake',
  /** The handshake did not complete in time (no `hello`, or undecided middleware). Close 4001. */
  HandshakeTimeout: 'handshake_timeout',
  /** `hello.v` names a protocol version the server does not speak. Close 4003. */
  UnsupportedVersion: 'unsupported_version',
  /** The namespace does not exist on the server. */
  UnknownNamespace: 'unknown_namespace',
  /** A frame for a namespace this connection has not connected. */
  NamespaceNotConnected: 'namespace_not_connected',
  /** Middleware rejected the connection (the default code; middleware may choose its own). */
  Unauthorized: 'unauthorized',
  /** The server refused to let the client join a room. */
  Forbidden: 'forbidden',
  /** A request named an event that has no handler on the receiving side. */
  NoHandler: 'no_handler',
  /** The handler failed with an error that was not a `ReplyError`; details stay on the server. */
  InternalError: 'internal_error',
  /** The server is shutting down and takes no new requests. */
  ShuttingDown: 'shutting_down',
  /** Too many frames queued behind a pending handshake, connect or join. Close 1008. */
  Overloaded: 'overloaded',
  /** A frame larger than `limits.maxMessageBytes`. Close 1009 (server) or refused before sending (SDK). */
  MessageTooBig: 'message_too_big',
  /** No reply within a request's timeout (SDK, server emitWithAck), or a connect/join the server's hooks did not decide in time. */
  Timeout: 'timeout',
  /** SDK and server: the connection was lost before the reply arrived. */
  Disconnected: 'disconnected',
  /** SDK: the offline emit buffer is full (count or bytes). */
  BufferFull: 'buffer_full',
  /** SDK: the client was closed by the app. */
  Closed: 'closed',
  /** A history request for a room that keeps no history (not durable). */
  NotDurable: 'not_durable',
  /** A history request from a position no longer in history, or from another epoch. */
  Unrecoverable: 'unrecoverable',
  /** The connection fell too far behind a durable room; it was closed (4009) and recovers from history. */
  SlowConsumer: 'slow_consumer',
  /** SDK: a reliable publish was sent but the server's session was lost before it was acknowledged; it may or may not have been handled. */
  Unconfirmed: 'unconfirmed',
  /** A newer connection resumed this session; this one was closed (4004) and should not reconnect. */
  SessionTakenOver: 'session_taken_over',
  /** HTTP 403 before the upgrade: the page's Origin is not allowed (`allowedOrigins`). */
  OriginNotAllowed: 'origin_not_allowed',
  /** HTTP 429 before the upgrade: this client IP already holds `maxConnectionsPerIp` connections. */
  TooManyConnections: 'too_many_connections',
  /** Too fast: HTTP 429 for handshakes over `handshakeRate` per IP; a reply or error frame for frames over `frameRate` per connection (close 1008 if it goes on). */
  RateLimited: 'rate_limited',
  /** The server holds `maxConnections` connections. Error frame, then close 1013. */
  ServerFull: 'server_full',
  /** A join past `maxRoomsPerSocket` rooms for this socket. */
  TooManyRooms: 'too_many_rooms',
  /** A request while `maxPendingRequests` of this connection's requests are still being handled. */
  TooManyPending: 'too_many_pending',
  /** The connection's credentials expired and fresh ones did not come (or were refused) in time. Close 4006. */
  AuthExpired: 'auth_expired',
  /** A payload that JSON cannot represent (BigInt, a cycle). Raised locally by the sender. */
  Unserializable: 'unserializable',
  /** HTTP 404 from an HTTP transport endpoint: the connection id (`cid`) is unknown, closed, or lives on another node. Resume on a new connection. */
  UnknownConnection: 'unknown_connection',
  /** HTTP 403: the server does not offer this transport (option `transports`). */
  TransportDisabled: 'transport_disabled',
  /** A presence request for a room without presence tracking (`trackPresence`). */
  PresenceNotTracked: 'presence_not_tracked',
  /** The cluster's shared store (Redis) cannot be reached: a durable publish, durable join, history or cluster-wide query failed; nothing was stored. */
  ClusterUnavailable: 'cluster_unavailable',
  /** HTTP API: 404, no route at this path under the API's path. */
  UnknownRoute: 'unknown_route',
  /** HTTP API: 405, the route exists but not for this method (the `Allow` header lists those it takes). */
  MethodNotAllowed: 'method_not_allowed',
  /** HTTP API: 415, a request body whose `Content-Type` is not `application/json`. */
  UnsupportedMediaType: 'unsupported_media_type',
  /** HTTP API: 409, an idempotency key already used, by this credential, for a request with another body. */
  IdempotencyConflict: 'idempotency_conflict',
  /** HTTP API: 409 with `Retry-After`, the first request with this idempotency key is still running after the wait. */
  IdempotencyInFlight: 'idempotency_in_flight',
  /** The server disconnected every connection of this socket's user (`disconnectUser()`: a logout or ban). Error frame, then close 4010; the SDK does not reconnect. */
  UserDisconnected: 'user_disconnected',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export function isKnownErrorCode(code: string): code is ErrorCode {
  return knownCodes.has(code);
}

/** Application error codes follow the same shape as built-in ones: lower snake case. */
export const ERROR_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
