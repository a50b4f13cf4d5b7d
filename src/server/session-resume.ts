import type { SharedFrame } from '../transport/shared-frame.js';
import type { ResumePolicy } from '../transport/transport.js';
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

/** What a resume keeps of each session (fields of the session: no object per session). */
export interface ResumeState {
  /** The credential a client presents to resume this session; rotated on every resume. */
  resumeToken: string | undefined;
  /**
   * The token this connection resumed with, still accepted until the client shows it got
   * the new one (its first `ack`): a welcome lost with a link that died right after the
   * resume must not cost the client its session.
   */
  previousResumeToken: string | undefined;
  /** The token this node took the session over with, until the client acknowledges the restoring welcome. */
  restoredWith: string | undefined;
  /** Frames sent since the first welcome and not yet acknowledged: what a resume replays. */
  kept: ResumeFrames | undefined;
}

/** What it needs of a session. */
export interface ResumableSession extends ResumeSession, ResumeState {
  /** The session's snapshot is out of date (a token changed). */
  changed(): void;
}

type Kept = string | SharedFrame;

/** Whether `token` is the one `session` was taken over with and the client has not yet shown it got the restoring welcome. */
export function awaitsRestoreAck(session: ResumeState, token: string): boolean {
  return session.restoredWith !== undefined && token === session.restoredWith && token === session.previousResumeToken;
}

/**
 * What lets a client resume its session: the resume tokens (the one of the last welcome,
 * and the one before it until the client acknowledges), and the frames sent since the
 * first welcome that the client has not acknowledged (ResumeFrames) — what a resume
 * replays. One per server; what it keeps of a session is the session's ResumeState.
 */
export class SessionResume<S extends ResumableSession> {
  constructor(
    private readonly tokens: ResumeTokens<S>,
    private readonly log: ResumeLog,
    private readonly options: ResolvedOptions,
  ) {}

  /** The tokens that resume `session` now. */
  current(session: ResumeState): string[] {
    const tokens: string[] = [];
    if (session.resumeToken) tokens.push(session.resumeToken);
    if (session.previousResumeToken) tokens.push(session.previousResumeToken);
    return tokens;
  }

  /**
   * The token of the next welcome: only it and the one before it (until acknowledged) stay
   * valid. From the first one on, frames are kept. A client that cannot resume gets none; one
   * that keeps its first token (`'stable-token'`) gets that one again.
   */
  rotate(session: S, policy?: ResumePolicy): string | undefined {
    const { heartbeat, resume } = this.options;
    if (policy === 'stable-token' && session.resumeToken !== undefined) return session.resumeToken;
    this.retirePrevious(session);
    session.previousResumeToken = session.resumeToken;
    session.resumeToken = resume.ttl > 0 && policy !== 'none' ? this.tokens.issue(session) : undefined;
    if (session.resumeToken && !session.kept) {
      session.kept = new ResumeFrames(this.log, session, {
        maxFrames: resume.maxUnackedFrames,
        maxBytes: resume.maxUnackedBytes,
        // Twice the longest a dead link goes unnoticed (see Heartbeats in docs/PROTOCOL.md): a
        // link still up after that answers pings but does not acknowledge.
        maxUnackedMs: 2 * (heartbeat.interval + heartbeat.timeout + Math.min(heartbeat.interval, heartbeat.timeout) / 4),
      });
    }
    return session.resumeToken;
  }

  /** The client acknowledged `received` frames (and with them its latest welcome). */
  acknowledged(session: S, received: number): void {
    session.kept?.acknowledge(received);
    session.restoredWith = undefined;
    this.retirePrevious(session);
  }

  /**
   * Taken over from another node with `presented`: it stays valid, on any node, until the
   * client shows it got the new one (its first ack), as after a resume: a welcome lost with
   * a link that died right after the takeover must not cost the client its session.
   */
  restoredBy(session: S, presented: string): void {
    session.restoredWith = presented;
    session.resumeToken = this.tokens.adopt(session, presented);
  }

  /**
   * Restored again: the token the client holds stays the one it may present next time
   * (the one issued by the lost welcome never reached it).
   */
  restoredAgain(session: S): void {
    if (session.restoredWith === undefined) return;
    if (session.resumeToken !== undefined) this.tokens.retire(session, session.resumeToken);
    session.resumeToken = session.restoredWith;
    session.previousResumeToken = undefined;
  }

  /** The frames after `received`, for a resume; the client's count is an acknowledgement too. */
  replayAfter(session: ResumeState, received: number): Kept[] {
    return session.kept?.replayAfter(received) ?? [];
  }

  /** The session ended: nothing more is kept. */
  close(session: ResumeState): void {
    session.kept?.close();
    session.kept = undefined;
  }

  private retirePrevious(session: S): void {
    if (session.previousResumeToken === undefined) return;
    this.tokens.retire(session, session.previousResumeToken);
    session.previousResumeToken = undefined;
    session.changed();
  }
}
