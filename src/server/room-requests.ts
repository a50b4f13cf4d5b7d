import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload, HistoryFrame, JoinFrame, JoinReply, LeaveFrame, PresenceReply, PresenceRequestFrame } from '../protocol/frames.js';
import { isUserRoom, userRoom } from '../protocol/user-rooms.js';
import type { SharedFrame } from '../transport/shared-frame.js';
import type { DurableFeed } from './durable-feed.js';
import type { ResolvedOptions } from './options.js';
import type { AnySocket } from './socket.js';

/** What a client's room requests need from its session. */
export interface RoomRequestsHost {
  readonly options: ResolvedOptions;
  readonly feed: DurableFeed;
  /** Whether `room` is a session's private room (its id), anywhere in the cluster. */
  isPrivateRoom(room: string): Promise<boolean>;
  /** The socket of the frame's namespace, or undefined after answering `namespace_not_connected`. */
  socketFor(ns: string | undefined, ref: number): AnySocket | undefined;
  reply(ref: number, data: unknown): void;
  replyError(ref: number, error: ErrorPayload): void;
  errorFromHandler(err: unknown, context: Record<string, unknown>): ErrorPayload;
  /** An app decision that holds later frames, bounded by the handshake timeout. */
  bounded<T>(decision: Promise<T>, what: string): Promise<T>;
  /** Count a read (history, presence) against `maxPendingRequests`; false after answering `too_many_pending`. */
  readStarted(ref: number): boolean;
  readFinished(): void;
  /** Send one publication of a durable room's replay. */
  replay(frame: SharedFrame): void;
  /** The client was refused a room by authorization (`code` as it was told): for the server's count, recent refusals and log. */
  refused(namespace: string, room: string, code: string): void;
}

/**
 * A client's requests about rooms, in one session: join (with the replay of a durable
 * room's gap), leave, history and presence. Every session id is a private room in every
 * namespace: no other client joins it, reads its history or its presence. A user room is
 * its user's: their own sockets are admitted without authorizeJoin, every other socket is
 * refused before it runs (a socket without a user included).
 */
export class RoomRequests {
  constructor(private readonly host: RoomRequestsHost) {}

  async join(frame: JoinFrame): Promise<void> {
    const { host } = this;
    const socket = host.socketFor(frame.ns, frame.ref);
    if (!socket) return;
    const { room } = frame;
    if (room !== socket.id && (await host.isPrivateRoom(room))) {
      this.refuse(socket, frame.ref, room, { code: ErrorCode.Forbidden, message: 'a socket id room cannot be joined by another client' });
      return;
    }
    const userAccess = userRoomAccess(socket, room);
    if (userAccess === 'refused') {
      this.refuse(socket, frame.ref, room, { code: ErrorCode.Forbidden, message: userRoomRefusal(socket, room) });
      return;
    }
    if (this.overRoomLimit(socket, room, frame.ref)) return;
    let allowed: boolean;
    try {
      allowed = userAccess === 'own' || (await host.bounded(socket.nsp.mayJoin(socket, room), `authorizeJoin for room "${room}"`));
    } catch (err) {
      const error = host.errorFromHandler(err, { room });
      // A coded error is the authorizer's answer (or its timeout); anything else is a bug, reported as one.
      if (error.code === ErrorCode.InternalError) host.replyError(frame.ref, error);
      else this.refuse(socket, frame.ref, room, error);
      return;
    }
    if (!socket.connected) return;
    if (!allowed) {
      this.refuse(socket, frame.ref, room, { code: ErrorCode.Forbidden, message: `not allowed to join room "${room}"` });
      return;
    }
    // Checked again: the app may have joined the socket to rooms while authorizeJoin ran.
    if (this.overRoomLimit(socket, room, frame.ref)) return;
    const limits = socket.nsp.durableLimits(room);
    if (!limits) {
      socket.join(room);
      host.reply(frame.ref, { room } satisfies JoinReply);
      return;
    }
    // In the room's sequence: no publication can slip between the replay and the membership.
    try {
      const joined = await host.feed.join(socket.nsp.name, room, frame.since, limits, {
        recipient: socket,
        get connected() {
          return socket.connected;
        },
        replay: (replayed) => host.replay(replayed),
        enter: () => socket.join(room),
      });
      if (joined) host.reply(frame.ref, { room, durable: true, ...joined } satisfies JoinReply);
    } catch (err) {
      // A failing store must not leave the join unanswered.
      host.replyError(frame.ref, host.errorFromHandler(err, { room }));
    }
  }

  leave(frame: LeaveFrame): void {
    const socket = this.host.socketFor(frame.ns, frame.ref);
    if (!socket) return;
    if (frame.room === socket.id) {
      this.host.replyError(frame.ref, { code: ErrorCode.BadRequest, message: 'a socket cannot leave the room named by its own id' });
      return;
    }
    // Its user room is how toUser, disconnectUser and userSessions find it: a client cannot slip out of it.
    if (socket.user !== undefined && frame.room === userRoom(socket.user)) {
      this.host.replyError(frame.ref, { code: ErrorCode.BadRequest, message: 'a socket cannot leave the room of its own user' });
      return;
    }
    socket.leave(frame.room);
    this.host.reply(frame.ref, { room: frame.room });
  }

  /**
   * Reading history is joining the past: the same authorization applies. It runs before the
   * durability check, so a refused client cannot learn which rooms keep history.
   */
  history(frame: HistoryFrame): Promise<void> {
    return this.read(frame.ns, frame.ref, frame.room, async (socket, room) => {
      await this.mayLookInto(socket, room, 'read');
      if (!socket.nsp.durableLimits(room)) throw new SwitchboardError(ErrorCode.NotDurable, `room "${room}" is not durable: it keeps no history`);
      return socket.nsp.history(room, { since: frame.since, limit: frame.limit });
    });
  }

  /** Who is in a room: for its members, and for those authorizeJoin would let in. */
  presence(frame: PresenceRequestFrame): Promise<void> {
    return this.read(frame.ns, frame.ref, frame.room, async (socket, room) => {
      if (!socket.rooms.has(room)) await this.mayLookInto(socket, room, 'see who is in');
      else if (room === socket.id) throw new SwitchboardError(ErrorCode.PresenceNotTracked, 'a socket id room has no presence');
      return { room, members: await socket.nsp.presence(room) } satisfies PresenceReply;
    });
  }

  /** A read runs concurrently with later frames (authorizeJoin, the store): it counts as a pending request. */
  private async read(ns: string | undefined, ref: number, room: string, answer: (socket: AnySocket, room: string) => Promise<unknown>): Promise<void> {
    const { host } = this;
    const socket = host.socketFor(ns, ref);
    if (!socket || !host.readStarted(ref)) return;
    try {
      host.reply(ref, await answer(socket, room));
    } catch (err) {
      host.replyError(ref, host.errorFromHandler(err, { room }));
    } finally {
      host.readFinished();
    }
  }

  private async mayLookInto(socket: AnySocket, room: string, what: string): Promise<void> {
    const userAccess = userRoomAccess(socket, room);
    if (userAccess === 'refused') throw this.refusal(socket, room, userRoomRefusal(socket, room));
    if (userAccess === 'own') return;
    if (room !== socket.id && (await this.host.isPrivateRoom(room))) throw this.refusal(socket, room, 'a socket id room is private');
    let allowed: boolean;
    try {
      allowed = await this.host.bounded(socket.nsp.mayJoin(socket, room), `authorizeJoin for room "${room}"`);
    } catch (err) {
      if (err instanceof SwitchboardError) this.host.refused(socket.nsp.name, room, err.code);
      throw err;
    }
    if (!allowed) throw this.refusal(socket, room, `not allowed to ${what} room "${room}"`);
  }

  /** A join refused by authorization: the client is told, and the server counts and logs it. */
  private refuse(socket: AnySocket, ref: number, room: string, error: ErrorPayload): void {
    this.host.refused(socket.nsp.name, room, error.code);
    this.host.replyError(ref, error);
  }

  /** A read refused `forbidden`, counted and logged as the join would be; the caller throws it to the client. */
  private refusal(socket: AnySocket, room: string, message: string): SwitchboardError {
    this.host.refused(socket.nsp.name, room, ErrorCode.Forbidden);
    return new SwitchboardError(ErrorCode.Forbidden, message);
  }

  /**
   * `maxRoomsPerSocket`: a client join of a new room when the socket is already in that
   * many (its private room not counted) is answered `too_many_rooms`. A room it is in
   * already does not count twice; server-side `socket.join()` is trusted and not limited.
   */
  private overRoomLimit(socket: AnySocket, room: string, ref: number): boolean {
    const rooms = socket.rooms;
    if (rooms.has(room)) return false;
    const max = this.host.options.maxRoomsPerSocket;
    if (rooms.size - (rooms.has(socket.id) ? 1 : 0) < max) return false;
    this.host.replyError(ref, { code: ErrorCode.TooManyRooms, message: `already in ${max} rooms of namespace "${socket.nsp.name}"; leave one first` });
    return true;
  }
}

/** For a user room: `own` when it is the socket's user's (admitted without authorizeJoin), `refused` otherwise; undefined for other rooms. */
export function userRoomAccess(socket: { readonly user: string | undefined }, room: string): 'own' | 'refused' | undefined {
  if (!isUserRoom(room)) return undefined;
  return socket.user !== undefined && room === userRoom(socket.user) ? 'own' : 'refused';
}

function userRoomRefusal(socket: AnySocket, room: string): string {
  return socket.user === undefined ? `room "${room}" is a user room and this socket has no user` : `room "${room}" is another user's room`;
}
