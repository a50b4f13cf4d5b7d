import { ErrorCode } from './error-codes.js';
import { SwitchboardError } from './errors.js';
import type { ReplyFrame } from './frames.js';

/**
 * Starts and cancels the timeouts of requests. The side that owns timers supplies it (the
 * server and the SDK each have theirs): the protocol layer keeps no clock of its own.
 */
export interface ReplyTimers {
  /** Call `onTimeout` once after `ms`; returns what `cancel` takes. */
  start(onTimeout: () => void, ms: number): unknown;
  cancel(timer: unknown): void;
}

interface Pending {
  resolve(data: unknown): void;
  reject(error: SwitchboardError): void;
  timer: unknown;
}

/**
 * Requests this side sent and awaits replies for, keyed by `ref`. Used by both the
 * server (emitWithAck to a client) and the SDK. One timer per outstanding request:
 * requests are short-lived, unlike connections.
 */
export class PendingReplies {
  private nextRef = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly timers: ReplyTimers) {}

  get size(): number {
    return this.pending.size;
  }

  /** Allocate a ref and a promise settled by its reply, its timeout (none if 0 or Infinity), or `rejectAll`. */
  create(timeoutMs: number, describe: string): { ref: number; reply: Promise<unknown> } {
    const ref = this.nextRef++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { resolve, reject, timer: undefined };
      this.pending.set(ref, entry);
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        entry.timer = this.timers.start(() => {
          if (this.pending.get(ref) !== entry) return;
          this.pending.delete(ref);
          reject(new SwitchboardError(ErrorCode.Timeout, `no reply to ${describe} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
    return { ref, reply };
  }

  /** Settle the request a reply answers. Returns false for an unknown or late ref. */
  settle(frame: ReplyFrame): boolean {
    const entry = this.take(frame.ref);
    if (!entry) return false;
    if (frame.error) entry.reject(SwitchboardError.fromPayload(frame.error));
    else entry.resolve(frame.data);
    return true;
  }

  /** Fail one request without a reply (e.g. its frame could not be sent). */
  fail(ref: number, error: SwitchboardError): void {
    this.take(ref)?.reject(error);
  }

  rejectAll(error: SwitchboardError): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      if (entry.timer !== undefined) this.timers.cancel(entry.timer);
      entry.reject(error);
    }
  }

  private take(ref: number): Pending | undefined {
    const entry = this.pending.get(ref);
    if (!entry) return undefined;
    this.pending.delete(ref);
    if (entry.timer !== undefined) this.timers.cancel(entry.timer);
    return entry;
  }
}
