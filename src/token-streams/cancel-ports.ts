/**
 * What `acceptTokenStreamCancels()` needs of Switchboard: a namespace's connections, a
 * socket's rooms and handlers, and the server events between nodes. `Switchboard`,
 * `Namespace` and `Socket` fit these shapes; the published types name only these, so that
 * `authorize` gets the app's own socket type (with its `data`).
 */

/** A connection of the namespace (a Switchboard `Socket`). */
export interface CancelSocket {
  /** The session id. */
  readonly id: string;
  /** The rooms it is in: by default a socket may cancel the messages of the rooms it is in. */
  readonly rooms: ReadonlySet<string>;
  /** Its handler is forgotten when it disconnects. */
  on(event: 'disconnect', listener: () => void): unknown;
  /** The handler of `token-stream:cancel` requests. */
  // biome-ignore lint/suspicious/noExplicitAny: the app's Socket types its events' data; the handler checks what arrives itself
  on(event: string, handler: (data: any) => unknown): unknown;
  /** Stopping removes the handler. */
  // biome-ignore lint/suspicious/noExplicitAny: as for on()
  off(event: string, handler?: (data: any) => unknown): unknown;
}

/** A namespace (a Switchboard `Namespace`, such as `sb.of('/ai')`). */
export interface CancelNamespace<S extends CancelSocket> {
  /** Its name, `/` for the root namespace. */
  readonly name: string;
  /** Sockets connected before the call: served too. */
  readonly sockets: ReadonlyMap<string, S>;
  /** Every socket that connects is served. */
  on(event: 'connection', listener: (socket: S) => void): unknown;
  /** Stopping serves no new socket. */
  off(event: 'connection', listener: (socket: S) => void): unknown;
}

/** A Switchboard: its namespaces, and the server events of its cluster. */
export interface CancelServer<S extends CancelSocket> {
  /** The namespace `name`. */
  of(name: string): CancelNamespace<S>;
  /** Ask the other nodes (to find the node that streams the message). */
  serverSideEmitWithAck(event: string, data?: unknown): Promise<unknown[]>;
  /** Answer the other nodes. */
  onServerEvent(event: string, handler: (data: unknown) => unknown): unknown;
}
