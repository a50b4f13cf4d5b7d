import type { HistoryReply, StreamPosition } from '../../protocol/frames.js';

/**
 * What the reader uses of a Switchboard client: a narrow port that `connect()`'s result and
 * `client.of(ns)` handles satisfy (typed or not), so the reader's published types do not
 * depend on the client's event maps.
 */
export interface TokenStreamClient {
  /** The namespace of the handle: part of the default storage key. */
  readonly namespace: string;
  /** A durable room was rejoined after a reconnect: `recovered: false` means the gap is gone from history. */
  on(event: 'recovery', listener: (info: { room: string; recovered: boolean }) => void): unknown;
  /** Listen to a server event (`token-stream:*`); `meta` carries its room and position. */
  // biome-ignore lint/suspicious/noExplicitAny: server events of any event map; the reader checks what it receives
  on(event: string, handler: (data: any, meta: any) => void): unknown;
  /** Stop listening. */
  // biome-ignore lint/suspicious/noExplicitAny: as for on()
  off(event: string, handler?: (...args: any[]) => void): unknown;
  /** Join the room (from a position); rejoined with `since` after every reconnect. */
  join(room: string, options?: { since?: StreamPosition }): Promise<{ position?: StreamPosition; recovered?: boolean }>;
  /** Read the room's history. */
  history(room: string, options?: { since?: StreamPosition; limit?: number }): Promise<HistoryReply>;
  /** Send a request and wait for its reply (`cancel()` sends `token-stream:cancel`). */
  // biome-ignore lint/suspicious/noExplicitAny: requests of any event map; the reader sends its own
  emitWithAck(event: string, ...args: any[]): Promise<unknown>;
  /** Leave the room (`close()`). */
  leave(room: string): Promise<void>;
}

/** Where a reader keeps its position and messages across page reloads: `sessionStorage`, or anything with the same two methods. */
export interface TokenStreamStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
