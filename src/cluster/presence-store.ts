/** One user present in a room, with the info of their first connection there. */
export interface PresenceEntry {
  user: string;
  info: unknown;
}

/** A change the caller must announce to the room: first connection of a user in, last out. */
export interface PresenceChange {
  room: string;
  user: string;
  kind: 'join' | 'leave';
  info: unknown;
}

/**
 * Who is in each room, by user: three tabs of one user are one entry, present while any of
 * them (on any node) is in the room. A cluster-wide store (Redis) decides join and leave
 * atomically, so two nodes never both announce a user's join or both miss the leave.
 * `room` is a key the caller made safe as a key part (e.g. streamKey()); `info` is
 * JSON-serializable and comes back as its JSON round trip.
 */
export interface PresenceStore {
  /** A connection (id unique within this node) of `user` entered `room`. Resolves with the 'join' change when it is the user's first connection in the room cluster-wide, else undefined. Idempotent per (room, conn). */
  add(room: string, user: string, conn: string, info: unknown): Promise<PresenceChange | undefined>;
  /** The connection left; resolves with the 'leave' change when it was the user's last one in the room cluster-wide. Unknown (room, conn) → undefined. */
  remove(room: string, conn: string): Promise<PresenceChange | undefined>;
  /** The users in a room, sorted by user. */
  list(room: string): Promise<PresenceEntry[]>;
  /** How many users (not connections) are in a room. */
  count(room: string): Promise<number>;
  /**
   * Changes no add() or remove() returned: the leaves of a node that stopped renewing
   * (crashed), reported by whichever node cleaned them, each once cluster-wide; and the
   * joins of this node's own connections restored after it was wrongly presumed dead.
   */
  onExpired(listener: (changes: PresenceChange[]) => void): void;
  /** Stop timers and take this node's connections out (a clean shutdown); resolves with the leaves that caused. */
  close(): Promise<PresenceChange[]>;
}

/** Sort order of list(): by user, in code-unit order so every store agrees. */
export function byUser(a: PresenceEntry, b: PresenceEntry): number {
  return a.user < b.user ? -1 : a.user > b.user ? 1 : 0;
}

/** The stored form of `info`: its JSON, so every store hands back the same value. */
export function encodeInfo(info: unknown): string {
  return JSON.stringify(info) ?? 'null';
}
