/**
 * What the HTTP API needs of Switchboard: the public server API only. `Switchboard` and
 * `Namespace` fit these shapes whatever their event maps, so a standalone server (or a
 * test) can hand the API anything that does the same.
 */
import type { HistoryReply, PresenceMember, StreamPosition } from '../protocol/frames.js';
import type { SocketInfo } from '../server/broadcast.js';

/** A selection of recipients (a Switchboard `BroadcastOperator`). */
export interface ApiBroadcast {
  /** Leave out the members of these rooms. */
  except(room: string | readonly string[]): ApiBroadcast;
  /** Skip recipients that cannot take the event right now. */
  readonly volatile: ApiBroadcast;
  /** Send to the selected sockets on every node. */
  // biome-ignore lint/suspicious/noExplicitAny: the app's server types its events' data; the API checks only that it is JSON
  emit(event: string, data: any): unknown;
  /** Append to the one durable room targeted, then send; resolves with the position. */
  // biome-ignore lint/suspicious/noExplicitAny: as for emit()
  publish(event: string, data: any): Promise<StreamPosition>;
}

/** A namespace (a Switchboard `Namespace`). */
export interface ApiNamespace {
  /** The members of a room. */
  to(room: string): ApiBroadcast;
  /** Whether a room is durable (its broadcasts are publications with positions). */
  isDurable(room: string): boolean;
  /** The users present in a tracked room. */
  presence(room: string): Promise<PresenceMember[]>;
  /** A durable room's history. */
  history(room: string, options: { since?: StreamPosition; limit?: number }): Promise<HistoryReply>;
  /** Close every connection of a user in this namespace, on every node. */
  disconnectUser(user: string): Promise<void>;
  /** A user's sockets in this namespace, on every node. */
  userSessions(user: string): Promise<SocketInfo[]>;
}

/** The server (a `Switchboard`). */
export interface ApiServer {
  /** True once close() was called: the API answers `shutting_down`. */
  readonly closing: boolean;
  /** The namespace `name` ("/" is the root). */
  of(name: string): ApiNamespace;
  /** Every connection of a user, in every namespace, on every node. */
  disconnectUser(user: string): Promise<void>;
  /** A user's sockets in every namespace, on every node. */
  userSessions(user: string): Promise<SocketInfo[]>;
  /** Where failures that are not the caller's go (the server's `error` event). */
  reportError(err: unknown, context: Record<string, unknown>): void;
}
