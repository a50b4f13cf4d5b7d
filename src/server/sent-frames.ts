/**
 * Every frame a session sent after its welcome, numbered from 1, kept until the client
 * acknowledges it has received it. A resuming client says how many it received; the
 * frames after that are sent again — including those that were in flight or still in a
 * socket buffer when the link died, which the server cannot otherwise know were lost.
 * Frames are kept by reference: a broadcast encoded once stays shared.
 */
export class SentFrames {
  private frames: (string | Uint8Array)[] = [];
  /** Number of the frame at frames[head]. */
  private firstNumber = 1;
  private head = 0;
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

  /** Record a frame. Past the bounds the oldest are forgotten (a resume from before them fails). */
  add(frame: string | Uint8Array): void {
    this.frames.push(frame);
    this.bytes += frame.length;
    this.count++;
    while (this.kept > this.maxFrames || (this.bytes > this.maxBytes && this.kept > 1)) this.dropOldest();
  }

  /** The client has received the first `received` frames: they need not be kept. */
  acknowledge(received: number): void {
    const upTo = Math.min(received, this.count);
    while (this.kept > 0 && this.firstNumber <= upTo) this.dropOldest();
    if (this.kept === 0) this.firstNumber = this.count + 1;
  }

  /** Whether every frame after `received` is still kept (and `received` is not in the future). */
  canReplayAfter(received: number): boolean {
    return received <= this.count && received >= this.firstNumber - 1;
  }

  /** The frames after the first `received`, oldest first. Check canReplayAfter() first. */
  after(received: number): (string | Uint8Array)[] {
    const start = this.head + (received - this.firstNumber + 1);
    return this.frames.slice(Math.max(start, this.head));
  }

  /** Whether a frame beyond the bounds has been forgotten since the last acknowledgement. */
  get full(): boolean {
    return this.kept >= this.maxFrames || this.bytes >= this.maxBytes;
  }

  private get kept(): number {
    return this.frames.length - this.head;
  }

  private dropOldest(): void {
    const frame = this.frames[this.head] as string | Uint8Array;
    this.frames[this.head] = '';
    this.head++;
    this.firstNumber++;
    this.bytes -= frame.length;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
