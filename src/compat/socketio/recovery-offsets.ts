import type { StreamPosition } from '../../protocol/frames.js';

/**
 * The offsets a Socket.IO client gets as the last argument of every event (with recovery)
 * and presents back when it reconnects. An offset is the session's frame count at that
 * event (see RecoveryLedger), and, once the socket has had events of durable rooms, the
 * last position it saw in each of them: `<count>` or `<count>.<positions>`, where
 * `<positions>` is base64url of the JSON array `[[room, epoch, offset], ...]`. A node that
 * takes the session over after its node died has no frames to replay, but rejoins those
 * rooms from those positions, so their publications arrive without a gap.
 */

/** Durable rooms whose positions an offset carries at most (the most recently moved ones). */
export const MAX_OFFSET_ROOMS = 64;
/** The longest offset taken from a client. */
const MAX_OFFSET_LENGTH = 32 * 1024;
const OFFSET_PATTERN = /^(\d{1,15})(?:\.([A-Za-z0-9_-]+))?$/;

export interface PresentedOffset {
  count: number;
  /** The last position seen per durable room; empty when the offset carries none. */
  positions: Map<string, StreamPosition>;
}

/** A client's offset; undefined when it is not one of ours (then it is taken as having seen no event). */
export function parseOffset(offset: unknown): PresentedOffset | undefined {
  if (typeof offset !== 'string' || offset.length > MAX_OFFSET_LENGTH) return undefined;
  const match = OFFSET_PATTERN.exec(offset);
  if (!match) return undefined;
  const positions = new Map<string, StreamPosition>();
  if (match[2] !== undefined) {
    let entries: unknown;
    try {
      entries = JSON.parse(Buffer.from(match[2], 'base64url').toString());
    } catch {
      return undefined;
    }
    if (!Array.isArray(entries) || entries.length > MAX_OFFSET_ROOMS) return undefined;
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 3) return undefined;
      const [room, epoch, at] = entry as unknown[];
      if (typeof room !== 'string' || room.length === 0 || room.length > 256 || typeof epoch !== 'string' || epoch.length > 256) return undefined;
      if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) return undefined;
      positions.set(room, { epoch, offset: at });
    }
  }
  return { count: Number(match[1]), positions };
}

/**
 * The last position a socket saw in each durable room, most recently moved last, with its
 * encoding for offsets made once per change.
 */
export class SeenPositions {
  private readonly rooms = new Map<string, StreamPosition>();
  private encoded: string | undefined = '';

  get size(): number {
    return this.rooms.size;
  }

  get(room: string): StreamPosition | undefined {
    return this.rooms.get(room);
  }

  entries(): IterableIterator<[string, StreamPosition]> {
    return this.rooms.entries();
  }

  /** Whether a publication at `position` of `room` was seen already (the same epoch, not past the last offset). */
  seen(room: string, position: StreamPosition): boolean {
    const last = this.rooms.get(room);
    return last !== undefined && last.epoch === position.epoch && position.offset <= last.offset;
  }

  set(room: string, position: StreamPosition): void {
    this.rooms.delete(room);
    this.rooms.set(room, position);
    if (this.rooms.size > MAX_OFFSET_ROOMS) this.rooms.delete(this.rooms.keys().next().value as string);
    this.encoded = undefined;
  }

  /** The offset of frame `count`. */
  offset(count: number): string {
    if (this.rooms.size === 0) return String(count);
    this.encoded ??= `.${Buffer.from(JSON.stringify([...this.rooms].map(([room, p]) => [room, p.epoch, p.offset]))).toString('base64url')}`;
    return `${count}${this.encoded}`;
  }
}
