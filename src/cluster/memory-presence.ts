import { byUser, encodeInfo, type PresenceChange, type PresenceEntry, type PresenceStore } from './presence-store.js';

interface MemoryRoom {
  /** conn → user */
  conns: Map<string, string>;
  /** user → info of their first connection, and how many connections they have here */
  users: Map<string, { info: unknown; conns: number }>;
}

/**
 * Presence in this process's memory, for a single node. Connections end with the process,
 * so nothing ever expires: onExpired never fires.
 */
export class MemoryPresence implements PresenceStore {
  private readonly rooms = new Map<string, MemoryRoom>();

  async add(room: string, user: string, conn: string, info: unknown): Promise<PresenceChange | undefined> {
    let r = this.rooms.get(room);
    if (!r) {
      r = { conns: new Map(), users: new Map() };
      this.rooms.set(room, r);
    }
    if (r.conns.has(conn)) return undefined;
    r.conns.set(conn, user);
    const present = r.users.get(user);
    if (present) {
      present.conns++;
      return undefined;
    }
    // Stored as its JSON round trip, like the Redis store, so callers see the same value either way.
    const stored = JSON.parse(encodeInfo(info)) as unknown;
    r.users.set(user, { info: stored, conns: 1 });
    return { room, user, kind: 'join', info: stored };
  }

  async remove(room: string, conn: string): Promise<PresenceChange | undefined> {
    const r = this.rooms.get(room);
    const user = r?.conns.get(conn);
    if (!r || user === undefined) return undefined;
    r.conns.delete(conn);
    const present = r.users.get(user) as { info: unknown; conns: number };
    if (--present.conns > 0) return undefined;
    r.users.delete(user);
    if (r.conns.size === 0) this.rooms.delete(room);
    return { room, user, kind: 'leave', info: present.info };
  }

  async list(room: string): Promise<PresenceEntry[]> {
    const users = this.rooms.get(room)?.users ?? new Map<string, { info: unknown }>();
    return [...users].map(([user, { info }]) => ({ user, info })).sort(byUser);
  }

  async count(room: string): Promise<number> {
    return this.rooms.get(room)?.users.size ?? 0;
  }

  onExpired(_listener: (changes: PresenceChange[]) => void): void {
    // One process: there is no other node whose connections could outlive it.
  }

  async close(): Promise<PresenceChange[]> {
    const leaves: PresenceChange[] = [];
    for (const [room, r] of this.rooms) {
      for (const [user, { info }] of r.users) leaves.push({ room, user, kind: 'leave', info });
    }
    this.rooms.clear();
    return leaves;
  }
}
