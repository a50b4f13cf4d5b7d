import { encodeFrame } from '../protocol/codec.js';
import { MAX_NAME_LENGTH, RESERVED_EVENTS, ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { AnyEvents, EventData, EventMap, EventNames } from '../protocol/event-map.js';
import type { EventFrame, StreamPosition } from '../protocol/frames.js';
import { streamKey, withPosition } from '../delivery/durable-rooms.js';
import type { RoomSequencer } from '../delivery/room-sequencer.js';
import type { HistoryLimits, StreamStore } from '../delivery/stream-store.js';
import type { RoomRegistry } from './rooms.js';

/** What a broadcast needs of a recipient: hand it bytes already encoded for everyone. */
export interface Recipient {
  readonly id: string;
  deliver(frame: Uint8Array, volatile: boolean): void;
  /** A publication of a durable room: never dropped, but a recipient too far behind is cut off (4009). */
  deliverDurable(frame: Uint8Array): void;
}

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
 * operator — ending in `emit`, which encodes the frame once for all recipients.
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
      let count = 0;
      for (const _ of this.recipients()) count++;
      return count;
    }
    const frame: EventFrame = { type: 'event', event, data };
    if (this.scope.name !== ROOT_NAMESPACE) frame.ns = this.scope.name;
    if (this.rooms.length === 1) frame.room = this.rooms[0];
    const bytes = Buffer.from(encodeFrame(frame));
    let count = 0;
    for (const recipient of this.recipients()) {
      recipient.deliver(bytes, this.isVolatile);
      count++;
    }
    return count;
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
        const bytes = Buffer.from(withPosition(payload, pos.epoch, pos.offset));
        for (const recipient of this.recipients()) recipient.deliverDurable(bytes);
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

  /** The selected sockets, each once. */
  *recipients(): IterableIterator<R> {
    const { sockets, rooms } = this.scope;
    const excluded = (r: R): boolean => this.exceptRooms.some((room) => rooms.has(room, r));
    if (this.rooms.length === 0) {
      for (const r of sockets.values()) if (!excluded(r)) yield r;
      return;
    }
    if (this.rooms.length === 1) {
      const members = rooms.members(this.rooms[0] as string);
      if (members) for (const r of members) if (!excluded(r)) yield r;
      return;
    }
    const seen = new Set<R>();
    for (const room of this.rooms) {
      const members = rooms.members(room);
      if (!members) continue;
      for (const r of members) {
        if (seen.has(r) || excluded(r)) continue;
        seen.add(r);
        yield r;
      }
    }
  }
}

/** Same rule and code as the SDK: an event name the protocol would refuse is refused at the call. */
export function assertEmittable(event: string): void {
  if (typeof event !== 'string' || event.length === 0 || event.length > MAX_NAME_LENGTH) {
    throw new SwitchboardError(ErrorCode.BadRequest, `event names are strings of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (RESERVED_EVENTS.has(event)) throw new SwitchboardError(ErrorCode.BadRequest, `"${event}" is a reserved event name and cannot be emitted`);
}
