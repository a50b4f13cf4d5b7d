import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';

/** Caps on the frames of a namespace waiting to be sent: while it is not connected, or held back by the pacing. */
export interface BufferLimit {
  /** Most frames kept (default 100). */
  count: number;
  /** Most UTF-8 bytes kept, summed over frames (default 1 MiB). */
  bytes: number;
}

export const DEFAULT_BUFFER_LIMIT: Readonly<BufferLimit> = { count: 100, bytes: 1_048_576 };

/** One encoded frame waiting for the connection; `ref` when it is a request awaiting a reply. */
export interface BufferedFrame {
  text: string;
  bytes: number;
  ref?: number;
  /** A request that may be sent twice (history): re-sent, same ref, when the session resumes. */
  resend?: boolean;
}

/**
 * Frames emitted while disconnected, sent in order once the namespace connects; and, while
 * connected, frames the connection's pacing holds back (the server's rate, a pending join),
 * sent in order as it lets them go. Bounded both ways because an app emitting in a loop
 * while offline, or faster than the server's rate, would otherwise grow memory without
 * limit; a full buffer throws instead of dropping, so no emit is lost silently.
 */
export class EmitBuffer {
  private readonly frames: BufferedFrame[] = [];
  private totalBytes = 0;

  constructor(private readonly limit: BufferLimit) {}

  get size(): number {
    return this.frames.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Append a frame. Throws `SwitchboardError('buffer_full')` when it would exceed a limit. */
  push(frame: BufferedFrame): void {
    if (this.frames.length + 1 > this.limit.count) {
      throw new SwitchboardError(
        ErrorCode.BufferFull,
        `emit buffer is full: ${this.frames.length} frames wait to be sent (limit ${this.limit.count}), until the client reconnects or, when connected, as fast as the server's rate allows`,
      );
    }
    if (this.totalBytes + frame.bytes > this.limit.bytes) {
      throw new SwitchboardError(
        ErrorCode.BufferFull,
        `emit buffer is full: ${this.totalBytes} + ${frame.bytes} bytes exceeds the limit of ${this.limit.bytes} bytes of frames waiting to be sent, until the client reconnects or, when connected, as fast as the server's rate allows`,
      );
    }
    this.frames.push(frame);
    this.totalBytes += frame.bytes;
  }

  /** A copy of the frames, oldest first. */
  all(): BufferedFrame[] {
    return [...this.frames];
  }

  /** The oldest frame, left in place so a failed send keeps it first in line. */
  peek(): BufferedFrame | undefined {
    return this.frames[0];
  }

  shift(): BufferedFrame | undefined {
    const frame = this.frames.shift();
    if (frame) this.totalBytes -= frame.bytes;
    return frame;
  }

  /** Take out one frame, e.g. a request whose timeout fired before it could be sent. */
  remove(frame: BufferedFrame): boolean {
    const index = this.frames.indexOf(frame);
    if (index === -1) return false;
    this.frames.splice(index, 1);
    this.totalBytes -= frame.bytes;
    return true;
  }

  /** Empty the buffer, returning what it held. */
  clear(): BufferedFrame[] {
    const frames = this.frames.splice(0);
    this.totalBytes = 0;
    return frames;
  }
}
