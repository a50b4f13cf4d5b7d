import { unrefTimer } from './timers.js';

/**
 * Declares the connection dead when the server has been silent for longer than
 * `silenceMs` (the welcome's heartbeat interval + timeout). The server pings every
 * interval, so silence that long means a half-open TCP connection that the socket alone
 * would not notice for minutes.
 *
 * `touch()` runs for every incoming frame, so it only stores a timestamp; the single timer
 * re-arms itself for the remaining time instead of being reset per frame.
 */
export class HeartbeatWatchdog {
  private lastSeen = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly silenceMs: number,
    private readonly onSilence: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.lastSeen = this.now();
    this.arm(this.silenceMs);
  }

  touch(): void {
    this.lastSeen = this.now();
  }

  /**
   * Whether the silence is already past the limit, judged by the clock rather than the timer:
   * a browser freezes timers while the device sleeps, so after a wake the timer may be late.
   */
  get overdue(): boolean {
    return this.timer !== undefined && this.now() - this.lastSeen >= this.silenceMs;
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => this.check(), delay);
    // The socket keeps the process alive while connected; the watchdog alone should not.
    unrefTimer(this.timer);
  }

  private check(): void {
    const silentFor = this.now() - this.lastSeen;
    if (silentFor >= this.silenceMs) {
      this.timer = undefined;
      this.onSilence();
    } else {
      this.arm(this.silenceMs - silentFor);
    }
  }
}
