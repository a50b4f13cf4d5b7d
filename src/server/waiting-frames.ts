import type { SharedFrame } from '../transport/shared-frame.js';
import type { LogReader, LoggedBroadcast, ResumeLog } from './resume-log.js';

type Kept = string | SharedFrame;

/** What WaitingFrames needs of its session. */
export interface WaitingSession {
  /** The frame a logged broadcast gave the session, decided by its membership now. */
  frameOf(entry: LoggedBroadcast): SharedFrame | undefined;
  /** Frames it needs are gone: it cannot be resumed exactly. */
  resumeLost(): void;
}

/** A frame sent to the session alone (or taken from the log), placed after the log entries up to `after`. */
interface OwnFrame {
  readonly after: number;
  readonly frame: Kept;
}

/**
 * The frames produced for a session while it waits to be resumed. Broadcasts are not kept
 * here: the node's ResumeLog keeps each once, and this holds the session's position in it
 * (`mark`) and how many of them the session was handed. Frames only this session was sent
 * — replies, direct events, server requests, join replays — are kept here, within the
 * per-session bounds (`resume.maxUnackedFrames` / `maxUnackedBytes`).
 *
 * Which log entries were the session's is worked out from its membership, so membership
 * must be the same over the whole span: before it changes, settle() moves the entries
 * since `mark` into the session's own frames. The count of broadcasts handed to the session
 * checks the working-out: a resume whose count does not match is refused (`resumed: false`)
 * rather than replayed with a hole or a duplicate.
 */
export class WaitingFrames implements LogReader {
  mark: number;
  /** Broadcasts handed to the session since `mark`. */
  private handed = 0;
  private own: OwnFrame[] = [];
  private ownBytes = 0;
  /** The working-out failed or a bound was passed: not resumable. */
  private broken = false;
  /** What frames() worked out, until the next change. */
  private worked: Kept[] | undefined;

  constructor(
    private readonly log: ResumeLog,
    private readonly session: WaitingSession,
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {
    this.mark = log.position;
    log.open(this);
  }

  /** Whether the session can still be resumed without a hole. */
  get intact(): boolean {
    return !this.broken;
  }

  frameOf(entry: LoggedBroadcast): SharedFrame | undefined {
    return this.session.frameOf(entry);
  }

  lost(): void {
    this.break();
    this.session.resumeLost();
  }

  skipTo(seq: number): void {
    this.mark = seq;
  }

  /** A broadcast the log holds was handed to the session. */
  countBroadcast(): void {
    this.handed++;
    this.worked = undefined;
  }

  /** A frame for this session alone. False past the bounds: it cannot be resumed any more. */
  keep(frame: Kept): boolean {
    if (this.broken) return false;
    this.worked = undefined;
    this.own.push({ after: this.log.position, frame });
    this.ownBytes += frame.length;
    if (this.own.length > this.maxFrames || this.ownBytes > this.maxBytes) {
      this.break();
      return false;
    }
    return true;
  }

  /** The session's membership is about to change: take its broadcasts so far from the log. False when that fails. */
  settle(): boolean {
    if (this.broken) return false;
    const merged = this.merge();
    if (merged === undefined) {
      this.break();
      return false;
    }
    this.own = merged;
    this.ownBytes = 0;
    for (const item of merged) this.ownBytes += item.frame.length;
    this.mark = this.log.position;
    this.handed = 0;
    this.worked = undefined;
    if (this.own.length > this.maxFrames || this.ownBytes > this.maxBytes) {
      this.break();
      return false;
    }
    return true;
  }

  /** Every frame produced while waiting, in the order produced; undefined when not resumable. */
  frames(): Kept[] | undefined {
    if (this.broken) return undefined;
    if (this.worked) return this.worked;
    const merged = this.merge();
    this.worked = merged?.map((item) => item.frame);
    return this.worked;
  }

  /** The session resumed or ended: the log need not keep anything for it. */
  close(): void {
    this.log.close(this);
    this.own = [];
    this.worked = undefined;
  }

  /** The session's own frames and its log entries in one list, in the order they were produced. */
  private merge(): OwnFrame[] | undefined {
    const logged = this.log.framesOf(this, this.mark);
    if (logged === undefined || logged.length !== this.handed) return undefined;
    if (logged.length === 0) return this.own;
    const merged: OwnFrame[] = [];
    let i = 0;
    for (const entry of logged) {
      // A frame of its own made after entry `after` went out after it, and before entry after+1.
      while (i < this.own.length && (this.own[i] as OwnFrame).after < entry.seq) merged.push(this.own[i++] as OwnFrame);
      merged.push({ after: entry.seq, frame: entry.frame });
    }
    while (i < this.own.length) merged.push(this.own[i++] as OwnFrame);
    return merged;
  }

  private break(): void {
    this.broken = true;
    this.close();
  }
}
