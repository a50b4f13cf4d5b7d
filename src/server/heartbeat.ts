/** What the sweep needs of a session. */
export interface HeartbeatTarget {
  /** heartbeatNow() of the last frame or pong from the peer. */
  lastSeen: number;
  /** heartbeatNow() of the last ping sent to the peer. */
  lastPing: number;
  /** Handshaken and connected: sessions waiting to be resumed have no connection to ping. */
  readonly watched: boolean;
  sendPing(): void;
  expire(): void;
}

/**
 * Whole milliseconds since the process started: the heartbeat's clock. Unlike Date.now()
 * (past 2^31 since 1970) it fits a small integer for 24 days, which V8 keeps inside the
 * session object; an epoch time in a field is a separate 16-byte number per session.
 * Monotonic too: a wall clock set back cannot make every peer look silent at once.
 */
export function heartbeatNow(): number {
  return Math.floor(performance.now());
}

/**
 * One timer for every connection. Each tick pings peers whose interval has passed and
 * drops peers silent for longer than interval + timeout, so a dead peer is gone within
 * interval + timeout + one tick (tick = min(interval, timeout) / 4).
 */
export class HeartbeatSweeper {
  private timer: ReturnType<typeof setInterval> | undefined;
  readonly tickMs: number;

  constructor(
    private readonly targets: Iterable<HeartbeatTarget>,
    private readonly interval: number,
    private readonly timeout: number,
  ) {
    this.tickMs = Math.max(5, Math.floor(Math.min(interval, timeout) / 4));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(heartbeatNow()), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  sweep(now: number): void {
    const deadline = this.interval + this.timeout;
    for (const target of this.targets) {
      if (!target.watched) continue; // the handshake timeout and the resume TTL cover the others
      if (now - target.lastSeen > deadline) target.expire();
      else if (now - target.lastPing >= this.interval) {
        target.lastPing = now;
        target.sendPing();
      }
    }
  }
}
