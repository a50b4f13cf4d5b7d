import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { encodeFrame } from '../../protocol/codec.js';
import { ROOT_NAMESPACE } from '../../protocol/constants.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { SwitchboardError } from '../../protocol/errors.js';
import { assertEmittable } from '../../protocol/event-names.js';
import type { EventFrame, StreamPosition } from '../../protocol/frames.js';
import { isUserRoom, userRooms } from '../../protocol/user-rooms.js';
import { DurableRooms, type RoomMatcher, streamKey } from '../../delivery/durable-rooms.js';
import type { HistoryLimits } from '../../delivery/stream-store.js';
import { encodeBroadcast, publicationHeader } from './bus-message.js';
import { GuardedStreamStore, unavailable } from './guarded-stream-store.js';
import { RedisStreamStore } from './redis-stream-store.js';

export interface EmitterOptions {
  /** The prefix the servers' RedisAdapter uses. Default 'sb'. */
  prefix?: string;
  /** Milliseconds a Redis command may take. Default 5000. */
  commandTimeout?: number;
}

/**
 * Sends events to a cluster's sockets from a process that holds no connections — an HTTP
 * handler, a worker, a cron job: `emitter.to('user:42').emit('order', order)`. Events go
 * over the same bus as the servers' broadcasts. Declare the durable rooms the servers
 * declare (`durable()`): publications to them are appended to the room's stream first,
 * so members that were away recover them. Every send resolves once Redis took it, and
 * rejects `cluster_unavailable` when Redis cannot be reached: nothing is queued.
 */
export class Emitter {
  private readonly redis: Redis;
  private readonly streams: GuardedStreamStore;
  private readonly bus: string;
  /** Broadcasts carry a sender id; no node has this one, so every node delivers. */
  private readonly id = `emitter-${randomBytes(6).toString('base64url')}`;
  private readonly namespaces = new Map<string, EmitterNamespace>();

  /** `connection`: a Redis URL, or an ioredis client whose settings are copied. */
  constructor(connection: string | Redis, options: EmitterOptions = {}) {
    const prefix = options.prefix ?? 'sb';
    // As the adapter's: nothing queued while Redis is away, nothing in flight re-sent (it may have run).
    const ours = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: options.commandTimeout ?? 5000 };
    this.redis = typeof connection === 'string' ? new Redis(connection, ours) : connection.duplicate(ours);
    // Connection errors surface as rejected sends; the client retries on its own.
    this.redis.on('error', () => {});
    this.bus = `${prefix}:bus`;
    this.streams = new GuardedStreamStore(new RedisStreamStore(this.redis, { prefix }));
  }

  /** The namespace called `name`. */
  of(name: string): EmitterNamespace {
    if (!name.startsWith('/')) throw new TypeError(`namespace names start with "/", got "${name}"`);
    let nsp = this.namespaces.get(name);
    if (!nsp) this.namespaces.set(name, (nsp = new EmitterNamespace(name, this)));
    return nsp;
  }

  /** Durable rooms of the root namespace: declare the same as the servers. */
  durable(rooms: RoomMatcher, limits: Partial<HistoryLimits> = {}): this {
    this.of(ROOT_NAMESPACE).durable(rooms, limits);
    return this;
  }

  /** Durable user rooms of the root namespace (see Namespace.durableUsers): declare the same as the servers. */
  durableUsers(limits: Partial<HistoryLimits> = {}): this {
    this.of(ROOT_NAMESPACE).durableUsers(limits);
    return this;
  }

  to(room: string | readonly string[]): EmitterOperator {
    return this.of(ROOT_NAMESPACE).to(room);
  }

  /** Every socket of these users in the root namespace, on every node: `to(userRoom(id))`. */
  toUser(id: string | readonly string[]): EmitterOperator {
    return this.of(ROOT_NAMESPACE).toUser(id);
  }

  except(room: string | readonly string[]): EmitterOperator {
    return this.of(ROOT_NAMESPACE).except(room);
  }

  /** To every socket of the root namespace on every node. */
  emit(event: string, data?: unknown): Promise<void> {
    return this.of(ROOT_NAMESPACE).emit(event, data);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** @internal */
  async send(message: { ns: string; rooms: readonly string[]; except: readonly string[]; volatile: boolean; frame: string }): Promise<void> {
    await this.connected();
    await this.redis.publish(this.bus, encodeBroadcast(this.id, message)).catch((err: unknown) => {
      throw unavailable(err, 'an emit');
    });
  }

  /** @internal */
  async append(ns: string, room: string, payload: string, limits: HistoryLimits, except: readonly string[]): Promise<StreamPosition> {
    await this.connected();
    const stream = streamKey(ns, room);
    const header = publicationHeader(ns, room, stream, except);
    return this.streams.append(stream, payload, limits, { announce: { channel: this.bus, header }, except });
  }

  /** Connect on first use; later, a lost connection fails sends at once while ioredis reconnects. */
  private async connected(): Promise<void> {
    if (this.redis.status !== 'wait') return;
    try {
      await this.redis.connect();
    } catch (err) {
      throw unavailable(err, 'connect');
    }
  }
}

/** One namespace of an Emitter, with its durable rooms. */
export class EmitterNamespace {
  /** @internal */
  readonly rules = new DurableRooms();

  /** @internal */
  readonly emitter: Emitter;

  constructor(
    readonly name: string,
    emitter: Emitter,
  ) {
    this.emitter = emitter;
  }

  durable(rooms: RoomMatcher, limits: Partial<HistoryLimits> = {}): this {
    this.rules.add(rooms, limits);
    return this;
  }

  /** Every user room durable: declare the same as the servers' durableUsers(). */
  durableUsers(limits: Partial<HistoryLimits> = {}): this {
    return this.durable(isUserRoom, limits);
  }

  to(room: string | readonly string[]): EmitterOperator {
    return new EmitterOperator(this).to(room);
  }

  /** Every socket of these users in this namespace, on every node: `to(userRoom(id))`. */
  toUser(id: string | readonly string[]): EmitterOperator {
    return new EmitterOperator(this).toUser(id);
  }

  except(room: string | readonly string[]): EmitterOperator {
    return new EmitterOperator(this).except(room);
  }

  emit(event: string, data?: unknown): Promise<void> {
    return new EmitterOperator(this).emit(event, data);
  }
}

/** A selection of sockets across the cluster, as BroadcastOperator on a server. */
export class EmitterOperator {
  constructor(
    private readonly nsp: EmitterNamespace,
    private readonly rooms: readonly string[] = [],
    private readonly exceptRooms: readonly string[] = [],
    private readonly isVolatile = false,
  ) {}

  to(room: string | readonly string[]): EmitterOperator {
    return new EmitterOperator(this.nsp, this.rooms.concat(room), this.exceptRooms, this.isVolatile);
  }

  in(room: string | readonly string[]): EmitterOperator {
    return this.to(room);
  }

  /** Every socket of these users: `to(userRoom(id))`; a TypeError for an id that is not 1 to 200 UTF-16 code units, or an empty list. */
  toUser(id: string | readonly string[]): EmitterOperator {
    return this.to(userRooms(id));
  }

  except(room: string | readonly string[]): EmitterOperator {
    return new EmitterOperator(this.nsp, this.rooms, this.exceptRooms.concat(room), this.isVolatile);
  }

  get volatile(): EmitterOperator {
    return new EmitterOperator(this.nsp, this.rooms, this.exceptRooms, true);
  }

  /** Send to the selected sockets on every node; to a durable room this is publish(). Resolves once Redis took it. */
  async emit(event: string, data?: unknown): Promise<void> {
    assertEmittable(event);
    if (this.durableRoom() !== undefined) {
      await this.publish(event, data);
      return;
    }
    const frame: EventFrame = { type: 'event', event, data };
    if (this.nsp.name !== ROOT_NAMESPACE) frame.ns = this.nsp.name;
    if (this.rooms.length === 1) frame.room = this.rooms[0];
    const encoded = encodeFrame(frame);
    await this.nsp.emitter.send({ ns: this.nsp.name, rooms: this.rooms, except: this.exceptRooms, volatile: this.isVolatile, frame: encoded });
  }

  /** Publish to one durable room: appended to its stream, then delivered by every node with its position. */
  async publish(event: string, data?: unknown): Promise<StreamPosition> {
    assertEmittable(event);
    const room = this.durableRoom();
    if (room === undefined) throw new SwitchboardError(ErrorCode.BadRequest, 'publish() needs exactly one durable room: to(room) with a room made durable by durable()');
    const frame: EventFrame = { type: 'event', event, data, room };
    if (this.nsp.name !== ROOT_NAMESPACE) frame.ns = this.nsp.name;
    return this.nsp.emitter.append(this.nsp.name, room, encodeFrame(frame), this.nsp.rules.limitsFor(room) as HistoryLimits, this.exceptRooms);
  }

  private durableRoom(): string | undefined {
    const durable = this.rooms.filter((room) => this.nsp.rules.limitsFor(room) !== undefined);
    if (durable.length === 0) return undefined;
    if (this.rooms.length > 1) throw new SwitchboardError(ErrorCode.BadRequest, `durable room "${durable[0]}" must be published to on its own: positions are per room`);
    return durable[0];
  }
}
