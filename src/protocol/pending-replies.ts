import { ErrorCode } from './error-codes.js';
import { SwitchboardError } from './errors.js';
import type { ReplyFrame } from './frames.js';

interface Pending {
  resolve(data: unknown): void;
  reject(error: SwitchboardError): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Requests this side sent and awaits replies for, keyed by `ref`. Used by both the
 * server (emitWithAck to a client) and the SDK. One timer per outstanding request:
 * requests are short-lived, unlike connections.
 */
export class PendingReplies {
  private nextRef = 1;
  private readonly pending = new Map<number, Pending>();

  get size(): number {
    return this.pending.size;
  }

  /** Allocate a ref and a promise settled by its reply, its timeout, or `rejectAll`. */
  create(timeoutMs: number, describe: string): { ref: number; reply: Promise<unknown> } {
    const ref = this.nextRef++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(ref);
          reject(new SwitchboardError(ErrorCode.Timeout, `no reply to ${describe} within ${timeoutMs} ms`));
        }, timeoutMs);
        unrefTimer(entry.timer);
      }
      this.pending.set(ref, entry);
    });
    return { ref, reply };
  }

  /** Settle the request a reply answers. Returns false for an unknown or late ref. */
  settle(frame: ReplyFrame): boolean {
    const entry = this.pending.get(frame.ref);
    if (!entry) return false;
    this.pending.delete(frame.ref);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (frame.error) entry.reject(SwitchboardError.fromPayload(frame.error));
    else entry.resolve(frame.data);
    return true;
  }

  /** Fail one request without a reply (e.g. its frame could not be sent). */
  fail(ref: number, error: SwitchboardError): void {
    const entry = this.pending.get(ref);
    if (!entry) return;
    this.pending.delete(ref);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.reject(error);
  }

  rejectAll(error: SwitchboardError): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(error);
    }
  }
}

/** Node timers keep the process alive; a pending request alone should not. */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}
