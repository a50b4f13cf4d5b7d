import type { Deadline, DeadlineClock } from './deadline-clock.js';
import type { DisconnectReason } from './socket.js';

/** Where a server session stands. Only SessionLifecycle.moveTo() changes it. */
export const SessionState = {
  /** A connection is up; the hello and the app's middleware are pending: no welcome yet. */
  Handshaking: 'handshaking',
  /** Welcomed, on a live connection. */
  Open: 'open',
  /** The server closes on purpose (its close frame is sent): the session ends when the close lands. */
  Closing: 'closing',
  /** The connection was lost: sockets, rooms and unacknowledged frames are kept until a resume or the TTL. */
  Away: 'away',
  /** Over: its sockets left their namespaces. */
  Ended: 'ended',
  /** Over on this node because another node took it over (its snapshot is that node's now). */
  Moved: 'moved',
  /** Never became a session: this connection resumed another one and gave it its transport. */
  HandedOver: 'handed_over',
} as const;

export type SessionState = (typeof SessionState)[keyof typeof SessionState];

const { Handshaking, Open, Closing, Away, Ended, Moved, HandedOver } = SessionState;

/**
 * The legal moves. Handshaking → Open is the welcome; Open → Away a lost connection that
 * may come back; Away → Open a resume. Closing and Away end; the three last are final.
 * Moved is reached from Closing too: another node took over a session being closed for it.
 */
const NEXT: Readonly<Record<SessionState, readonly SessionState[]>> = {
  [Handshaking]: [Open, Closing, Ended, HandedOver],
  [Open]: [Closing, Away, Ended],
  [Closing]: [Ended, Moved],
  [Away]: [Open, Ended, Moved],
  [Ended]: [],
  [Moved]: [],
  [HandedOver]: [],
};

/**
 * A session's state, the one place that changes it, and its one deadline: the handshake
 * timeout, then the resume TTL while away. `closeReason` is why the server closes (set on
 * entering Closing, or by an end without a close); `lossReason` why the connection was
 * lost, told to the sockets if the session is never resumed.
 *
 * The Session extends it rather than holding one: a session costs one object, which is
 * what lets a server hold its tens of thousands of idle connections (docs/PERFORMANCE.md).
 */
export abstract class SessionLifecycle {
  state: SessionState = Handshaking;
  /** Set when the server closes on purpose: the session ends with the connection. */
  closeReason: DisconnectReason | undefined;
  /** Why the connection was lost, reported if the session is never resumed. */
  lossReason: DisconnectReason | undefined;
  /** A welcome was sent: the client holds a session id and maybe a resume token. Never unset. */
  welcomed = false;
  /** A session being closed because another node took it over ends as Moved. */
  private endsMoved = false;
  /** On the server's DeadlineClock only while a deadline runs. */
  private deadline: LifecycleDeadline | undefined;

  /** The server's one clock for every session's deadline. */
  protected abstract get deadlineClock(): DeadlineClock;

  /** The deadline passed: the handshake did not complete, or the session was not resumed in time. */
  protected abstract deadlinePassed(): void;

  moveTo(next: SessionState): void {
    if (!NEXT[this.state].includes(next)) throw new Error(`session state ${this.state} cannot move to ${next}`);
    this.state = next;
    if (next === Open) this.welcomed = true;
  }

  /** Closing: the server's close frame went out. A move makes the end a Moved one. */
  closing(why: DisconnectReason, moved = false): void {
    this.closeReason ??= why;
    if (moved) this.endsMoved = true;
    if (this.state !== Closing) this.moveTo(Closing);
  }

  /** The final state an end reaches from here. */
  get endState(): SessionState {
    return this.endsMoved ? Moved : Ended;
  }

  get handshaking(): boolean {
    return this.state === Handshaking;
  }

  get away(): boolean {
    return this.state === Away;
  }

  /** Ended, moved or handed over. */
  get over(): boolean {
    return this.state === Ended || this.state === Moved || this.state === HandedOver;
  }

  /** Whether the session ended because another node took it over (its snapshot is that node's now). */
  get moved(): boolean {
    return this.state === Moved;
  }

  /** One timer for all sessions' deadlines (the server's clock), not one each. */
  scheduleDeadline(at: number): void {
    this.deadline ??= new LifecycleDeadline(this);
    this.deadlineClock.schedule(this.deadline, at);
  }

  cancelDeadline(): void {
    if (this.deadline) this.deadlineClock.cancel(this.deadline);
    this.deadline = undefined;
  }

  /** @internal Called by the deadline's entry on the clock. */
  deadlineDue(): void {
    this.deadline = undefined;
    this.deadlinePassed();
  }
}

/** A session's entry on the DeadlineClock: made when a deadline starts, dropped when it ends (no timer, no closure). */
class LifecycleDeadline implements Deadline {
  dueAt = 0;
  heapIndex = -1;

  constructor(private readonly lifecycle: SessionLifecycle) {}

  due(): void {
    this.lifecycle.deadlineDue();
  }
}
