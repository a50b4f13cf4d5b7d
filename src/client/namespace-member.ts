import type { SwitchboardError } from '../protocol/errors.js';
import type { EventFrame, PositionFrame, PresenceFrame } from '../protocol/frames.js';
import type { ReconnectInfo } from './client-events.js';
import type { ChangeDetails, ConnectionReason, ConnectionState } from './connection-state.js';
import type { AuthOption } from './options.js';

/**
 * What the connection needs from each namespace multiplexed on it. NamespaceChannel
 * implements it; the interface keeps Connection free of the channel's app-facing API.
 */
export interface NamespaceMember {
  readonly namespace: string;
  /** Auth for this namespace's `connect` frame; undefined lets the server reuse the hello's. */
  readonly auth: AuthOption;
  /** False after the server refused or disconnected the namespace: it waits for reconnectNow(). */
  readonly wantsConnection: boolean;
  readonly isNamespaceConnected: boolean;
  /**
   * The server session holds this namespace: it was connected in the session and neither side
   * let it go since. Stays true while the socket is down, so a resume knows not to reconnect it.
   */
  readonly inSession: boolean;
  /**
   * The user the server named for this namespace (`welcome.user`, or the `user` of the
   * connect reply), set before namespaceReady(); a resumed namespace keeps the one it had.
   */
  user: string | undefined;
  /**
   * The namespace is connected on the current socket. `resumed`: the server kept it through a
   * session resume, with its rooms (only joins never confirmed are sent again).
   */
  namespaceReady(reason: ConnectionReason, resumed: boolean): void;
  /** The server session ended (a new one started, or another connection took it over): nothing of it is left on the server. */
  sessionEnded(): void;
  /** The connection as a whole moved to `state`. */
  connectionChanged(
    state: typeof ConnectionState.Connecting | typeof ConnectionState.Disconnected,
    reason: ConnectionReason,
    details: ChangeDetails,
  ): void;
  connectFailed(error: SwitchboardError): void;
  /** The server answered this namespace's `connect` with an error. */
  refused(error: SwitchboardError): void;
  reconnecting(info: ReconnectInfo): void;
  receiveEvent(frame: EventFrame): void;
  /** A user came into or left one of the namespace's rooms. */
  receivePresence(frame: PresenceFrame): void;
  /** A durable room's stream moved past a publication this client was excluded from. */
  receivePosition(frame: PositionFrame): void;
  receiveError(error: SwitchboardError): void;
  /** A `disconnect` frame from the server for this namespace. */
  serverDisconnected(): void;
  /** The app closed the connection: final. */
  connectionClosed(): void;
}
