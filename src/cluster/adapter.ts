import type { StreamPosition } from '../protocol/frames.js';
// A leaf of plain data types (the numbers' contract), not server code.
import type { HistoryLimits, StreamStore } from '../delivery/stream-store.js';
import type { PresenceStore } from './presence-store.js';
import type { SessionStore } from './session-store.js';

/**
 * A broadcast as it travels between nodes: the selection and the frame, encoded once by
 * the node that sent it and never re-encoded by the nodes that deliver it.
 */
export interface ClusterBroadcast {
  ns: string;
  rooms: readonly string[];
  except: readonly string[];
  volatile: boolean;
  /** The encoded event frame. */
  frame: string;
}

/** A durable room's publication, as every node delivers it to its members. */
export interface ClusterPublication {
  ns: string;
  room: string;
  /** The stream key (streamKey(ns, room)). */
  stream: string;
  position: StreamPosition;
  /** The encoded event frame without `position`. */
  payload: string;
  /** Rooms (a socket id is one) whose members the publication leaves out of live delivery: they get a `position` frame instead. */
  except?: readonly string[];
}

/** A durable publication to make: where, what, and how much history its room keeps. */
export interface PublishRequest {
  ns: string;
  room: string;
  stream: string;
  payload: string;
  limits: HistoryLimits;
  /** Rooms whose members live delivery leaves out (see ClusterPublication.except); stored with the publication. */
  except?: readonly string[];
}

/** A question every node answers about its own sockets (see ClusterNode.answer). */
export type ClusterQuery =
  | { kind: 'sockets'; ns: string; rooms: readonly string[]; except: readonly string[] }
  | { kind: 'join' | 'leave'; ns: string; rooms: readonly string[]; except: readonly string[]; target: readonly string[] }
  | { kind: 'disconnect'; ns: string; rooms: readonly string[]; except: readonly string[]; close: boolean }
  /** disconnectUser(): close the connections of the selected sockets with 4010 `user_disconnected`. */
  | { kind: 'disconnect-user'; ns: string; rooms: readonly string[]; except: readonly string[] }
  /** An event for the servers themselves (serverSideEmit): each node's handler answers. */
  | { kind: 'server-event'; event: string; data: unknown };

/** The queries about a namespace's sockets. */
export type SocketQuery = Exclude<ClusterQuery, { kind: 'server-event' }>;

/** What a node gives its adapter: where messages from other nodes go. */
export interface ClusterNode {
  /** A broadcast another node sent. */
  broadcast(message: ClusterBroadcast): void;
  /** A durable publication, from any node including this one, in stream order per room (gaps are possible after a lost link: the receiver fills them from the stream store). */
  publication(publication: ClusterPublication): void;
  /** Answer a query about this node's sockets (and act on it, for join/leave/disconnect), or run a server event's handler; may resolve later. */
  answer(query: ClusterQuery): unknown;
  /** The link to the other nodes came back after a loss: catch up on what durable rooms missed meanwhile. */
  resync?(): void;
  /** Another node took over session `sid`: end this node's copy, if it has one. */
  sessionMoved?(sid: string): void;
  /** A request another node forwarded to this one (see ClusterAdapter.forward); what it resolves with goes back. */
  forwarded?(request: unknown): Promise<unknown>;
  /**
   * Where the adapter logs trouble with its connections (`error`), their recovery (`info`)
   * and what only explains a number (`debug`: the Redis adapter's node count failing):
   * the server's `logger`, given only when the app set one. Absent: the adapter's own default
   * (the Redis adapter writes errors and recoveries to stderr, nothing at debug). An
   * adapter's own `onError` option wins over both for connection trouble.
   */
  log?(level: 'error' | 'info' | 'debug', fields: Record<string, unknown>, message: string): void;
}

/** What the cluster adapter reports of itself (all zeros / undefined on the in-memory adapter's single node). */
export interface ClusterStats {
  /** Nodes the adapter knows to be alive, this one included; undefined when it cannot tell. */
  nodes: number | undefined;
  /** Messages from other nodes received on the bus, with the sum and last of their lag (receive time minus send time, seconds). */
  busMessages: number;
  busLagSecondsSum: number;
  busLagSecondsLast: number;
  /** Errors of the adapter's connections (Redis errors), since the start. */
  errors: number;
}

/**
 * How the nodes of a cluster share broadcasts, durable streams, presence and queries. The
 * in-memory adapter (the default) is a cluster of one; `switchboard/redis` spans processes.
 */
export interface ClusterAdapter {
  /** This node's id, unique in the cluster. */
  readonly nodeId: string;
  /** Streams of durable rooms; positions are cluster-wide when the store is shared. */
  readonly streams: StreamStore;
  /** Who is in which room, by user, across the cluster. */
  readonly presence: PresenceStore;
  /** Sessions any node can take over; undefined when sessions live only in their node's memory. */
  readonly sessions?: SessionStore;
  /** Start receiving; resolves once this node hears what the others send. */
  start(node: ClusterNode): Promise<void>;
  /** Hand a broadcast to the other nodes (this node delivers its own). Fire and forget: at most once. */
  broadcast(message: ClusterBroadcast): void;
  /**
   * Append a durable publication. Every node, this one included, receives it through
   * `ClusterNode.publication`. Rejects (`cluster_unavailable`) when it could not be stored:
   * then no node delivers it.
   */
  publish(request: PublishRequest): Promise<StreamPosition>;
  /** Ask every other node; resolves with their answers (this node answers its own). Rejects with `timeout` when one does not answer. */
  query(query: ClusterQuery, timeoutMs: number): Promise<unknown[]>;
  /**
   * Send a request to one node and resolve with its answer (reject `timeout` when none
   * comes in `timeoutMs`); without `timeoutMs`, a notice that is not answered. The HTTP
   * transports use it to reach the node that holds a connection.
   */
  forward?(node: string, request: unknown, timeoutMs?: number): Promise<unknown>;
  /** Tell the other nodes this node took over session `sid`. */
  announceTakeover?(sid: string): void;
  /** Stop; leave the cluster cleanly. */
  close(): Promise<void>;
  /** The adapter's own numbers, read at call time (`Switchboard.stats().cluster`); optional: without it the server reports `nodes: undefined` and zeros. */
  stats?(): ClusterStats;
}
