import { unrefTimer } from './timers.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { JoinReply, StreamPosition } from '../protocol/frames.js';
import type { RecoveryInfo } from './client-events.js';

/** What the room bookkeeping needs from its namespace. */
export interface RoomPort {
  /** Whether join/leave frames can be sent now. */
  isConnected(): boolean;
  /**
   * Send a join request (with `since` when given). `onReply` runs synchronously with the data
   * of a successful reply, before any later frame is handled. Only called while connected.
   */
  join(room: string, since: StreamPosition | undefined, onReply: (data: unknown) => void): Promise<unknown>;
  /** Send a leave request. Only called while connected. */
  leave(room: string, timeoutMs: number): Promise<unknown>;
  /** A rejoin the server refused with nobody awaiting it. */
  reportError(error: SwitchboardError): void;
  /** A durable room was rejoined with `since` after a reconnect. */
  recovered(info: RecoveryInfo): void;
}

interface Waiter {
  /** The last join token issued when join() was called: only a reply to a later join answers it. */
  after: number;
  resolve(reply: JoinReply): void;
  reject(error: SwitchboardError): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface RoomState {
  /** Token of the latest join frame sent for the room; replies to earlier ones are stale. */
  token: number;
  /** Durable rooms: the last position seen (or the `since` of a join the app asked for). */
  position: StreamPosition | undefined;
  /** `position` came from join(room, { since }) and no reply has confirmed the join yet. */
  explicit: boolean;
  /**
   * A join must go out even if the session resumes: join() was called while the socket was
   * down, or the last join failed before the server could confirm it.
   */
  needsJoin: boolean;
  /** The join with `token` is on its way and not answered yet. */
  awaiting: boolean;
}

/** Replies that say "try again on the next connection", not "no". */
const TRANSIENT: ReadonlySet<string> = new Set([ErrorCode.Disconnected, ErrorCode.NamespaceNotConnected, ErrorCode.ShuttingDown]);

/**
 * How long a join refused with `rate_limited` waits before it is sent again. The SDK paces
 * its frames under the server's rate, so this takes frames it cannot see (another client
 * library on the same connection, a server whose rate shrank): a second is enough for the
 * server's bucket to refill a good part, and the re-sent joins are paced like any frame.
 */
export const RATE_LIMITED_RETRY_MS = 1000;

/**
 * The rooms the app asked for. Membership lives in the server session, so the set is
 * replayed as join frames whenever a new session starts; only a refusal from the server
 * (e.g. `forbidden`) or leave() takes a room out of it. A resumed session kept its rooms:
 * then only joins that were never confirmed go out again, and rooms left meanwhile are left.
 *
 * Durable rooms (join reply `durable: true`) also track the last stream position seen: an
 * event at or before it in the same epoch is a duplicate and is dropped, and the rejoin
 * after a reconnect carries it as `since` so the server replays the gap.
 */
export class RoomSubscriptions {
  /** Subscribed rooms in join order (the order they are rejoined in). */
  private readonly subscribed = new Map<string, RoomState>();
  /** join() calls still waiting for the server's confirmation, which may come on a later connection. */
  private readonly waiters = new Map<string, Waiter[]>();
  private lastToken = 0;
  /** Rooms a join went out for in the current server session, not left since: the session may hold them. */
  private readonly inSession = new Set<string>();
  /** Rooms left while the socket was down that the session may still hold: left if it resumes. */
  private readonly leftWhileAway = new Set<string>();
  /** Rooms whose join was refused with `rate_limited`, to join again when `retryTimer` fires; the value is `automatic`. */
  private readonly retries = new Map<string, boolean>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly port: RoomPort,
    private readonly timeoutMs: number,
  ) {}

  get rooms(): ReadonlySet<string> {
    return new Set(this.subscribed.keys());
  }

  /** The tracked position of a subscribed durable room. */
  position(room: string): StreamPosition | undefined {
    const position = this.subscribed.get(room)?.position;
    return position && copy(position);
  }

  join(room: string, since?: StreamPosition): Promise<JoinReply> {
    let state = this.subscribed.get(room);
    if (!state) {
      state = { token: 0, position: undefined, explicit: false, needsJoin: false, awaiting: false };
      this.subscribed.set(room, state);
    }
    this.leftWhileAway.delete(room);
    if (since) {
      state.position = copy(since);
      state.explicit = true;
    }
    const confirmed = new Promise<JoinReply>((resolve, reject) => {
      // Infinity means "no timeout": setTimeout would turn it into 1 ms.
      const timer = !Number.isFinite(this.timeoutMs) ? undefined : setTimeout(() => {
        this.dropWaiter(room, waiter);
        reject(
          new SwitchboardError(
            ErrorCode.Timeout,
            `join("${room}") was not confirmed within ${this.timeoutMs} ms; the room stays subscribed and is joined when the server answers or after a reconnect`,
          ),
        );
      }, this.timeoutMs);
      unrefTimer(timer);
      const waiter: Waiter = { after: this.lastToken, resolve, reject, timer };
      const list = this.waiters.get(room);
      if (list) list.push(waiter);
      else this.waiters.set(room, [waiter]);
    });
    if (this.port.isConnected()) this.sendJoin(room, false);
    else state.needsJoin = true;
    return confirmed;
  }

  async leave(room: string): Promise<void> {
    this.subscribed.delete(room);
    const mayBeMember = this.inSession.delete(room);
    if (!this.port.isConnected()) {
      // Offline: a new session will not have the room; a resumed one may, and leaves it then.
      if (mayBeMember) this.leftWhileAway.add(room);
      // A waiting join will never be sent now.
      this.settle(room, Number.POSITIVE_INFINITY, new SwitchboardError(ErrorCode.Disconnected, `leave("${room}") was called before the join could be sent`));
      return;
    }
    // The server handles frames in order, so a join sent earlier is answered first.
    await this.port.leave(room, this.timeoutMs);
  }

  /** Replay every subscribed room; called when the namespace connects in a new session, before buffered emits go out. */
  rejoin(): void {
    this.sessionEnded();
    for (const room of [...this.subscribed.keys()]) this.sendJoin(room, true);
  }

  /**
   * The session resumed with its rooms: leave the ones left while away, and join only those
   * that need it (joined while away, or whose join failed). A join that was on its way when
   * the socket dropped is re-sent by the request layer with its ref. Durable rooms go on
   * from their tracked positions: the server sends again every frame after the last one
   * the client received, so their publications continue without a hole.
   */
  resume(): void {
    for (const room of this.leftWhileAway) {
      if (!this.subscribed.has(room)) this.port.leave(room, this.timeoutMs).then(undefined, () => {});
    }
    this.leftWhileAway.clear();
    for (const [room, state] of [...this.subscribed]) if (state.needsJoin) this.sendJoin(room, true);
  }

  /** The server session is gone, and every room membership with it. */
  sessionEnded(): void {
    this.inSession.clear();
    this.leftWhileAway.clear();
  }

  /**
   * Whether an event published to `room` at `position` is the next one. A durable room's tracked
   * position advances one offset at a time: an event not newer than it in the same epoch is
   * a duplicate; one further ahead means publications went missing on the way (which a
   * server that replays what a resume missed never causes), so it is dropped too and the
   * room is joined again with `since`, whose replay delivers the hole and what follows it in
   * order: never a silent hole. An event of another epoch is taken as is: the server's
   * stream restarted (a rejoin reports it as recovered false).
   */
  accept(room: string, position: StreamPosition): boolean {
    const state = this.subscribed.get(room);
    if (!state?.position) return true;
    if (position.epoch === state.position.epoch) {
      if (position.offset <= state.position.offset) return false;
      if (position.offset > state.position.offset + 1) {
        // A join already on its way replays from a position at or before this one.
        if (!state.awaiting && this.port.isConnected()) this.sendJoin(room, true);
        return false;
      }
    }
    state.position = copy(position);
    return true;
  }

  /** Fail every waiting join and forget all rooms (the handle was closed). */
  clear(error: SwitchboardError): void {
    this.subscribed.clear();
    this.sessionEnded();
    this.retries.clear();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const room of [...this.waiters.keys()]) this.settle(room, Number.POSITIVE_INFINITY, error);
  }

  /** `automatic`: sent by rejoin() after a (re)connect, not by a join() call. */
  private sendJoin(room: string, automatic: boolean): void {
    const state = this.subscribed.get(room);
    if (!state) return;
    const token = ++this.lastToken;
    state.token = token;
    state.needsJoin = false;
    state.awaiting = true;
    this.inSession.add(room);
    const since = state.position && copy(state.position);
    // The recovery event is for positions the SDK tracked; a join from an explicit `since` answers its caller.
    const announce = automatic && since !== undefined && !state.explicit;
    // No request timeout: waiters time out on their own, and a drop is retried by the next rejoin.
    this.port.join(room, since, (data) => this.joined(room, token, data, announce)).then(undefined, (error: SwitchboardError) => {
      const state = this.subscribed.get(room);
      const current = state?.token === token;
      if (current) state.awaiting = false;
      if (TRANSIENT.has(error.code) || error.code === ErrorCode.Closed) {
        // Not refused, just not confirmed: the next connection joins it, resumed session or not.
        if (current) state.needsJoin = true;
        return;
      }
      if (error.code === ErrorCode.RateLimited || error.code === ErrorCode.ClusterUnavailable) {
        // Not processed (or the cluster's store is away for a moment), so not refused either: the room stays, and its join goes out again after a pause.
        if (current) {
          state.needsJoin = true;
          this.retryLater(room, automatic);
        }
        return;
      }
      if (current) this.subscribed.delete(room);
      const refused = new SwitchboardError(error.code, `join("${room}") refused: ${error.message}`, { cause: error });
      if (!this.settle(room, token, refused) && current) this.port.reportError(refused);
    });
  }

  /** Send the join of `room` again after RATE_LIMITED_RETRY_MS; one timer for all such rooms. */
  private retryLater(room: string, automatic: boolean): void {
    this.retries.set(room, automatic);
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const due = [...this.retries];
      this.retries.clear();
      // Disconnected meanwhile: `needsJoin` has the next connection (or a resume) join it.
      if (!this.port.isConnected()) return;
      for (const [room, automatic] of due) {
        const state = this.subscribed.get(room);
        if (state?.needsJoin && !state.awaiting) this.sendJoin(room, automatic);
      }
    }, RATE_LIMITED_RETRY_MS);
    unrefTimer(this.retryTimer);
  }

  /** A join was confirmed. Runs in wire order: after the replayed events, before any later one. */
  private joined(room: string, token: number, data: unknown, announce: boolean): void {
    const state = this.subscribed.get(room);
    // A reply to an older join (a newer one is on its way), or to one the app left since, changes nothing.
    if (state?.token === token) {
      state.explicit = false;
      state.awaiting = false;
      const reply = toJoinReply(room, data);
      state.position = reply.position && copy(reply.position);
      if (announce && reply.position && reply.recovered !== undefined) {
        this.port.recovered({ room, recovered: reply.recovered, position: copy(reply.position) });
      }
    }
    this.settle(room, token, toJoinReply(room, data));
  }

  /**
   * Settle the waiters of a room created before join `token` was sent: with the reply, or
   * with an error. Returns false when there were none.
   */
  private settle(room: string, token: number, outcome: JoinReply | SwitchboardError): boolean {
    const list = this.waiters.get(room);
    if (!list) return false;
    const due = list.filter((waiter) => waiter.after < token);
    if (due.length === 0) return false;
    const kept = list.filter((waiter) => waiter.after >= token);
    if (kept.length > 0) this.waiters.set(room, kept);
    else this.waiters.delete(room);
    for (const waiter of due) {
      clearTimeout(waiter.timer);
      if (outcome instanceof SwitchboardError) waiter.reject(outcome);
      else waiter.resolve(copyReply(outcome));
    }
    return true;
  }

  private dropWaiter(room: string, waiter: Waiter): void {
    const list = this.waiters.get(room);
    if (!list) return;
    const index = list.indexOf(waiter);
    if (index !== -1) list.splice(index, 1);
    if (list.length === 0) this.waiters.delete(room);
  }
}

/** A well-formed stream position: a string epoch and a non-negative integer offset. */
export function isStreamPosition(value: unknown): value is StreamPosition {
  if (typeof value !== 'object' || value === null) return false;
  const { epoch, offset } = value as Partial<StreamPosition>;
  return typeof epoch === 'string' && typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0;
}

function copy(position: StreamPosition): StreamPosition {
  return { epoch: position.epoch, offset: position.offset };
}

/** The join reply as the app sees it: `durable`, `position` and `recovered` only for a durable room. */
function toJoinReply(room: string, data: unknown): JoinReply {
  const reply: JoinReply = { room };
  const d = (typeof data === 'object' && data !== null ? data : {}) as Partial<Record<keyof JoinReply, unknown>>;
  if (d.durable !== true) return reply;
  reply.durable = true;
  if (isStreamPosition(d.position)) reply.position = copy(d.position);
  if (typeof d.recovered === 'boolean') reply.recovered = d.recovered;
  return reply;
}

function copyReply(reply: JoinReply): JoinReply {
  const copied: JoinReply = { ...reply };
  if (reply.position) copied.position = copy(reply.position);
  return copied;
}
