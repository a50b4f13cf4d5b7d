/**
 * What the document host needs of Switchboard: a namespace's connections, a socket's rooms
 * and listeners, and a room broadcast. `Switchboard`, `Namespace` and `Socket` fit these
 * shapes; the host's published types name only them, so `canEdit` still gets the app's own
 * socket type (with its `data`).
 */

/** A connection in the host's namespace (a Switchboard `Socket`). */
export interface DocumentSocket {
  readonly id: string;
  readonly connected: boolean;
  readonly rooms: ReadonlySet<string>;
  on(event: string, listener: (data: never) => unknown): unknown;
  off(event: string, listener?: (data: never) => unknown): unknown;
}

/** A room broadcast (a Switchboard `BroadcastOperator`). */
export interface DocumentBroadcast {
  except(room: string): DocumentBroadcast;
  emit(event: string, data: unknown): unknown;
}

/** The namespace documents live in (a Switchboard `Namespace`, such as `sb.of('/docs')`). */
export interface DocumentNamespace<S extends DocumentSocket> {
  readonly sockets: ReadonlyMap<string, S>;
  on(event: 'connection', listener: (socket: S) => void): unknown;
  off(event: 'connection', listener: (socket: S) => void): unknown;
  to(room: string): DocumentBroadcast;
}

/** A Switchboard: its root namespace is `sockets`. */
export interface DocumentServer<S extends DocumentSocket> {
  readonly sockets: DocumentNamespace<S>;
}
