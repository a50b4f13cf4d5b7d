import type { ErrorPayload } from '../protocol/frames.js';

/** The reply a reliable publish got: handler data, or an error. */
export type StoredReply = { data: unknown; error?: undefined } | { error: ErrorPayload; data?: undefined };

type Entry = { done: false; waiting: number[] } | { done: true; reply: StoredReply };

/** What to do with a reliable publish that arrived. */
export type DedupeDecision =
  /** First time: run the handler, then call complete(). */
  | { kind: 'run' }
  /** Its handler is still running: the reply will also go to this ref. */
  | { kind: 'wait' }
  /** Already handled: answer with the stored reply, do not run the handler again. */
  | { kind: 'answer'; reply: StoredReply };

/**
 * The server side of reliable client publishes: remembers the last `size` sequence numbers
 * of one session, so a publish re-sent after a reconnect runs its handler once and gets
 * the first run's reply. Sequence numbers older than the window are treated as new: the
 * client's outbox never holds that many unacknowledged publishes (it is bounded below it).
 */
export class DedupeWindow {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly size: number) {}

  claim(seq: number, ref: number): DedupeDecision {
    const entry = this.entries.get(seq);
    if (!entry) {
      this.entries.set(seq, { done: false, waiting: [ref] });
      this.evict();
      return { kind: 'run' };
    }
    if (entry.done) return { kind: 'answer', reply: entry.reply };
    entry.waiting.push(ref);
    return { kind: 'wait' };
  }

  /** Record the reply; returns every ref that asked for it. */
  complete(seq: number, reply: StoredReply): number[] {
    const entry = this.entries.get(seq);
    if (!entry || entry.done) return [];
    this.entries.set(seq, { done: true, reply });
    return entry.waiting;
  }

  /** The handled publishes and their replies, oldest first: what another node needs to go on deduplicating. */
  handled(): [seq: number, reply: StoredReply][] {
    const out: [number, StoredReply][] = [];
    for (const [seq, entry] of this.entries) if (entry.done) out.push([seq, entry.reply]);
    return out;
  }

  /** Take over what another node's window handled (see handled()). */
  restore(handled: readonly (readonly [number, StoredReply])[]): void {
    for (const [seq, reply] of handled) if (!this.entries.has(seq)) this.entries.set(seq, { done: true, reply });
    this.evict();
  }

  private evict(): void {
    // Maps iterate in insertion order: the first keys are the oldest sequence numbers.
    for (const seq of this.entries.keys()) {
      if (this.entries.size <= this.size) return;
      const entry = this.entries.get(seq);
      if (entry?.done) this.entries.delete(seq);
      else return; // never forget a publish whose handler is still running
    }
  }
}
