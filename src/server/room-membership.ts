import { RoomRegistry } from './rooms.js';

/** A socket as room membership sees it. */
export interface RoomMember {
  readonly id: string;
  /** In its namespace: only then can it join rooms. */
  readonly connected: boolean;
  /**
   * @internal Its rooms, its own id included; undefined while it is in its own room only
   * (most sockets: no set for them). Written by RoomMembership alone.
   */
  joinedRooms: Set<string> | undefined;
}

/** What a change of rooms tells the member's session. */
export interface MembershipSession {
  /** Before the change (a session waiting to be resumed settles what it was given so far). */
  membershipChanging(): void;
  /** After a change: the session's snapshot is out of date. */
  changed(): void;
}

/** Who hears of members entering and leaving rooms (presence). */
export interface MembershipListener<M> {
  entered(member: M, room: string): void;
  left(member: M, room: string): void;
}

/**
 * Who is in which room of one namespace — the one place that changes it. Each change
 * goes to both records, in step: the namespace's registry (room → members, read by
 * broadcasts) and the member's own set (member → rooms, read by `socket.rooms`); and
 * presence and the member's session hear of it.
 */
export class RoomMembership<M extends RoomMember> {
  /** Room → members, for broadcasts (`nsp.rooms`). */
  readonly registry = new RoomRegistry<M>();

  constructor(private readonly listener: MembershipListener<M>) {}

  /** The rooms `member` is in, its own id included. */
  roomsOf(member: M): ReadonlySet<string> {
    return this.roomSet(member);
  }

  /** The rooms to save for another node: all but its own. */
  saved(member: M): string[] {
    return member.joinedRooms ? [...member.joinedRooms].filter((room) => room !== member.id) : [];
  }

  join(member: M, session: MembershipSession, rooms: string | readonly string[]): void {
    if (!member.connected) return;
    session.membershipChanging();
    for (const room of typeof rooms === 'string' ? [rooms] : rooms) {
      if (room !== member.id || member.joinedRooms) this.roomSet(member).add(room);
      if (this.registry.add(room, member)) {
        this.listener.entered(member, room);
        session.changed();
      }
    }
  }

  leave(member: M, session: MembershipSession, room: string): void {
    session.membershipChanging();
    if (room === member.id || member.joinedRooms) this.roomSet(member).delete(room);
    if (this.registry.remove(room, member)) {
      this.listener.left(member, room);
      session.changed();
    }
  }

  /** The member left the namespace: out of every room. */
  leaveAll(member: M): void {
    if (member.joinedRooms) {
      for (const room of member.joinedRooms) if (this.registry.remove(room, member)) this.listener.left(member, room);
    } else this.registry.remove(member.id, member);
    member.joinedRooms = undefined;
  }

  /** The rooms as a set, made when first needed: until then a connected member is in its own room only. */
  private roomSet(member: M): Set<string> {
    return (member.joinedRooms ??= new Set(member.connected ? [member.id] : []));
  }
}
