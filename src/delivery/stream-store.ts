import type { StreamPosition } from '../protocol/frames.js';

/** How much history a durable room keeps: whichever bound is hit first. */
export interface HistoryLimits {
  /** Most publications kept. Default 1000. */
  maxMessages: number;
  /** Oldest publication kept, in milliseconds. Default 300000 (5 minutes). */
  maxAge: number;
}

/** One stored publication: its position and the encoded event frame without `position`. */
export interface StreamEntry {
  position: StreamPosition;
  payload: string;
  /** Rooms its live delivery left out (see AppendOptions), when there were any. */
  except?: readonly string[];
}

/** What a publication carries besides its payload. */
export interface AppendOptions {
  /**
   * Rooms (a socket id is one) whose members live delivery leaves out. Stored with the
   * entry so that a node filling a gap from the store leaves out the same members; replays
   * and history ignore it.
   */
  except?: readonly string[];
}

export type StreamRead =
  | { ok: true; entries: StreamEntry[]; position: StreamPosition }
  /** The gap after `since` is not fully in history (trimmed, other epoch, or ahead of the stream). */
  | { ok: false; position: StreamPosition };

/**
 * Storage of durable rooms' streams. The store assigns positions, so a cluster-wide store
 * (Redis Streams) gives cluster-wide positions. Callers serialize the operations of one
 * stream (see RoomSequencer); a store need not.
 */
export interface StreamStore {
  /** Append a publication and return its position. */
  append(stream: string, payload: string, limits: HistoryLimits, options?: AppendOptions): Promise<StreamPosition>;
  /**
   * Read a stream. With `since`: every entry after it (up to `limit`), or `ok: false` when
   * any of them is gone. Without: the last `limit` entries.
   */
  read(stream: string, options: { since?: StreamPosition; limit?: number }, limits: HistoryLimits): Promise<StreamRead>;
  /** The position of the last publication (offset 0 for an empty stream). */
  position(stream: string): Promise<StreamPosition>;
}
