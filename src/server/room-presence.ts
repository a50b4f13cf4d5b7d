import { type RoomMatcher, roomPredicate, streamKey } from '../delivery/durable-rooms.js';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import type { PresenceFrame, PresenceMember } from '../protocol/frames.js';
import type { PresenceChange, PresenceStore } from '../cluster/presence-store.js';

/** Who a socket is, for presence: the user it belongs to (several tabs, one user) and what to tell about them. */
export interface PresenceRule<S> {
  /** The user of a socket; undefined leaves the socket out of presence. Default: `socket.user` when middleware set one, else the socket id (each connection its own user). */
  user?: (socket: S) => string | undefined;
  /** What the room's members are told about the user (JSON), taken from the user's first connection. Default: null. */
  info?: (socket: S) => unknown;
}

/** What presence needs of its namespace. */
export interface PresenceScope {
  readonly name: string;
  readonly store: PresenceStore;
  /** Send a presence frame to the room's members on every node. */
  announce(room: string, frame: PresenceFrame): void;
  reportError(err: unknown, context: Record<string, unknown>): void;
}

/**
 * Presence of one namespace's rooms, by user and cluster-wide: a user is present while any
 * of their connections, on any node, is in the room. The first connection in announces
 * `join` to the room, the last one out `leave`; a session waiting to be resumed stays in
 * its rooms, so a dropped link does not flicker the user out and back.
 */
export class RoomPresence<S extends { readonly id: string; readonly user?: string | undefined }> {
  private readonly rules: { matches: (room: string) => boolean; rule: PresenceRule<S> }[] = [];

  constructor(private readonly scope: PresenceScope) {}

  track(rooms: RoomMatcher, rule: PresenceRule<S>): void {
    this.rules.push({ matches: roomPredicate(rooms), rule });
  }

  get any(): boolean {
    return this.rules.length > 0;
  }

  /** Whether `room` has presence (a socket's own room never has). */
  tracks(room: string): boolean {
    return this.ruleFor(room) !== undefined;
  }

  entered(socket: S, room: string): void {
    if (room === socket.id) return;
    const rule = this.ruleFor(room);
    if (!rule) return;
    let user: string | undefined;
    let info: unknown = null;
    try {
      user = rule.user ? rule.user(socket) : (socket.user ?? socket.id);
      if (user !== undefined && rule.info) info = rule.info(socket) ?? null;
    } catch (err) {
      this.scope.reportError(err, { session: socket.id, room, phase: 'presence' });
      return;
    }
    if (typeof user !== 'string') return;
    this.settle(this.scope.store.add(streamKey(this.scope.name, room), user, socket.id, info), room);
  }

  left(socket: S, room: string): void {
    if (room === socket.id || !this.ruleFor(room)) return;
    this.settle(this.scope.store.remove(streamKey(this.scope.name, room), socket.id), room);
  }

  /** The users present in `room` across the cluster, sorted by user. */
  async members(room: string): Promise<PresenceMember[]> {
    const entries = await this.scope.store.list(streamKey(this.scope.name, room));
    return entries.map((e) => ({ user: e.user, info: e.info ?? null }));
  }

  /** Tell the room about a change (also those of a crashed node, found by whichever node cleaned up). */
  announce(change: Pick<PresenceChange, 'kind' | 'user' | 'info'>, room: string): void {
    const frame: PresenceFrame = { type: 'presence', room, kind: change.kind, user: change.user, info: change.info ?? null };
    if (this.scope.name !== ROOT_NAMESPACE) frame.ns = this.scope.name;
    this.scope.announce(room, frame);
  }

  private settle(pending: Promise<PresenceChange | undefined>, room: string): void {
    pending.then(
      (change) => {
        if (change) this.announce(change, room);
      },
      (err: unknown) => this.scope.reportError(err, { room, phase: 'presence' }),
    );
  }

  private ruleFor(room: string): PresenceRule<S> | undefined {
    for (const r of this.rules) if (r.matches(room)) return r.rule;
    return undefined;
  }
}
