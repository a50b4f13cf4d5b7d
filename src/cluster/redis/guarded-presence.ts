import type { PresenceChange, PresenceEntry, PresenceStore } from '../presence-store.js';
import { unavailable } from './guarded-stream-store.js';

/** The Redis presence store with its failures turned into `cluster_unavailable`, so presence requests answer with a documented code. */
export class GuardedPresence implements PresenceStore {
  constructor(private readonly store: PresenceStore) {}

  add(room: string, user: string, conn: string, info: unknown): Promise<PresenceChange | undefined> {
    return this.store.add(room, user, conn, info).catch((err: unknown) => {
      throw unavailable(err, 'a presence update');
    });
  }

  remove(room: string, conn: string): Promise<PresenceChange | undefined> {
    return this.store.remove(room, conn).catch((err: unknown) => {
      throw unavailable(err, 'a presence update');
    });
  }

  list(room: string): Promise<PresenceEntry[]> {
    return this.store.list(room).catch((err: unknown) => {
      throw unavailable(err, 'a presence read');
    });
  }

  count(room: string): Promise<number> {
    return this.store.count(room).catch((err: unknown) => {
      throw unavailable(err, 'a presence read');
    });
  }

  onExpired(listener: (changes: PresenceChange[]) => void): void {
    this.store.onExpired(listener);
  }

  close(): Promise<PresenceChange[]> {
    return this.store.close();
  }
}
