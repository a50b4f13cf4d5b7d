/**
 * Socket.IO connection state recovery on Switchboard sessions, the node's side.
 *
 * A Socket.IO client recovers with the `pid` of its CONNECT answer (here the session's resume
 * token, which stays the same for the session's life) and the `offset` of the last event it
 * got: the last argument of every event, a string. Offsets count frames the way native
 * resume does (docs/PROTOCOL.md, "Counting frames"), continued across a takeover by another
 * node (which numbers its frames from 1 again) by adding a base. Two things only the node
 * that sent the frames knows are kept here per session:
 *
 * - `base`: the offset the client had when this node took the session over (0 for one it
 *   started), so an offset it gave out turns back into the session's own frame count;
 * - `acked`: the frames the client proved it received (a pong to a ping sent after them).
 *   A client's offset only moves with events, so after the last event it may have had
 *   replies too; a resume from its offset alone would send those again, or be refused once
 *   the server forgot them. The larger of the two counts.
 */
export interface RecoveryPoint {
  /** The offset base of the session on this node. */
  base: number;
  /** Frames of the session (this node's count) the client proved it received. */
  acked: number;
}

interface Entry extends RecoveryPoint {
  touched: number;
}

export class RecoveryLedger {
  /** By pid, least recently touched first (a touch moves an entry to the end). */
  private readonly entries = new Map<string, Entry>();

  /**
   * @param keepMs how long an entry outlives its last touch: the resume TTL plus the time a dead
   *   link takes to be noticed (a live link touches its entry at every pong).
   */
  constructor(
    private readonly keepMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** What this node knows of the session `pid` names; undefined when nothing (another node's session, or none). */
  get(pid: string): RecoveryPoint | undefined {
    return this.entries.get(pid);
  }

  /** The frames to present as received for a client's `offset` (undefined: it has seen no event) of session `pid`. */
  receivedFor(pid: string, offset: number | undefined): number {
    const entry = this.entries.get(pid);
    if (entry === undefined) return offset ?? 0;
    return Math.max((offset ?? entry.base) - entry.base, entry.acked, 0);
  }

  /** Record the session's base and acknowledged count (a welcome, or a pong). */
  set(pid: string, base: number, acked: number): void {
    this.entries.delete(pid);
    const now = this.now();
    this.entries.set(pid, { base, acked, touched: now });
    for (const [key, entry] of this.entries) {
      if (now - entry.touched <= this.keepMs) break;
      this.entries.delete(key);
    }
  }

  delete(pid: string): void {
    this.entries.delete(pid);
  }
}
