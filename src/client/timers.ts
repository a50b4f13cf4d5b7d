import type { ReplyTimers } from '../protocol/pending-replies.js';

/** Node timers keep the process alive; a pending request or a retry alone should not. */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}

/** Request timeouts on the platform's timers (browser or Node), never keeping Node alive. */
export const replyTimers: ReplyTimers = {
  start(onTimeout, ms) {
    const timer = setTimeout(onTimeout, ms);
    unrefTimer(timer);
    return timer;
  },
  cancel(timer) {
    clearTimeout(timer as ReturnType<typeof setTimeout>);
  },
};
