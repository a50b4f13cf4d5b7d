import type { SwitchboardError } from '../protocol/errors.js';

/** Where a client handle stands. `connecting` includes the wait before a reconnect attempt. */
export const ConnectionState = {
  /** Nothing happens until the app acts (reconnectNow(), or a new client after close()). */
  Disconnected: 'disconnected',
  /** Opening a WebSocket, handshaking, or waiting out the backoff before the next attempt. */
  Connecting: 'connecting',
  /** The namespace is connected: emits go straight to the socket. */
  Connected: 'connected',
} as const;

export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Why a state changed. Every `state` event carries one, so apps and logs never guess. */
export const ConnectionReason = {
  /** connect() or of() started the first attempt. */
  ConnectCalled: 'connect_called',
  /** The app called reconnectNow(). */
  ReconnectCalled: 'reconnect_called',
  /** The server's welcome arrived (the handle's namespace is the one the hello connected). */
  HandshakeOk: 'handshake_ok',
  /** The server accepted a `connect` frame for an extra namespace. */
  NamespaceConnected: 'namespace_connected',
  /** The socket closed with a code after which the SDK reconnects (see closeCode). */
  TransportClosed: 'transport_closed',
  /** The WebSocket could not be opened (refused, DNS, HTTP error on upgrade) or the auth function failed. */
  TransportError: 'transport_error',
  /** The auth function threw or rejected; retried with backoff like a failed open. */
  AuthFailed: 'auth_failed',
  /** No welcome arrived within connectTimeout. */
  ConnectTimeout: 'connect_timeout',
  /** No frame from the server for heartbeat interval + timeout: the connection is presumed dead. */
  HeartbeatTimeout: 'heartbeat_timeout',
  /** Close 1001: the server is shutting down or restarting; the SDK reconnects. */
  ServerShutdown: 'server_shutdown',
  /** Close 1000 from the server, or a `disconnect` frame for the namespace. No automatic reconnect. */
  ServerDisconnect: 'server_disconnect',
  /** Middleware refused the handshake or the namespace (close 1008 or an error reply), or the server refused the page's origin (`origin_not_allowed`); `error` has its code. No automatic reconnect. */
  Unauthorized: 'unauthorized',
  /** Close 1008 after the handshake, e.g. `overloaded`. No automatic reconnect. */
  PolicyViolation: 'policy_violation',
  /** The server does not know the namespace asked for in `connect`. */
  UnknownNamespace: 'unknown_namespace',
  /** Close 4006: the server's `reauth` was not answered with accepted credentials in time; the SDK reconnects with a fresh `auth`. */
  AuthExpired: 'auth_expired',
  /** The app called close(). */
  ClientClosed: 'client_closed',
  /** Close 4009: the connection fell too far behind a durable room; the SDK reconnects and rejoins with `since`. */
  SlowConsumer: 'slow_consumer',
  /** Close 4010: the server disconnected every connection of this client's user (`disconnectUser`: a logout or ban). No automatic reconnect. */
  UserDisconnected: 'user_disconnected',
  /** Close 4004: a newer connection resumed this client's session (e.g. a copied resume token). No automatic reconnect. */
  SessionTakenOver: 'session_taken_over',
  /** Close 1009: a frame exceeded the server's limits.maxMessageBytes. */
  MessageTooBig: 'message_too_big',
  /** Close 4000 (bad handshake) or a welcome the SDK cannot use. No automatic reconnect. */
  ProtocolError: 'protocol_error',
  /** Close 4003: client and server speak different protocol versions. No automatic reconnect. */
  UnsupportedVersion: 'unsupported_version',
  /** reconnect.maxAttempts consecutive attempts failed. */
  ReconnectExhausted: 'reconnect_exhausted',
  /** The device went offline (browser `offline` event): no attempts are counted until `online`. */
  NetworkOffline: 'network_offline',
} as const;

export type ConnectionReason = (typeof ConnectionReason)[keyof typeof ConnectionReason];

/** What accompanies a reason when there is more to say. */
export interface ChangeDetails {
  /** The error behind the change: an error frame or reply from the server, or one the SDK raised. */
  error?: SwitchboardError;
  /** The WebSocket close code, when a close caused the change. */
  closeCode?: number;
  /**
   * Changes to `connected` only: true when the server resumed the session, so this namespace
   * kept its rooms and pending replies and got what was sent meanwhile; false for a new session.
   */
  resumed?: boolean;
}

/** Payload of the `state` event. */
export interface StateChange extends ChangeDetails {
  state: ConnectionState;
  previous: ConnectionState;
  reason: ConnectionReason;
}
