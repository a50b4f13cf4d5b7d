import type { SharedFrame } from '../transport/shared-frame.js';
import type { ResolvedOptions } from './options.js';
import { ResumeFrames, type ResumeSession } from './resume-frames.js';
import type { ResumeLog } from './resume-log.js';

/** The node's resume tokens, as a session's resume state uses them. */
export interface ResumeTokens<S> {
  /** Issue a new resume token for a session. */
  issue(session: S): string;
  /** Make a token taken over from another node resume `session` here; returns it. */
  adopt(session: S, token: string): string;
  retire(session: S, token: string): void;
}

/** What a session's resume state needs of the session. */
export interface ResumableSession extends ResumeSession {
  /** The session's snapshot is out of date (a token changed). */
  changed(): void;
}

type Kept = string | SharedFrame;

/**
 * What lets a client resume its session: the resume tokens (the one of the last welcome,
 * and the one before it until the client acknowledges), and the frames sent since the
 * first welcome that the client has not acknowledged (ResumeFrames) — what a resume replays.
 */
export class SessionResume<S extends ResumableSession> {
  /** The credential a client presents to resume this session; rotated on every resume. */
  token: string | undefined;
  /**
   * The token this connection resumed with, still accepted until the client shows it got
   * the new one (its first `ack`): a welcome lost with a link that died right after the
   * resume must not cost the client its session.
   */
  previousToken: string | undefined;
  /** The token this node took the session over with, until the client acknowledges the restoring welcome. */
  private restoredWith: string | undefined;
  /** Frames sent since the first welcome and not yet acknowledged: what a resume replays. */
  private kept: ResumeFrames | undefined;

  constructor(
    private readonly session: S,
    private readonly tokens: ResumeTokens<S>,
    private readonly log: ResumeLog,
    private readonly options: ResolvedOptions,
  ) {}

  /** The tokens that resume this session now. */
  get current(): string[] {
    const tokens: string[] = [];
    if (this.token) tokens.push(this.token);
    if (this.previousToken) tokens.push(this.previousToken);
    return tokens;
  }

  /** Whether frames are kept for a resume (from the first welcome with a token on). */
  get keeping(): boolean {
    return this.kept !== undefined;
  }

  /** The token of the next welcome: only it and the one before it (until acknowledged) stay valid. From the first one on, frames are kept. */
  rotate(): string | undefined {
    const { heartbeat, resume } = this.options;
    this.retirePrevious();
    this.previousToken = this.token;
    this.token = resume.ttl > 0 ? this.tokens.issue(this.session) : undefined;
    if (this.token && !this.kept) {
      this.kept = new ResumeFrames(this.log, this.session, {
        maxFrames: resume.maxUnackedFrames,
        maxBytes: resume.maxUnackedBytes,
        // Twice the longest a dead link goes unnoticed (see Heartbeats in docs/PROTOCOL.md): a
        // link still up after that answers pings but does not acknowledge.
        maxUnackedMs: 2 * (heartbeat.interval + heartbeat.timeout + Math.min(heartbeat.interval, heartbeat.timeout) / 4),
      });
    }
    return this.token;
  }

  /** The client acknowledged `received` frames (and with them its latest welcome). */
  acknowledged(received: number): void {
    this.kept?.acknowledge(received);
    this.restoredWith = undefined;
    this.retirePrevious();
  }

  /**
   * Taken over from another node with `presented`: it stays valid, on any node, until the
   * client shows it got the new one (its first ack), as after a resume: a welcome lost with
   * a link that died right after the takeover must not cost the client its session.
   */
  restoredBy(presented: string): void {
    this.restoredWith = presented;
    this.token = this.tokens.adopt(this.session, presented);
  }

  /** Whether `token` is the one this session was taken over with and the client has not yet shown it got the restoring welcome. */
  awaitsRestoreAck(token: string): boolean {
    return this.restoredWith !== undefined && token === this.restoredWith && token === this.previousToken;
  }

  /**
   * Restored again: the token the client holds stays the one it may present next time
   * (the one issued by the lost welcome never reached it).
   */
  restoredAgain(): void {
    if (this.restoredWith === undefined) return;
    if (this.token !== undefined) this.tokens.retire(this.session, this.token);
    this.token = this.restoredWith;
    this.previousToken = undefined;
  }

  /** Whether every frame after `received` can be sent again. */
  canReplayAfter(received: number): boolean {
    return this.kept?.canReplayAfter(received) ?? false;
  }

  /** The frames after `received`, for a resume; the client's count is an acknowledgement too. */
  replayAfter(received: number): Kept[] {
    return this.kept?.replayAfter(received) ?? [];
  }

  /** A frame written to the live link. */
  sentOnLink(frame: Kept, broadcast: boolean): void {
    this.kept?.sentOnLink(frame, broadcast);
  }

  /** A frame while the session waits; false when it cannot be kept (nothing is kept, or the bounds are passed). */
  keptWhileAway(frame: Kept, broadcast: boolean): boolean {
    return this.kept?.keptWhileAway(frame, broadcast) ?? false;
  }

  linkLost(): void {
    this.kept?.linkLost();
  }

  /** The session's rooms are about to change. False when a waiting session cannot be resumed exactly any more. */
  membershipChanging(): boolean {
    return this.kept?.membershipChanging() ?? true;
  }

  /** The session ended: nothing more is kept. */
  close(): void {
    this.kept?.close();
    this.kept = undefined;
  }

  private retirePrevious(): void {
    if (this.previousToken === undefined) return;
    this.tokens.retire(this.session, this.previousToken);
    this.previousToken = undefined;
    this.session.changed();
  }
}
