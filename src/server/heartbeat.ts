/** What the sweep needs of a session. */
export interface HeartbeatTarget {
  /** Epoch ms of the last frame or pong from the peer. */
  lastSeen: number;
  /** Epoch ms of the last ping sent to the peer. */
  lastPing: number;
  /** Handshaken and connected: sessions waiting to be resumed have no connection to ping. */
  readonly watched: boolean;
  sendPing(): void;
  expire(): void;
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
    this.timer = setInterval(() => this.sweep(Date.now()), this.tickMs);
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
