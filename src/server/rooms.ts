/**
 * Room membership of one namespace: room name → members. Join and leave are O(1);
 * a room disappears with its last member so idle names cost nothing.
 */
export class RoomRegistry<Member> {
  private readonly rooms = new Map<string, Set<Member>>();

  /** Returns true when the member was not in the room before. */
  add(room: string, member: Member): boolean {
    let members = this.rooms.get(room);
    if (!members) {
      members = new Set();
      this.rooms.set(room, members);
    }
    const before = members.size;
    members.add(member);
    return members.size !== before;
  }

  /** Returns true when the member was in the room. */
  remove(room: string, member: Member): boolean {
    const members = this.rooms.get(room);
    if (!members?.delete(member)) return false;
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }

  members(room: string): ReadonlySet<Member> | undefined {
    return this.rooms.get(room);
  }

  has(room: string, member: Member): boolean {
    return this.rooms.get(room)?.has(member) ?? false;
  }

  /** Number of members; 0 for a room that does not exist. */
  size(room: string): number {
    return this.rooms.get(room)?.size ?? 0;
  }

  /** Names of the rooms that have members. */
  names(): IterableIterator<string> {
    return this.rooms.keys();
  }

  get count(): number {
    return this.rooms.size;
  }
}
