import type { StreamPosition } from '../protocol/frames.js';
import type { ClusterPublication } from '../cluster/adapter.js';
import { streamKey, withPosition } from '../delivery/durable-rooms.js';
import type { HistoryLimits, StreamEntry, StreamRead } from '../delivery/stream-store.js';
import { SharedFrame } from '../transport/shared-frame.js';
import type { DeliveryStreams, Recipient } from './broadcast.js';
import { durableFrameFor, type InRoom, PublicationFrames } from './durable-frames.js';
import type { ResumeLog } from './resume-log.js';
import type { ServerCounters } from './server-counters.js';

/** What the feed needs of the node: its members of a durable room, and the room's limits. */
export interface FeedRooms {
  /** This node's members of `room` in namespace `ns`: one, a set, or none. */
  held(ns: string, room: string): Recipient | ReadonlySet<Recipient> | undefined;
  /** Whether `member` is in `room` of namespace `ns` (a socket id is a room): how exclusions are checked. */
  has: InRoom;
  durableLimits(ns: string, room: string): HistoryLimits | undefined;
  /** Where publications are kept for members waiting to be resumed. */
  readonly resumeLog: ResumeLog;
  reportError(err: unknown, context: Record<string, unknown>): void;
  /** The node's numbers: publications delivered here are broadcasts; joins with a position are recoveries. */
  readonly counters: ServerCounters;
}

/** A client joining a durable room (see DurableFeed.join). */
export interface FeedJoiner {
  readonly recipient: Recipient;
  /** False once the joiner left: the join is dropped. */
  readonly connected: boolean;
  /** Send one publication of the replay. */
  replay(frame: SharedFrame): void;
  /** Become a member: from now on the feed delivers to it. */
  enter(): void;
}

/**
 * Delivers durable publications to this node's members in stream order, whatever order
 * and however often they arrive: each stream remembers the last position it delivered, a
 * repeat is dropped and a gap (a message lost with a Redis link, or one that overtook
 * another) is filled from the stream store before the publication that revealed it. A
 * gap history no longer holds cuts the members off (4009): they rejoin and are told
 * `recovered: false`, never left with a silent hole. A publication of another epoch is
 * such a gap: what was missed of the old epoch cannot be known (see restarted).
 *
 * Each member gets the frame durableFrameFor chooses: the event, or a `position` frame
 * when the publication's exclusions leave it out of live delivery.
 *
 * Joins run in the same per-stream sequence as deliveries, so a replay and the live
 * publications after it neither overlap nor leave a gap: a joiner whose replay went past
 * what this node has delivered skips those publications when they arrive.
 */
export class DurableFeed {
  /** Per stream: the last publication handed to this node's members (with its room, for a catch-up). */
  private readonly delivered = new Map<string, ClusterPublication>();
  /** Per stream: joiners whose replay reached further than `delivered`, and how far. */
  private readonly replayedTo = new Map<string, Map<Recipient, StreamPosition>>();

  constructor(
    private readonly streams: DeliveryStreams,
    private readonly rooms: FeedRooms,
  ) {}

  /** A publication arrived (from this node or another): deliver it now, or in its stream's turn. */
  arrive(publication: ClusterPublication): void {
    const { sequencer } = this.streams;
    if (sequencer.idle(publication.stream) && !this.outOfTurn(publication)) {
      this.deliver(publication);
      return;
    }
    sequencer
      .run(publication.stream, () => this.deliverInOrder(publication))
      .catch((err: unknown) => this.rooms.reportError(err, { room: publication.room, stream: publication.stream }));
  }

  /**
   * Replay a durable room's history after `since` (or none without it), make the joiner a
   * member, and return the position it is at. A store that fails rejects (the joiner is
   * not a member then).
   */
  join(ns: string, room: string, since: StreamPosition | undefined, limits: HistoryLimits, joiner: FeedJoiner): Promise<{ position: StreamPosition; recovered?: boolean } | undefined> {
    const stream = streamKey(ns, room);
    return this.streams.sequencer.run(stream, async () => {
      if (!joiner.connected) return undefined;
      const { store } = this.streams;
      let read: StreamRead | undefined;
      let position: StreamPosition;
      if (since) {
        read = await store.read(stream, { since }, limits);
        position = read.position;
      } else {
        position = await store.position(stream);
      }
      if (!joiner.connected) return undefined;
      // All of the gap or none of it: a partial replay would hide a hole.
      if (read?.ok) for (const e of read.entries) joiner.replay(new SharedFrame(withPosition(e.payload, e.position.epoch, e.position.offset)));
      joiner.enter();
      const delivered = this.delivered.get(stream)?.position;
      if (!delivered && this.alone(ns, room, joiner.recipient)) {
        // The stream's place here: a later arrival past it is a gap to fill, one of another epoch a restart.
        // (With other members, which the server joined, publications still on their way are theirs: not yet.)
        this.delivered.set(stream, { ns, room, stream, position, payload: '' });
      } else if (!delivered || delivered.epoch !== position.epoch || delivered.offset < position.offset) {
        let skips = this.replayedTo.get(stream);
        if (!skips) this.replayedTo.set(stream, (skips = new Map()));
        else this.forgetLeavers(skips, ns, room);
        skips.set(joiner.recipient, position);
      }
      if (!read) return { position };
      if (read.ok) this.rooms.counters.recovered++;
      else this.rooms.counters.unrecovered++;
      return { position, recovered: read.ok };
    });
  }

  /**
   * The link to the other nodes was lost and came back: publications made meanwhile never
   * arrived, and nothing may come to reveal the gap. Read each stream this node delivers
   * past its last position, in the stream's turn.
   */
  catchUp(): void {
    for (const last of this.delivered.values()) {
      this.streams.sequencer
        .run(last.stream, async () => {
          const current = this.delivered.get(last.stream);
          if (!current) return;
          const limits = this.rooms.durableLimits(current.ns, current.room);
          if (!limits) return;
          const { store } = this.streams;
          let read = await store.read(current.stream, { since: current.position }, limits);
          if (!read.ok && read.position.epoch !== current.position.epoch) {
            // The stream restarted while the link was down: its new epoch from the start.
            read = await store.read(current.stream, { since: this.restarted(current, read.position.epoch) }, limits);
          }
          if (!read.ok) {
            this.forEachMember(current, (r) => r.lostPublications());
            return;
          }
          for (const e of read.entries) this.deliver(stored(current, e));
        })
        .catch((err: unknown) => this.rooms.reportError(err, { room: last.room, stream: last.stream, phase: 'catch-up' }));
    }
  }

  /** Whether `r` is this node's only member of the room. */
  private alone(ns: string, room: string, r: Recipient): boolean {
    const members = this.rooms.held(ns, room);
    return members === r || (members instanceof Set && members.size === 1 && members.has(r));
  }

  /** Joiners that left the room before a publication came to clear their entry: a quiet room must not hold on to them. */
  private forgetLeavers(skips: Map<Recipient, StreamPosition>, ns: string, room: string): void {
    const members = this.rooms.held(ns, room);
    for (const r of skips.keys()) {
      const member = members !== undefined && (members instanceof Set ? members.has(r) : members === r);
      if (!member) skips.delete(r);
    }
  }

  /** Whether publications before this one are missing here: a gap in its epoch, or the start of a new epoch. */
  /** Whether `p` is not simply the next one: publications before it are missing here, or it was delivered already (a joiner recorded a position past it). */
  private outOfTurn(p: ClusterPublication): boolean {
    const last = this.delivered.get(p.stream)?.position;
    return last !== undefined && (last.epoch !== p.position.epoch || p.position.offset !== last.offset + 1);
  }

  private async deliverInOrder(p: ClusterPublication): Promise<void> {
    let last = this.delivered.get(p.stream)?.position;
    // Offsets of two epochs say nothing about each other: the new epoch's publications before this one are a gap too.
    if (last && last.epoch !== p.position.epoch) last = this.restarted(p, p.position.epoch);
    if (last) {
      if (p.position.offset <= last.offset) return; // delivered already (a repeat, or filled from the store)
      if (p.position.offset > last.offset + 1) await this.fill(p, last);
    }
    this.deliver(p);
  }

  /**
   * The stream restarted under `epoch` (its history was lost: Redis restarted without
   * persistence, or its meta expired). What this node's members missed of the old epoch is
   * gone and cannot be told apart from nothing, so every member positioned in an older
   * epoch is cut off (4009) to rejoin and be told `recovered: false`; joiners whose join
   * already placed them in the new epoch go on from there. Returns the new epoch's start,
   * from which the caller fills what came before its publication.
   */
  private restarted(info: ClusterPublication, epoch: string): StreamPosition {
    const skips = this.replayedTo.get(info.stream);
    this.forEachMember(info, (r) => {
      if (skips?.get(r)?.epoch !== epoch) r.lostPublications();
    });
    if (skips) for (const [r, at] of skips) if (at.epoch !== epoch) skips.delete(r);
    const start = { epoch, offset: 0 };
    this.delivered.set(info.stream, { ...info, position: start });
    return start;
  }

  /** Deliver what is missing between `last` and `p` from the store; cut the members off when history no longer has it. */
  private async fill(p: ClusterPublication, last: StreamPosition): Promise<void> {
    const limits = this.rooms.durableLimits(p.ns, p.room);
    const read = limits ? await this.streams.store.read(p.stream, { since: last, limit: p.position.offset - last.offset - 1 }, limits) : undefined;
    if (!read?.ok) {
      this.forEachMember(p, (r) => r.lostPublications());
      return;
    }
    for (const e of read.entries) {
      if (e.position.epoch !== p.position.epoch || e.position.offset >= p.position.offset) break;
      this.deliver(stored(p, e));
    }
  }

  /** Hand one publication to this node's members, in its turn: each gets the frame durableFrameFor chooses. */
  private deliver(p: ClusterPublication): void {
    const members = this.rooms.held(p.ns, p.room);
    if (members === undefined) {
      // Nobody here: nothing to keep in order (a later joiner starts from the store).
      this.delivered.delete(p.stream);
      this.replayedTo.delete(p.stream);
      return;
    }
    this.delivered.set(p.stream, p);
    this.rooms.counters.broadcasts++;
    const frames = new PublicationFrames(p, this.rooms.has);
    const log = this.rooms.resumeLog;
    // Kept once for members waiting to be resumed: they are handed it like the others (see Socket.frameOf).
    if (log.active) log.append(p.ns, [p.room], p.except ?? NO_EXCEPTIONS, frames.eventFrame(), p.except?.length ? frames.positionFrame() : undefined);
    const skips = this.replayedTo.get(p.stream);
    if (!skips) {
      this.forEachMember(p, (r) => r.deliverDurable(durableFrameFor(frames, r)), members);
      return;
    }
    this.forEachMember(p, (r) => {
      const replayed = skips.get(r);
      if (replayed === undefined || replayed.epoch !== p.position.epoch || replayed.offset < p.position.offset) r.deliverDurable(durableFrameFor(frames, r));
    }, members);
    for (const [r, replayed] of skips) if (replayed.epoch !== p.position.epoch || replayed.offset <= p.position.offset) skips.delete(r);
    if (skips.size === 0) this.replayedTo.delete(p.stream);
  }

  private forEachMember(p: ClusterPublication, act: (r: Recipient) => void, members = this.rooms.held(p.ns, p.room)): void {
    if (members === undefined) return;
    if (!(members instanceof Set)) {
      act(members as Recipient);
      return;
    }
    for (const r of members as ReadonlySet<Recipient>) act(r);
  }
}

const NO_EXCEPTIONS: readonly string[] = [];

/** A publication read back from the store, in the room of `like`. */
function stored(like: ClusterPublication, e: StreamEntry): ClusterPublication {
  const p: ClusterPublication = { ns: like.ns, room: like.room, stream: like.stream, position: e.position, payload: e.payload };
  // Its own exclusions, stored with it: a filled gap leaves out the members its live delivery would have.
  if (e.except) p.except = e.except;
  return p;
}
