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
 * A session's state, the one place that changes it. `closeReason` is why the server
 * closes (set on entering Closing, or by an end without a close); `lossReason` why the
 * connection was lost, told to the sockets if the session is never resumed.
 */
export class SessionLifecycle {
  state: SessionState = Handshaking;
  /** Set when the server closes on purpose: the session ends with the connection. */
  closeReason: DisconnectReason | undefined;
  /** Why the connection was lost, reported if the session is never resumed. */
  lossReason: DisconnectReason | undefined;
  /** A welcome was sent: the client holds a session id and maybe a resume token. Never unset. */
  welcomed = false;
  /** A session being closed because another node took it over ends as Moved. */
  private endsMoved = false;

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

  /** Handshaking, Open, Closing or Away: not over. */
  get live(): boolean {
    return this.state === Handshaking || this.state === Open || this.state === Closing || this.state === Away;
  }

  get away(): boolean {
    return this.state === Away;
  }
}
