/**
 * What the provider uses of a Switchboard client: a narrow port that `connect()`'s result
 * and `client.of()` handles satisfy (typed or not), so the provider's published types do not
 * depend on the client's event maps.
 */
export interface DocumentClient {
  /** True while the namespace is connected. */
  readonly connected: boolean;
  /** Rooms asked for with join() and not left: the client rejoins them after every reconnect. */
  readonly rooms: ReadonlySet<string>;
  /** Listen to `connect` and `disconnect`. */
  on(event: 'connect' | 'disconnect', listener: () => void): unknown;
  /** Listen to a server event (`yjs:update`, `yjs:awareness`). */
  // biome-ignore lint/suspicious/noExplicitAny: server events of any event map; the provider checks what it receives
  on(event: string, handler: (data: any) => void): unknown;
  /** Stop listening to `connect` or `disconnect`. */
  off(event: 'connect' | 'disconnect', listener?: () => void): unknown;
  /** Stop listening to a server event. */
  // biome-ignore lint/suspicious/noExplicitAny: as for on()
  off(event: string, handler?: (data: any) => void): unknown;
  /** Send an event (awareness). */
  emit(event: string, data: unknown): void;
  /** Send a request (`yjs:sync`, `yjs:update`) and await the reply. */
  emitWithAck(event: string, data: unknown): Promise<unknown>;
  /** Join a room, rejoined after every reconnect until left. */
  join(room: string): Promise<unknown>;
  /** Leave a room. */
  leave(room: string): Promise<void>;
}
