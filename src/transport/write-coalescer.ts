/** A connection that queues what it sends during a turn and writes it when told. */
export interface CoalescedWriter {
  /** Write everything queued, in order, in one write. */
  flush(): void;
}

/**
 * All frames bound for one socket within an event-loop turn leave in one write: a write
 * is a syscall, and on loopback a core does only 80–90 thousand of them per second, so
 * deliveries per second grow with the frames each write carries. Connections queue
 * their frames and mark themselves dirty here; one `setImmediate` for all of them (not
 * a timer per socket) flushes every dirty connection after the turn's I/O callbacks.
 * A frame waits at most until the end of the current loop iteration.
 */
export class WriteCoalescer {
  private readonly dirty: CoalescedWriter[] = [];
  private scheduled = false;
  private readonly flushAll = (): void => {
    this.scheduled = false;
    const dirty = this.dirty;
    let failure: unknown;
    // By index: a flush never marks anything, but stay correct if one ever does.
    for (let i = 0; i < dirty.length; i++) {
      try {
        (dirty[i] as CoalescedWriter).flush();
      } catch (err) {
        // A bug, not a network error (those reach the socket's 'error' listener): the
        // other connections still get their frames, then it surfaces.
        failure ??= err;
      }
    }
    dirty.length = 0;
    if (failure !== undefined) throw failure;
  };

  /** `writer` has queued its first frame of this turn; it is flushed once at the end of the turn. */
  mark(writer: CoalescedWriter): void {
    this.dirty.push(writer);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushAll);
  }
}

/** The one coalescer of this process: every WebSocket connection flushes in the same callback. */
export const writeCoalescer = new WriteCoalescer();
