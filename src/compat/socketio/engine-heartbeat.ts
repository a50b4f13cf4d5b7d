/**
 * Engine.IO v4's heartbeat, server side: the server pings `pingInterval` after the
 * handshake and after each pong; the client has `pingTimeout` to answer. One ping is
 * outstanding at a time. As engine.io does, any other packet from the client while a pong
 * is awaited extends the wait once: a client busy sending a long POST is alive.
 */

/** The timers the heartbeat runs on: the global ones, or a test's clock. */
export interface EngineTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const GLOBAL_TIMERS: EngineTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface HeartbeatEvents {
  /** Queue a ping packet for the client. */
  ping(): void;
  /** The client answered the outstanding ping. */
  pong(): void;
  /** No pong within pingTimeout. */
  timedOut(): void;
}

export class EngineHeartbeat {
  private next: unknown;
  private deadline: unknown;
  private outstanding = false;
  private extended = false;
  private stopped = false;

  constructor(
    private readonly settings: { readonly pingInterval: number; readonly pingTimeout: number },
    private readonly timers: EngineTimers,
    private readonly events: HeartbeatEvents,
  ) {}

  /** Schedule the first ping. */
  start(): void {
    this.schedule();
  }

  /** Ping now unless a ping is outstanding. */
  pingNow(): void {
    if (this.stopped || this.outstanding) return;
    this.timers.clearTimeout(this.next);
    this.next = undefined;
    this.outstanding = true;
    this.extended = false;
    this.deadline = this.timers.setTimeout(() => {
      this.deadline = undefined;
      if (!this.stopped) this.events.timedOut();
    }, this.settings.pingTimeout);
    this.events.ping();
  }

  /** A pong from the client; one without an outstanding ping is ignored. */
  pong(): void {
    if (this.stopped || !this.outstanding) return;
    this.outstanding = false;
    this.timers.clearTimeout(this.deadline);
    this.deadline = undefined;
    this.schedule();
    this.events.pong();
  }

  /** Any other packet from the client. */
  activity(): void {
    if (this.stopped || !this.outstanding || this.extended) return;
    this.extended = true;
    this.timers.clearTimeout(this.deadline);
    this.deadline = this.timers.setTimeout(() => {
      this.deadline = undefined;
      if (!this.stopped) this.events.timedOut();
    }, this.settings.pingTimeout);
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.next);
    this.timers.clearTimeout(this.deadline);
    this.next = this.deadline = undefined;
  }

  private schedule(): void {
    this.timers.clearTimeout(this.next);
    this.next = this.timers.setTimeout(() => {
      this.next = undefined;
      this.pingNow();
    }, this.settings.pingInterval);
  }
}
