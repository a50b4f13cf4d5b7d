import { encodeFrame } from '../protocol/codec.js';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import type { PositionFrame } from '../protocol/frames.js';
import type { ClusterPublication } from '../cluster/adapter.js';
import { withPosition } from '../delivery/durable-rooms.js';
import { SharedFrame } from '../transport/shared-frame.js';
import type { Recipient } from './broadcast.js';

/** Whether `member` is in `room` of the publication's namespace (a socket id is a room). */
export type InRoom = (ns: string, room: string, member: Recipient) => boolean;

/**
 * Whether a publication's exclusions (`socket.to(room)`, `except()`) leave `member` out of
 * its live delivery: it is in one of the excluded rooms now, as BroadcastOperator decides
 * for ordinary rooms.
 */
export function excludedFromLive(publication: ClusterPublication, member: Recipient, inRoom: InRoom): boolean {
  const except = publication.except;
  if (except === undefined) return false;
  for (let i = 0; i < except.length; i++) if (inRoom(publication.ns, except[i] as string, member)) return true;
  return false;
}

/**
 * The frames of one durable publication for this node's members, each encoded once and
 * shared by every member that gets it. A member gets the event, or — when the
 * publication's exclusions leave it out — a `position` frame: the room's stream moved past
 * a publication that was not for it, so its tracked position (and a later `since`) moves
 * past it too, without a replay or a gap.
 */
export class PublicationFrames {
  private event: SharedFrame | undefined;
  private position: SharedFrame | undefined;

  constructor(
    readonly publication: ClusterPublication,
    private readonly inRoom: InRoom,
  ) {}

  /** The event frame with the publication's position. */
  eventFrame(): SharedFrame {
    const p = this.publication;
    return (this.event ??= new SharedFrame(withPosition(p.payload, p.position.epoch, p.position.offset)));
  }

  /** `{"type":"position","room":…,"position":…}` (with `ns` outside the root namespace). */
  positionFrame(): SharedFrame {
    const p = this.publication;
    if (!this.position) {
      const frame: PositionFrame = { type: 'position', room: p.room, position: p.position };
      if (p.ns !== ROOT_NAMESPACE) frame.ns = p.ns;
      this.position = new SharedFrame(encodeFrame(frame));
    }
    return this.position;
  }

  /** Whether the exclusions leave `member` out of live delivery (see excludedFromLive). */
  excludes(member: Recipient): boolean {
    return excludedFromLive(this.publication, member, this.inRoom);
  }
}

/**
 * Which frame a member of a durable room gets of a publication: the event frame, or the
 * `position` frame when the publication's exclusions leave the member out of live delivery.
 * A function of the member and the publication only, so whatever hands publications to a
 * member (live delivery, a gap filled from the store, a session waiting to resume) makes
 * the same choice.
 */
export function durableFrameFor(frames: PublicationFrames, member: Recipient): SharedFrame {
  return frames.excludes(member) ? frames.positionFrame() : frames.eventFrame();
}
