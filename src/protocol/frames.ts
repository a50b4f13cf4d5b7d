/**
 * The frames of protocol switchboard.v1: one JSON object per WebSocket text frame,
 * told apart by `type`. docs/PROTOCOL.md is the normative description.
 */

/**
 * Where a publication sits in a durable room's stream. Offsets start at 1 and grow by 1;
 * the epoch changes when the stream's history is lost, so offsets of two epochs never compare.
 */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** `{code, message}` carried by error replies and error frames, and sometimes `details`. */
export interface ErrorPayload {
  code: string;
  message: string;
  /** Machine-readable detail; today only the issues of a payload that failed its schema (`bad_request`). */
  details?: ErrorDetails;
}

export interface ErrorDetails {
  /** What was wrong with an event's data, at most the first 10 issues its schema reported. */
  issues?: PayloadIssue[];
}

/** One problem in an event's data: where (`[]` is the data itself) and what. */
export interface PayloadIssue {
  /** Keys from the data down to the offending value, e.g. `["items", 2, "name"]`. */
  path: (string | number)[];
  message: string;
}

export interface HeartbeatSettings {
  /** Milliseconds between the server's pings. */
  interval: number;
  /** Milliseconds of silence past `interval` after which a peer is considered dead. */
  timeout: number;
}

/**
 * What the server enforces on this connection, announced so a client can stay inside it.
 * `null` means "no limit" (JSON has no Infinity). Every field but `maxMessageBytes` is
 * optional for a reader: a server that does not announce one sets no expectation, and a
 * client must ignore fields it does not know.
 */
export interface ConnectionLimits {
  /** Largest frame the server accepts, in bytes (UTF-8). */
  maxMessageBytes: number;
  /** The frame rate (`frameRate`); `null` when the server does not limit it. */
  frameRate?: FrameRateLimit | null;
  /** Most frames queued behind a pending `hello`, `connect` or `join`. */
  maxQueuedFrames?: number;
  /** Most client requests being handled at once; `null`: no limit. */
  maxPendingRequests?: number | null;
  /** Most rooms one socket (the session in one namespace) may be in; `null`: no limit. */
  maxRoomsPerSocket?: number | null;
  /** How many reliable publishes (sequence numbers) the server remembers per session. */
  dedupeWindow?: number;
  /** Most frames the server keeps for a resume until the client acknowledges them; `null`: sessions are not resumable. */
  maxUnackedFrames?: number | null;
  /** Most bytes of frames kept for a resume until acknowledged; `null`: sessions are not resumable. */
  maxUnackedBytes?: number | null;
  /** Milliseconds a session is kept for a resume after its connection is lost; `null`: sessions are not resumable. */
  resumeTtl?: number | null;
  /** Bytes of broadcasts the server keeps for all the sessions waiting to be resumed together; `null`: sessions are not resumable. */
  resumeLogBytes?: number | null;
}

/** A token bucket: `perSecond` frames per second, `burst` at once. */
export interface FrameRateLimit {
  perSecond: number;
  burst: number;
}

/** Client → server: the first frame on every connection. */
export interface HelloFrame {
  type: 'hello';
  v: number;
  /** Namespace to connect together with the handshake (default "/"). */
  ns?: string;
  auth?: unknown;
  /** Resume token from an earlier welcome (session resume; see PROTOCOL.md). */
  resume?: string;
  /** With `resume`: how many frames the client received after welcomes of that session. */
  received?: number;
  /** On a WebSocket: send frames carrying binary data to this connection as binary messages (see PROTOCOL.md, "Binary data"). */
  binary?: boolean;
}

/**
 * Client → server: how many frames the client has received since the session's first
 * welcome (welcomes not counted). Lets the server forget frames it kept for a resume.
 */
export interface AckFrame {
  type: 'ack';
  received: number;
}

/** Server → client: the handshake succeeded. */
export interface WelcomeFrame {
  type: 'welcome';
  v: number;
  sid: string;
  ns: string;
  resume: string | null;
  resumed: boolean;
  /**
   * With `resumed: false`: the session moved from another node (it died, or the client came
   * back through another one) with its id, namespaces, rooms and handled reliable
   * publishes, but without the frames that node sent and the client did not acknowledge.
   * The client rejoins durable rooms with `since` and re-sends unanswered reliable
   * publishes with their `seq` (they are deduplicated); other requests are lost.
   */
  restored?: boolean;
  /** The user of the socket in `ns` (`socket.user`, set by the server's middleware), when it has one; its user room is `'#user:' + user`. */
  user?: string;
  heartbeat: HeartbeatSettings;
  limits: ConnectionLimits;
}

/** Client → server: connect one more namespace over the same connection. */
export interface ConnectFrame {
  type: 'connect';
  ref: number;
  ns: string;
  auth?: unknown;
}

/** Either direction: leave a namespace (the connection stays open). */
export interface DisconnectFrame {
  type: 'disconnect';
  ns?: string;
}

/** Client → server: ask to join or leave a room of a namespace. */
export interface JoinFrame {
  type: 'join';
  ref: number;
  ns?: string;
  room: string;
  /** Durable rooms: the last position the client saw; the server replays what came after. */
  since?: StreamPosition;
}

/** Reply data of a join. `durable`, `position` and `recovered` only for durable rooms. */
export interface JoinReply {
  room: string;
  durable?: true;
  /** The stream's position right after the replay. */
  position?: StreamPosition;
  /** Only when `since` was sent: true = the whole gap was replayed; false = reload state. */
  recovered?: boolean;
}

/** Client → server: read a durable room's history. */
export interface HistoryFrame {
  type: 'history';
  ref: number;
  ns?: string;
  room: string;
  since?: StreamPosition;
  limit?: number;
}

export interface Publication {
  event: string;
  data?: unknown;
  position: StreamPosition;
}

export interface HistoryReply {
  publications: Publication[];
  position: StreamPosition;
}

/** Client → server: who is in a room with presence tracking (see PresenceReply). */
export interface PresenceRequestFrame {
  type: 'presence';
  ref: number;
  ns?: string;
  room: string;
}

/** One user present in a room: present while any of their connections, on any node, is in it. */
export interface PresenceMember {
  user: string;
  /** What the server tells about the user (from their first connection in the room); null if nothing. */
  info: unknown;
}

export interface PresenceReply {
  room: string;
  members: PresenceMember[];
}

/** Server → client: a user came into a room it is in (their first connection) or left it (their last). */
export interface PresenceFrame {
  type: 'presence';
  ns?: string;
  room: string;
  kind: 'join' | 'leave';
  user: string;
  info: unknown;
}

export interface LeaveFrame {
  type: 'leave';
  ref: number;
  ns?: string;
  room: string;
}

/** Either direction: an application event; with `ref` it is a request awaiting a reply. */
export interface EventFrame {
  type: 'event';
  ns?: string;
  event: string;
  data?: unknown;
  ref?: number;
  /** Server → client only: the room the event was published to, if exactly one. */
  room?: string;
  /** Server → client only: the publication's position, for events of durable rooms. */
  position?: StreamPosition;
  /**
   * Client → server only, with `ref`: a reliable publish's sequence number (per session,
   * from 1). The server runs the handler once per sequence number and answers re-sends
   * with the first reply.
   */
  seq?: number;
}

/**
 * Server → client: a durable room's stream moved to `position` with a publication this member was
 * excluded from (`except`, `socket.to(room)`). The client tracks `position` as the last position
 * seen in `room`, as if it had received the event, and delivers nothing to handlers.
 */
export interface PositionFrame {
  type: 'position';
  ns?: string;
  room: string;
  position: StreamPosition;
}

/** Either direction: the answer to a frame that carried `ref`. */
export type ReplyFrame =
  | { type: 'reply'; ref: number; data?: unknown; error?: undefined }
  | { type: 'reply'; ref: number; error: ErrorPayload; data?: undefined };

export interface PingFrame {
  type: 'ping';
}

export interface PongFrame {
  type: 'pong';
}

/** Server → client: a problem with a frame that carried no usable `ref`. */
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  details?: ErrorDetails;
  ns?: string;
}

/**
 * Server → client, a request: the credentials of namespace `ns` expired. The client answers
 * with a `reply` whose `data` is fresh credentials (what it would send as `auth`), or an `error`.
 */
export interface ReauthFrame {
  type: 'reauth';
  ref: number;
  ns?: string;
}

export type ClientFrame =
  | HelloFrame
  | ConnectFrame
  | DisconnectFrame
  | JoinFrame
  | LeaveFrame
  | HistoryFrame
  | PresenceRequestFrame
  | AckFrame
  | EventFrame
  | ReplyFrame
  | PingFrame
  | PongFrame;

export type ServerFrame =
  | WelcomeFrame
  | DisconnectFrame
  | EventFrame
  | ReplyFrame
  | PingFrame
  | PongFrame
  | ErrorFrame
  | ReauthFrame
  | PresenceFrame
  | PositionFrame;

export type Frame = ClientFrame | ServerFrame;
export type FrameType = Frame['type'];
