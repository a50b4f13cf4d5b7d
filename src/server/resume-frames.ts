import type { SharedFrame } from '../transport/shared-frame.js';
import type { LoggedBroadcast, ResumeLog } from './resume-log.js';
import { SentFrames } from './sent-frames.js';
import { WaitingFrames, type WaitingSession } from './waiting-frames.js';

type Kept = string | SharedFrame;

/** What a resume needs kept of the session it belongs to. */
export interface ResumeSession {
  frameOf(entry: LoggedBroadcast): SharedFrame | undefined;
  /** A frame the waiting session needs is gone: end it. */
  resumeLost(): void;
}

/** Limits of what is kept (the server's `resume` options and heartbeat). */
export interface ResumeBounds {
  maxFrames: number;
  maxBytes: number;
  /** How long a live link may go unacknowledged past the bounds and stay resumable (a dead link is found by then). */
  maxUnackedMs: number;
}

/**
 * Every frame a session was sent and the client has not acknowledged, numbered from 1,
 * so that a resume sends again exactly what the client missed — bounded by time, not by
 * count. The first frames are kept one by one (SentFrames), up to the per-session bounds;
 * past them — while the session waits to be resumed, or on a live link that stopped
 * acknowledging (a link gone silent writes into the void until the heartbeat notices) —
 * broadcasts are left in the node's ResumeLog and only frames for this session alone are
 * kept here (WaitingFrames). An acknowledgement past the first part, or a resume, folds
 * the rest back into SentFrames.
 */
export class ResumeFrames implements WaitingSession {
  private readonly ring: SentFrames;
  /** The frames after the ring's, kept by position in the log. */
  private beyond: WaitingFrames | undefined;
  /** Frames handed to `beyond`, intact or not (they are numbered all the same). */
  private beyondCount = 0;
  /** When the client last acknowledged (or resumed): a live link silent past maxUnackedMs gives exact resume up. */
  private lastAck = Date.now();
  private away = false;

  constructor(
    private readonly log: ResumeLog,
    private readonly session: ResumeSession,
    private readonly bounds: ResumeBounds,
  ) {
    this.ring = new SentFrames(bounds.maxFrames, bounds.maxBytes);
  }

  /** Frames numbered so far. */
  get sent(): number {
    return this.ring.sent + this.beyondCount;
  }

  /** A frame written to the live link. */
  sentOnLink(frame: Kept, broadcast: boolean): void {
    if (this.beyond === undefined) {
      this.ring.add(frame);
      if (this.ring.over) this.openBeyond();
      return;
    }
    if (!this.beyond.intact || Date.now() - this.lastAck > this.bounds.maxUnackedMs) {
      // Unacknowledged for longer than a dead link can go unnoticed: the client does not acknowledge, and gives up exact resume.
      this.forget();
      this.sentOnLink(frame, broadcast);
      return;
    }
    this.intoBeyond(frame, broadcast);
  }

  /** The link was lost: from now on frames wait in the log and here. */
  linkLost(): void {
    this.away = true;
    if (this.beyond === undefined) this.openBeyond();
  }

  /** A frame while the session waits. False when it passed the bounds: the session cannot be resumed exactly. */
  keptWhileAway(frame: Kept, broadcast: boolean): boolean {
    const beyond = this.beyond as WaitingFrames;
    this.intoBeyond(frame, broadcast);
    return beyond.intact;
  }

  /** The client received the first `received` frames. */
  acknowledge(received: number): void {
    this.lastAck = Date.now();
    if (received <= this.ring.sent || this.beyond === undefined) {
      this.ring.acknowledge(received);
      return;
    }
    const rest = this.beyond.frames();
    const total = this.sent;
    this.closeBeyond();
    if (rest === undefined || rest.length !== total - this.ring.sent) {
      this.ring.skipTo(total);
      return;
    }
    const skip = Math.min(received, total) - this.ring.sent;
    this.ring.skipTo(this.ring.sent + skip);
    for (let i = skip; i < rest.length; i++) this.ring.add(rest[i] as Kept);
  }

  /** Whether every frame after `received` can be sent again. */
  canReplayAfter(received: number): boolean {
    if (received > this.sent) return false;
    if (received <= this.ring.sent && !this.ring.canReplayAfter(received)) return false;
    if (this.beyond === undefined) return true;
    return this.beyond.frames()?.length === this.beyondCount;
  }

  /** The frames after `received`, in order, for a resume (check canReplayAfter first); they stay kept until acknowledged. */
  replayAfter(received: number): Kept[] {
    this.away = false;
    this.lastAck = Date.now();
    const first = received <= this.ring.sent ? this.ring.after(received) : [];
    let rest = this.beyond?.frames() ?? [];
    if (received > this.ring.sent) rest = rest.slice(received - this.ring.sent);
    this.closeBeyond();
    this.ring.acknowledge(received);
    if (received > this.ring.sent) this.ring.skipTo(received);
    for (const frame of rest) this.ring.add(frame);
    return rest.length === 0 ? first : first.concat(rest);
  }

  /** The session's rooms are about to change. False when a waiting session cannot be resumed exactly any more. */
  membershipChanging(): boolean {
    if (this.beyond === undefined) return true;
    return this.beyond.settle() || !this.away;
  }

  close(): void {
    this.closeBeyond();
  }

  // WaitingSession, for `beyond`:

  frameOf(entry: LoggedBroadcast): SharedFrame | undefined {
    return this.session.frameOf(entry);
  }

  resumeLost(): void {
    // On a live link nothing ends: only exact resume from before is given up (see sentOnLink).
    if (this.away) this.session.resumeLost();
  }

  private intoBeyond(frame: Kept, broadcast: boolean): void {
    const beyond = this.beyond as WaitingFrames;
    this.beyondCount++;
    if (broadcast) beyond.countBroadcast();
    else beyond.keep(frame);
  }

  private openBeyond(): void {
    this.beyond = new WaitingFrames(this.log, this, this.bounds.maxFrames, this.bounds.maxBytes);
    this.beyondCount = 0;
  }

  private closeBeyond(): void {
    this.beyond?.close();
    this.beyond = undefined;
    this.beyondCount = 0;
  }

  /** Give up the frames kept so far: a resume from before now is refused. */
  private forget(): void {
    const total = this.sent;
    this.closeBeyond();
    this.ring.skipTo(total);
  }
}
