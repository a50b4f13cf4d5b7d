import type { ReplyTimers } from '../protocol/pending-replies.js';

/** Timeouts of requests the server sent a client (emitWithAck); they never keep the process alive. */
export const replyTimers: ReplyTimers = {
  start(onTimeout, ms) {
    return setTimeout(onTimeout, ms).unref();
  },
  cancel(timer) {
    clearTimeout(timer as NodeJS.Timeout);
  },
};
