/**
 * Room membership of one namespace: room name → members. Join and leave are O(1);
 * a room disappears with its last member so idle names cost nothing. A room of one
 * member — every socket's private room, and many small ones — holds the member itself;
 * a set is made when a second member joins.
 */
export class RoomRegistry<Member extends object> {
  private readonly rooms = new Map<string, Member | Set<Member>>();

  /** Returns true when the member was not in the room before. */
  add(room: string, member: Member): boolean {
    const held = this.rooms.get(room);
    if (held === undefined) {
      this.rooms.set(room, member);
      return true;
    }
    if (held === member) return false;
    if (!(held instanceof Set)) {
      this.rooms.set(room, new Set([held, member]));
      return true;
    }
    const before = held.size;
    held.add(member);
    return held.size !== before;
  }

  /** Returns true when the member was in the room. */
  remove(room: string, member: Member): boolean {
    const held = this.rooms.get(room);
    if (held === member) {
      this.rooms.delete(room);
      return true;
    }
    if (!(held instanceof Set) || !held.delete(member)) return false;
    if (held.size === 1) this.rooms.set(room, held.values().next().value as Member);
    return true;
  }

  /** The members of a room, as a new set for a room of one; undefined for a room that does not exist. */
  members(room: string): ReadonlySet<Member> | undefined {
    const held = this.rooms.get(room);
    if (held === undefined || held instanceof Set) return held;
    return new Set([held]);
  }

  /** @internal The broadcast path: the one member, or the set — nothing allocated. */
  held(room: string): Member | ReadonlySet<Member> | undefined {
    return this.rooms.get(room);
  }

  has(room: string, member: Member): boolean {
    const held = this.rooms.get(room);
    return held === member || (held instanceof Set && held.has(member));
  }

  /** Number of members; 0 for a room that does not exist. */
  size(room: string): number {
    const held = this.rooms.get(room);
    return held === undefined ? 0 : held instanceof Set ? held.size : 1;
  }

  /** Names of the rooms that have members. */
  names(): IterableIterator<string> {
    return this.rooms.keys();
  }

  get count(): number {
    return this.rooms.size;
  }
}
