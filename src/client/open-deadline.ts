import { CloseCode } from '../protocol/close-codes.js';
import type { TransportClosed } from './client-transport.js';

/** Fails an HTTP transport that has not opened within `ms` (Infinity: never). */
export class OpenDeadline {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number, expired: (closed: TransportClosed) => void) {
    if (!Number.isFinite(ms)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      expired({ code: CloseCode.Abnormal, reason: '', opened: false, errorMessage: `not open within ${ms} ms` });
    }, ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
