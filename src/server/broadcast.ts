import { encodeFrame } from '../protocol/codec.js';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import { assertEmittable } from '../protocol/event-names.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { AnyEvents, EventData, EventMap, EventNames } from '../protocol/event-map.js';
import type { EventFrame, ServerFrame, StreamPosition } from '../protocol/frames.js';
import type { ClusterAdapter, PublishRequest, SocketQuery } from '../cluster/adapter.js';
import { streamKey } from '../delivery/durable-rooms.js';
import type { RoomSequencer } from '../delivery/room-sequencer.js';
import type { HistoryLimits, StreamStore } from '../delivery/stream-store.js';
import { userRooms } from '../protocol/user-rooms.js';
import { SharedFrame } from '../transport/shared-frame.js';
import type { ResumeLog } from './resume-log.js';
import type { RoomRegistry } from './rooms.js';
import type { ServerCounters } from './server-counters.js';

/** What a broadcast needs of a recipient: hand it a frame encoded and framed once for everyone. */
export interface Recipient {
  readonly id: string;
  deliver(frame: SharedFrame, volatile: boolean): void;
  /** A publication of a durable room: never dropped, but a recipient too far behind is cut off (4009). */
  deliverDurable(frame: SharedFrame): void;
  /** Publications of a durable room it is in were lost beyond history: cut it off (4009) so it rejoins and is told. */
  lostPublications(): void;
  /** What cluster-wide queries report of it. */
  describe(node: string): SocketInfo;
  join(room: string | readonly string[]): void;
  leave(room: string): void;
  disconnect(close?: boolean): unknown;
  /** Close its connection with 4010 `user_disconnected` (disconnectUser). */
  disconnectUser(): void;
}

/** What a pass over the recipients does with each. */
const Hand = { Count: 0, Deliver: 1, DeliverVolatile: 2, DeliverDurable: 3, Collect: 4 } as const;
type Hand = (typeof Hand)[keyof typeof Hand];

/** What a broadcast needs of a namespace. */
export interface BroadcastScope<R extends Recipient> {
  readonly name: string;
  readonly sockets: ReadonlyMap<string, R>;
  readonly rooms: RoomRegistry<R>;
  /** History limits of a durable room; undefined for ordinary rooms. */
  durableLimits(room: string): HistoryLimits | undefined;
  readonly streams: DeliveryStreams;
  /** The other nodes (the in-memory adapter has none). */
  readonly cluster: ClusterAdapter;
  /** Milliseconds cluster-wide queries wait for every node. */
  readonly clusterTimeout: number;
  /** Where broadcasts are kept for sessions waiting to be resumed. */
  readonly resumeLog: ResumeLog;
  /** The node's numbers: one increment per broadcast (deliveries are counted per connection by the outbox). */
  readonly counters: ServerCounters;
  reportError(err: unknown, context: Record<string, unknown>): void;
}

/** A socket as a cluster-wide query reports it, wherever it is connected. */
export interface SocketInfo {
  id: string;
  /** Namespace. */
  ns: string;
  /** Rooms it is in, including its own id. */
  rooms: string[];
  /** Its `socket.data` (as JSON: what JSON cannot carry is left out). */
  data: unknown;
  /** The node it is connected to. */
  node: string;
  /** Its `socket.user`, when middleware set one. */
  user?: string;
}

/** The stream store and the per-stream ordering shared by publications and joins. */
export interface DeliveryStreams {
  readonly store: StreamStore;
  readonly sequencer: RoomSequencer;
}

/**
 * An immutable selection of recipients — `to`, `except`, `volatile` each return a new
 * operator — ending in `emit`, which encodes and frames the message once for all
 * recipients. The pass over them is plain loops over the room sets: per recipient it
 * allocates nothing (the transport queues a reference to the shared frame).
 */
export class BroadcastOperator<SE extends EventMap = AnyEvents, R extends object = object> {
  /** @internal Operators come from a namespace, a socket or the server (`to`, `except`, ...). */
  constructor(
    private readonly scope: BroadcastScope<R & Recipient>,
    private readonly rooms: readonly string[] = [],
    private readonly exceptRooms: readonly string[] = [],
    private readonly isVolatile = false,
    private readonly isLocal = false,
  ) {}

  /** Target a room (or several: members of any of them receive the event once). */
  to(room: string | readonly string[]): BroadcastOperator<SE, R> {
    return new BroadcastOperator(this.scope, this.rooms.concat(room), this.exceptRooms, this.isVolatile, this.isLocal);
  }

  /** Same as `to`. */
  in(room: string | readonly string[]): BroadcastOperator<SE, R> {
    return this.to(room);
  }

  /**
   * Target every socket of a user (or of several), on every node: every tab and device
   * they are connected with. The same as `to(userRoom(id))`; a TypeError for an id that is
   * not 1 to 200 UTF-16 code units, and for an empty list (which `to` would take as everyone).
   */
  toUser(id: string | readonly string[]): BroadcastOperator<SE, R> {
    return this.to(userRooms(id));
  }

  /** Leave out members of a room (a socket id is a room too). */
  except(room: string | readonly string[]): BroadcastOperator<SE, R> {
    return new BroadcastOperator(this.scope, this.rooms, this.exceptRooms.concat(room), this.isVolatile, this.isLocal);
  }

  /** Skip recipients whose connection cannot take the event right now instead of queueing it. */
  get volatile(): BroadcastOperator<SE, R> {
    return new BroadcastOperator(this.scope, this.rooms, this.exceptRooms, true, this.isLocal);
  }

  /** Only this node's sockets: the event is not sent to the other nodes of the cluster. */
  get local(): BroadcastOperator<SE, R> {
    return new BroadcastOperator(this.scope, this.rooms, this.exceptRooms, this.isVolatile, true);
  }

  /**
   * Send to every selected socket, on every node. Returns the number of this node's
   * sockets it was handed to. For a durable room this starts `publish()` and returns the
   * room's current member count on this node; a failed append goes to the server's
   * `error` event (await `publish()` to see it).
   */
  emit<E extends EventNames<SE>>(event: E, data: EventData<SE, E>): number {
    assertEmittable(event);
    if (this.durableRoom() !== undefined) {
      // Bad data throws here, as for any emit; only a failing store goes to `error`.
      const append = this.preparePublish(event, data);
      append().catch((err: unknown) => this.scope.reportError(err, { room: this.rooms[0], event }));
      return this.each(Hand.Count, undefined);
    }
    const frame: EventFrame = { type: 'event', event, data };
    if (this.scope.name !== ROOT_NAMESPACE) frame.ns = this.scope.name;
    if (this.rooms.length === 1) frame.room = this.rooms[0];
    const encoded = encodeFrame(frame);
    if (!this.isLocal) this.scope.cluster.broadcast({ ns: this.scope.name, rooms: this.rooms, except: this.exceptRooms, volatile: this.isVolatile, frame: encoded });
    return this.deliverEncoded(encoded);
  }

  /** @internal Send a frame that is not an app event (presence) to the selected sockets on every node. */
  sendFrame(frame: ServerFrame): number {
    const encoded = encodeFrame(frame);
    if (!this.isLocal) this.scope.cluster.broadcast({ ns: this.scope.name, rooms: this.rooms, except: this.exceptRooms, volatile: this.isVolatile, frame: encoded });
    return this.deliverEncoded(encoded);
  }

  /** @internal A broadcast from another node: deliver it to this node's selected sockets. */
  deliverEncoded(encoded: string): number {
    const frame = new SharedFrame(encoded);
    this.scope.counters.broadcasts++;
    // Volatile events are not kept for anyone: a waiting session skips them.
    if (this.isVolatile) return this.each(Hand.DeliverVolatile, frame);
    const log = this.scope.resumeLog;
    if (log.active) log.append(this.scope.name, this.rooms, this.exceptRooms, frame);
    return this.each(Hand.Deliver, frame);
  }

  /**
   * Publish to one durable room: append to its stream (cluster-wide with a shared store),
   * then every node delivers it to its members with the position. Resolves with the
   * position once appended; rejects `cluster_unavailable` (nothing stored, nobody gets it)
   * when the store cannot be reached.
   */
  publish<E extends EventNames<SE>>(event: E, data: EventData<SE, E>): Promise<StreamPosition> {
    try {
      return this.preparePublish(event, data)();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Check and encode now (throwing at the call), append later. */
  private preparePublish(event: string, data: unknown): () => Promise<StreamPosition> {
    assertEmittable(event);
    const room = this.durableRoom();
    if (room === undefined) {
      throw new SwitchboardError(ErrorCode.BadRequest, 'publish() needs exactly one durable room: to(room) with a room made durable by durable()');
    }
    const frame: EventFrame = { type: 'event', event, data, room };
    if (this.scope.name !== ROOT_NAMESPACE) frame.ns = this.scope.name;
    const payload = encodeFrame(frame);
    const limits = this.scope.durableLimits(room) as HistoryLimits;
    const request: PublishRequest = { ns: this.scope.name, room, stream: streamKey(this.scope.name, room), payload, limits };
    // Live delivery leaves these members out (they get a `position` frame); the stream keeps the publication for everyone.
    if (this.exceptRooms.length > 0) request.except = this.exceptRooms;
    return () => this.scope.cluster.publish(request);
  }

  /** The selected sockets on every node (this one's without asking; `local` asks no other). Rejects `timeout` when a node does not answer. */
  async fetchSockets(): Promise<SocketInfo[]> {
    const query: SocketQuery = { kind: 'sockets', ns: this.scope.name, rooms: this.rooms, except: this.exceptRooms };
    const answers = await this.ask(query);
    return answers.flat() as SocketInfo[];
  }

  /** Make the selected sockets, on every node, join `room` (server-side: no authorization, no limit). */
  async socketsJoin(room: string | readonly string[]): Promise<void> {
    await this.ask({ kind: 'join', ns: this.scope.name, rooms: this.rooms, except: this.exceptRooms, target: typeof room === 'string' ? [room] : room });
  }

  /** Make the selected sockets, on every node, leave `room`. */
  async socketsLeave(room: string | readonly string[]): Promise<void> {
    await this.ask({ kind: 'leave', ns: this.scope.name, rooms: this.rooms, except: this.exceptRooms, target: typeof room === 'string' ? [room] : room });
  }

  /** Disconnect the selected sockets on every node (with `close`, their connections too). */
  async disconnectSockets(close = false): Promise<void> {
    await this.ask({ kind: 'disconnect', ns: this.scope.name, rooms: this.rooms, except: this.exceptRooms, close });
  }

  /** @internal disconnectUser(): close the connections of the selected sockets, on every node, with 4010 `user_disconnected`. */
  async disconnectUsers(): Promise<void> {
    await this.ask({ kind: 'disconnect-user', ns: this.scope.name, rooms: this.rooms, except: this.exceptRooms });
  }

  /** @internal Answer a cluster query about this node's selected sockets. */
  answer(query: SocketQuery, node: string): unknown {
    const selected: (R & Recipient)[] = [];
    this.each(Hand.Collect, undefined, selected);
    switch (query.kind) {
      case 'sockets':
        return selected.map((r) => r.describe(node));
      case 'join':
        for (const r of selected) r.join(query.target);
        return selected.length;
      case 'leave':
        for (const r of selected) for (const room of query.target) r.leave(room);
        return selected.length;
      case 'disconnect':
        for (const r of selected) r.disconnect(query.close);
        return selected.length;
      case 'disconnect-user':
        for (const r of selected) r.disconnectUser();
        return selected.length;
    }
  }

  private async ask(query: SocketQuery): Promise<unknown[]> {
    const own = this.answer(query, this.scope.cluster.nodeId);
    if (this.isLocal) return [own];
    const others = await this.scope.cluster.query(query, this.scope.clusterTimeout);
    return [own, ...others];
  }

  /** The target if it is one durable room. A durable room among several targets is refused: positions are per room. */
  private durableRoom(): string | undefined {
    if (this.rooms.length === 0) return undefined;
    const durable = this.rooms.filter((room) => this.scope.durableLimits(room) !== undefined);
    if (durable.length === 0) return undefined;
    if (this.rooms.length > 1) {
      throw new SwitchboardError(ErrorCode.BadRequest, `durable room "${durable[0]}" must be published to on its own: positions are per room`);
    }
    return durable[0];
  }

  /**
   * Hand `frame` to each selected socket once (or only count them); returns how many.
   * Members of several target rooms are taken in the first of them they are in: checking
   * the earlier rooms costs a lookup per room instead of a set of those already seen.
   */
  private each(hand: Hand, frame: SharedFrame | undefined, collected?: (R & Recipient)[]): number {
    const { sockets, rooms } = this.scope;
    const targets = this.rooms;
    let count = 0;
    if (targets.length === 0) {
      for (const r of sockets.values()) {
        if (this.excepted(r)) continue;
        handTo(r, hand, frame, collected);
        count++;
      }
      return count;
    }
    for (let i = 0; i < targets.length; i++) {
      const held = rooms.held(targets[i] as string);
      if (held === undefined) continue;
      if (!(held instanceof Set)) {
        // A room of one (a socket's own room, a direct message).
        const r = held as R & Recipient;
        if (this.excepted(r) || inEarlierRoom(rooms, targets, i, r)) continue;
        handTo(r, hand, frame, collected);
        count++;
        continue;
      }
      for (const r of held as ReadonlySet<R & Recipient>) {
        if (this.excepted(r) || inEarlierRoom(rooms, targets, i, r)) continue;
        handTo(r, hand, frame, collected);
        count++;
      }
    }
    return count;
  }

  private excepted(r: R & Recipient): boolean {
    const except = this.exceptRooms;
    for (let i = 0; i < except.length; i++) if (this.scope.rooms.has(except[i] as string, r)) return true;
    return false;
  }
}

function handTo<R extends Recipient>(r: R, hand: Hand, frame: SharedFrame | undefined, collected: R[] | undefined): void {
  if (hand === Hand.Count) return;
  if (hand === Hand.Collect) {
    collected?.push(r);
    return;
  }
  if (hand === Hand.DeliverDurable) r.deliverDurable(frame as SharedFrame);
  else r.deliver(frame as SharedFrame, hand === Hand.DeliverVolatile);
}

/** Whether `r` is in one of the target rooms before the i-th (so it was handed the frame there). */
function inEarlierRoom<R extends object>(rooms: RoomRegistry<R>, targets: readonly string[], i: number, r: R): boolean {
  for (let j = 0; j < i; j++) if (rooms.has(targets[j] as string, r)) return true;
  return false;
}
