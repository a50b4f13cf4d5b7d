import type { SharedFrame } from '../transport/shared-frame.js';

type Kept = string | SharedFrame;

/** A ring that has grown past this many slots is let go once it is empty (an idle session keeps little). */
const IDLE_RING_SLOTS = 64;
/** The ring of every SentFrames that has kept nothing yet: never written to (add() grows it first). */
const NO_SLOTS: (Kept | undefined)[] = [];

/**
 * Every frame a session sent after its welcome, numbered from 1, kept until the client
 * acknowledges it has received it. A resuming client says how many it received; the
 * frames after that are sent again — including those that were in flight or still in a
 * socket buffer when the link died, which the server cannot otherwise know were lost.
 * Frames are kept by reference: a broadcast encoded and framed once stays shared, and a
 * replay writes the same bytes again.
 *
 * Kept in a ring that grows by doubling up to the bound: recording a frame (once per
 * recipient of every broadcast) and forgetting acknowledged ones copy nothing.
 */
export class SentFrames {
  private ring: (Kept | undefined)[] = NO_SLOTS;
  /** Slot of the oldest kept frame. */
  private start = 0;
  private kept = 0;
  /** Number of the oldest kept frame. */
  private firstNumber = 1;
  private bytes = 0;
  /** Frames sent so far. */
  private count = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  get sent(): number {
    return this.count;
  }

  /**
   * Record a frame. Nothing is forgotten until acknowledged: past the bounds (`over`) the
   * session keeps what follows elsewhere (ResumeFrames), and a resume's replay, which may be
   * longer than the bounds, stays whole until acknowledged.
   */
  add(frame: Kept): void {
    if (this.kept === this.ring.length) this.grow();
    const capacity = this.ring.length;
    let slot = this.start + this.kept;
    if (slot >= capacity) slot -= capacity;
    this.ring[slot] = frame;
    this.kept++;
    this.bytes += frame.length;
    this.count++;
  }

  /** The bounds are reached: what follows must be kept another way. */
  get over(): boolean {
    return this.kept >= this.maxFrames || this.bytes >= this.maxBytes;
  }

  /** Forget every kept frame and count on from `total` frames sent (those not kept cannot be replayed). */
  skipTo(total: number): void {
    while (this.kept > 0) this.dropOldest();
    this.count = Math.max(this.count, total);
    this.firstNumber = this.count + 1;
    this.start = 0;
    if (this.ring.length > IDLE_RING_SLOTS) this.ring = NO_SLOTS;
  }

  /** The client has received the first `received` frames: they need not be kept. */
  acknowledge(received: number): void {
    const upTo = Math.min(received, this.count);
    while (this.kept > 0 && this.firstNumber <= upTo) this.dropOldest();
    if (this.kept === 0) {
      this.firstNumber = this.count + 1;
      this.start = 0;
      if (this.ring.length > IDLE_RING_SLOTS) this.ring = NO_SLOTS;
    }
  }

  /** Whether every frame after `received` is still kept (and `received` is not in the future). */
  canReplayAfter(received: number): boolean {
    return received <= this.count && received >= this.firstNumber - 1;
  }

  /** The frames after the first `received`, oldest first. Check canReplayAfter() first. */
  after(received: number): Kept[] {
    const skip = Math.max(0, received - this.firstNumber + 1);
    const frames: Kept[] = [];
    for (let i = skip; i < this.kept; i++) frames.push(this.at(i));
    return frames;
  }

  /** The i-th kept frame, 0 being the oldest. */
  private at(i: number): Kept {
    let slot = this.start + i;
    if (slot >= this.ring.length) slot -= this.ring.length;
    return this.ring[slot] as Kept;
  }

  private dropOldest(): void {
    const frame = this.ring[this.start] as Kept;
    this.ring[this.start] = undefined;
    this.start = this.start + 1 === this.ring.length ? 0 : this.start + 1;
    this.kept--;
    this.firstNumber++;
    this.bytes -= frame.length;
  }

  /** Double the ring (up to one slot past the frame bound, unless a replay holds more), oldest first. */
  private grow(): void {
    const doubled = Math.max(8, this.ring.length * 2);
    const capacity = this.kept <= this.maxFrames ? Math.min(doubled, this.maxFrames + 1) : doubled;
    const ring: (Kept | undefined)[] = new Array(capacity);
    for (let i = 0; i < this.kept; i++) ring[i] = this.at(i);
    this.ring = ring;
    this.start = 0;
  }
}
