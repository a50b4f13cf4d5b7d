import { encodeFrame } from '../protocol/codec.js';
import { MAX_NAME_LENGTH, RESERVED_EVENTS, ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { AnyEvents, EventData, EventMap, EventNames } from '../protocol/event-map.js';
import type { EventFrame, StreamPosition } from '../protocol/frames.js';
import { streamKey, withPosition } from '../delivery/durable-rooms.js';
import type { RoomSequencer } from '../delivery/room-sequencer.js';
import type { HistoryLimits, StreamStore } from '../delivery/stream-store.js';
import { SharedFrame } from '../transport/shared-frame.js';
import type { RoomRegistry } from './rooms.js';

/** What a broadcast needs of a recipient: hand it a frame encoded and framed once for everyone. */
export interface Recipient {
  readonly id: string;
  deliver(frame: SharedFrame, volatile: boolean): void;
  /** A publication of a durable room: never dropped, but a recipient too far behind is cut off (4009). */
  deliverDurable(frame: SharedFrame): void;
}

/** What a pass over the recipients does with each. */
const Hand = { Count: 0, Deliver: 1, DeliverVolatile: 2, DeliverDurable: 3 } as const;
type Hand = (typeof Hand)[keyof typeof Hand];

/** What a broadcast needs of a namespace. */
export interface BroadcastScope<R extends Recipient> {
  readonly name: string;
  readonly sockets: ReadonlyMap<string, R>;
  readonly rooms: RoomRegistry<R>;
  /** History limits of a durable room; undefined for ordinary rooms. */
  durableLimits(room: string): HistoryLimits | undefined;
  readonly streams: DeliveryStreams;
  reportError(err: unknown, context: Record<string, unknown>): void;
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
export class BroadcastOperator<SE extends EventMap = AnyEvents, R extends Recipient = Recipient> {
  constructor(
    private readonly scope: BroadcastScope<R>,
    private readonly rooms: readonly string[] = [],
    private readonly exceptRooms: readonly string[] = [],
    private readonly isVolatile = false,
  ) {}

  /** Target a room (or several: members of any of them receive the event once). */
  to(room: string | readonly string[]): BroadcastOperator<SE, R> {
    return new BroadcastOperator(this.scope, this.rooms.concat(room), this.exceptRooms, this.isVolatile);
  }

  /** Same as `to`. */
  in(room: string | readonly string[]): BroadcastOperator<SE, R> {
    return this.to(room);
  }

  /** Leave out members of a room (a socket id is a room too). */
  except(room: string | readonly string[]): BroadcastOperator<SE, R> {
    return new BroadcastOperator(this.scope, this.rooms, this.exceptRooms.concat(room), this.isVolatile);
  }

  /** Skip recipients whose connection cannot take the event right now instead of queueing it. */
  get volatile(): BroadcastOperator<SE, R> {
    return new BroadcastOperator(this.scope, this.rooms, this.exceptRooms, true);
  }

  /**
   * Send to every selected socket. Returns the number of sockets it was handed to. For a
   * durable room this starts `publish()` and returns the room's current member count;
   * a failed append goes to the server's `error` event (await `publish()` to see it).
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
    return this.each(this.isVolatile ? Hand.DeliverVolatile : Hand.Deliver, new SharedFrame(encodeFrame(frame)));
  }

  /**
   * Publish to one durable room: append to its stream, then deliver to the members with
   * the position. Resolves with the position once appended and handed to the members.
   */
  publish<E extends EventNames<SE>>(event: E, data: EventData<SE, E>): Promise<StreamPosition> {
    try {
      return this.preparePublish(event, data)();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Check and encode now (throwing at the call), append and deliver in the room's sequence later. */
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
    const key = streamKey(this.scope.name, room);
    const { store, sequencer } = this.scope.streams;
    return () =>
      sequencer.run(key, async () => {
        const pos = await store.append(key, payload, limits);
        this.each(Hand.DeliverDurable, new SharedFrame(withPosition(payload, pos.epoch, pos.offset)));
        return pos;
      });
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
  private each(hand: Hand, frame: SharedFrame | undefined): number {
    const { sockets, rooms } = this.scope;
    const targets = this.rooms;
    let count = 0;
    if (targets.length === 0) {
      for (const r of sockets.values()) {
        if (this.excepted(r)) continue;
        handTo(r, hand, frame);
        count++;
      }
      return count;
    }
    for (let i = 0; i < targets.length; i++) {
      const held = rooms.held(targets[i] as string);
      if (held === undefined) continue;
      if (!(held instanceof Set)) {
        // A room of one (a socket's own room, a direct message).
        const r = held as R;
        if (this.excepted(r) || inEarlierRoom(rooms, targets, i, r)) continue;
        handTo(r, hand, frame);
        count++;
        continue;
      }
      for (const r of held as ReadonlySet<R>) {
        if (this.excepted(r) || inEarlierRoom(rooms, targets, i, r)) continue;
        handTo(r, hand, frame);
        count++;
      }
    }
    return count;
  }

  private excepted(r: R): boolean {
    const except = this.exceptRooms;
    for (let i = 0; i < except.length; i++) if (this.scope.rooms.has(except[i] as string, r)) return true;
    return false;
  }
}

function handTo(r: Recipient, hand: Hand, frame: SharedFrame | undefined): void {
  if (hand === Hand.Count) return;
  if (hand === Hand.DeliverDurable) r.deliverDurable(frame as SharedFrame);
  else r.deliver(frame as SharedFrame, hand === Hand.DeliverVolatile);
}

/** Whether `r` is in one of the target rooms before the i-th (so it was handed the frame there). */
function inEarlierRoom<R extends object>(rooms: RoomRegistry<R>, targets: readonly string[], i: number, r: R): boolean {
  for (let j = 0; j < i; j++) if (rooms.has(targets[j] as string, r)) return true;
  return false;
}

/** Same rule and code as the SDK: an event name the protocol would refuse is refused at the call. */
export function assertEmittable(event: string): void {
  if (typeof event !== 'string' || event.length === 0 || event.length > MAX_NAME_LENGTH) {
    throw new SwitchboardError(ErrorCode.BadRequest, `event names are strings of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (RESERVED_EVENTS.has(event)) throw new SwitchboardError(ErrorCode.BadRequest, `"${event}" is a reserved event name and cannot be emitted`);
}
