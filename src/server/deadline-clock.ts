/** Something the clock calls back at a time: the entry is the object itself, no closure per owner. */
export interface Deadline {
  /** Epoch ms the clock calls `due()` at. Set by the clock; read only for owners. */
  dueAt: number;
  /** Position in the clock's heap, -1 when not scheduled. Owned by the clock. */
  heapIndex: number;
  due(now: number): void;
}

/** setTimeout turns longer delays into 1 ms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * One timer for any number of deadlines (credential expiries, reauth answers): a binary
 * min-heap keyed by due time, with the timer armed for the earliest. Scheduling and
 * cancelling are O(log n); connections cost a heap slot, not a timer each.
 */
export class DeadlineClock {
  private readonly heap: Deadline[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires; Infinity when none is armed. */
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.heap.length;
  }

  /** Call `entry.due()` at `at` (epoch ms), replacing the time it was scheduled for. */
  schedule(entry: Deadline, at: number): void {
    if (entry.heapIndex >= 0) this.remove(entry);
    entry.dueAt = at;
    entry.heapIndex = this.heap.length;
    this.heap.push(entry);
    this.up(entry.heapIndex);
    this.arm();
  }

  cancel(entry: Deadline): void {
    if (entry.heapIndex < 0) return;
    this.remove(entry);
    // A timer armed for a cancelled entry just fires early and re-arms: cheaper than clearing it each time.
    if (this.heap.length === 0) this.disarm();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    const due: Deadline[] = [];
    for (let top = this.heap[0]; top !== undefined && top.dueAt <= now; top = this.heap[0]) {
      this.remove(top);
      due.push(top);
    }
    // Collected first: a due() that schedules again for a past time waits for the next turn
    // instead of spinning here. One rescheduled by an earlier due() meanwhile is not due.
    for (const entry of due) if (entry.heapIndex < 0) entry.due(now);
    this.arm();
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top || top.dueAt >= this.armedFor) return;
    this.disarm();
    this.armedFor = top.dueAt;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, top.dueAt - this.now()));
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private remove(entry: Deadline): void {
    const i = entry.heapIndex;
    const last = this.heap.pop() as Deadline;
    entry.heapIndex = -1;
    if (last === entry) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }

  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Deadline).dueAt <= (heap[i] as Deadline).dueAt) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && (heap[left] as Deadline).dueAt < (heap[least] as Deadline).dueAt) least = left;
      if (right < heap.length && (heap[right] as Deadline).dueAt < (heap[least] as Deadline).dueAt) least = right;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    const x = heap[a] as Deadline;
    const y = heap[b] as Deadline;
    heap[a] = y;
    heap[b] = x;
    x.heapIndex = b;
    y.heapIndex = a;
  }
}
