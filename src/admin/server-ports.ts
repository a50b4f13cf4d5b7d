/**
 * What the admin dashboard needs of Switchboard: the public server API only. `Switchboard`
 * and `Namespace` fit these shapes whatever their event maps.
 */
import type { RouteHandler, ServerStats, SocketInfo, StatsOptions } from '../server/index.js';

/** A socket of the admin namespace. */
export interface AdminSocket {
  readonly id: string;
  readonly handshake: { readonly auth: unknown };
  // biome-ignore lint/suspicious/noExplicitAny: the app's server types its events; the dashboard sends its own
  emit(event: any, data: any): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: as for emit()
  on(event: any, handler: (data: any) => unknown): unknown;
}

/** A selection of sockets (a `BroadcastOperator`). */
export interface AdminBroadcast {
  // biome-ignore lint/suspicious/noExplicitAny: as for AdminSocket.emit()
  emit(event: any, data: any): unknown;
  fetchSockets(): Promise<SocketInfo[]>;
  disconnectSockets(close?: boolean): Promise<void>;
}

/** A namespace (a Switchboard `Namespace`). */
export interface AdminNamespace {
  use(fn: (socket: AdminSocket, next: (err?: Error) => void) => void | Promise<void>): unknown;
  on(event: 'connection', listener: (socket: AdminSocket) => void): unknown;
  /** This node's sockets. */
  readonly sockets: { readonly size: number };
  /** This node's sockets only. */
  readonly local: AdminBroadcast;
  in(room: string): AdminBroadcast;
  /** The namespace's sockets on every node. */
  fetchSockets(): Promise<SocketInfo[]>;
}

/** The server (a `Switchboard`). */
export interface AdminServer {
  route(path: string, handler: RouteHandler): unknown;
  readonly clientPaths: { path: string } | undefined;
  stats(options?: StatsOptions): ServerStats;
  of(name: string): AdminNamespace;
  serverSideEmitWithAck(event: string, data?: unknown): Promise<unknown[]>;
  onServerEvent(event: string, handler: (data: unknown) => unknown): unknown;
  offServerEvent(event: string, handler?: (data: unknown) => unknown): unknown;
  reportError(err: unknown, context: Record<string, unknown>): void;
}
