/**
 * What the document host needs of Switchboard: a namespace's connections, a socket's rooms
 * and listeners, and a room broadcast. `Switchboard`, `Namespace` and `Socket` fit these
 * shapes; the host's published types name only them, so `canEdit` still gets the app's own
 * socket type (with its `data`).
 */

/** A connection in the host's namespace (a Switchboard `Socket`). */
export interface DocumentSocket {
  /** The session id, also the socket's own room. */
  readonly id: string;
  /** False once the socket left its namespace. */
  readonly connected: boolean;
  /** The rooms it is in: it may use a document while it is in the document's room. */
  readonly rooms: ReadonlySet<string>;
  /** The host removes the socket's awareness states when it disconnects. */
  on(event: 'disconnect', listener: () => void): unknown;
  /** The host's handlers of the yjs:* events. */
  // biome-ignore lint/suspicious/noExplicitAny: the app's Socket types its events' data; the host checks what arrives itself
  on(event: string, handler: (data: any) => unknown): unknown;
  /** close() removes the host's handlers. */
  // biome-ignore lint/suspicious/noExplicitAny: as for on()
  off(event: string, handler?: (data: any) => unknown): unknown;
}

/** A room broadcast (a Switchboard `BroadcastOperator`). */
export interface DocumentBroadcast {
  /** Leave out the sender (its own room). */
  except(room: string): DocumentBroadcast;
  /** Send to the room on every node of the cluster. */
  emit(event: string, data: unknown): unknown;
}

/** The namespace documents live in (a Switchboard `Namespace`, such as `sb.of('/docs')`). */
export interface DocumentNamespace<S extends DocumentSocket> {
  /** Sockets connected before the host was made: served too. */
  readonly sockets: ReadonlyMap<string, S>;
  /** The host serves every socket that connects. */
  on(event: 'connection', listener: (socket: S) => void): unknown;
  /** close() stops serving new sockets. */
  off(event: 'connection', listener: (socket: S) => void): unknown;
  /** A broadcast to a document's room. */
  to(room: string): DocumentBroadcast;
}

/** A Switchboard: its root namespace is `sockets`. */
export interface DocumentServer<S extends DocumentSocket> {
  /** The root namespace. */
  readonly sockets: DocumentNamespace<S>;
}
