/* The Engine.IO settings, apart from the ports so that the server's options can name them without importing the server back. */

/** The Engine.IO transports a client may use. */
export type EngineTransportName = 'polling' | 'websocket';

/** The Engine.IO settings of the Socket.IO front door, resolved (see SocketIoOptions). */
export interface EngineSettings {
  /** Path the front door answers under, with a trailing slash: `/socket.io/`. */
  path: string;
  transports: readonly EngineTransportName[];
  /** Milliseconds between the server's pings (announced in the handshake). */
  pingInterval: number;
  /** Milliseconds the client has to answer a ping (announced in the handshake). */
  pingTimeout: number;
  /** Largest polling body, and largest WebSocket message, in bytes (announced in the handshake). */
  maxPayload: number;
  /** Milliseconds a polling connection has to finish an upgrade to WebSocket once it probed. */
  upgradeTimeout: number;
}
