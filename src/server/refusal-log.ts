import type { ServerLog } from './server-log.js';

/** Lines a kind of refusal (message and code) may write per second; the rest are counted and summed up. */
export const REFUSAL_LINES_PER_SECOND = 10;

/** The time and a timer, injectable so that tests move time instead of waiting. */
export interface RefusalClock {
  now(): number;
  /** Call `fire` after `ms` milliseconds; must not keep the process alive. */
  later(fire: () => void, ms: number): void;
}

export const systemClock: RefusalClock = {
  now: Date.now,
  later: (fire, ms) => void setTimeout(fire, ms).unref(),
};

/** One kind of refusal in the second it was last seen. */
interface Streak {
  readonly level: 'warn' | 'info';
  /** The second (epoch ms / 1000, floored) the lines are counted in. */
  second: number;
  lines: number;
  suppressed: number;
}

/**
 * Refusal lines, bounded: one address hammering the server with refused upgrades would
 * otherwise write a line per attempt. Per message and code, the first
 * REFUSAL_LINES_PER_SECOND lines of each second are written; the others are counted, and
 * their number is written as one line `{ code, suppressed, of }` "refusals suppressed" when
 * the next second starts (a timer) or before the next line of that kind, whichever comes
 * first. Only the log is bounded: stats() counts every refusal.
 */
export class RefusalLog {
  private readonly streaks = new Map<string, Streak>();

  constructor(
    private readonly log: ServerLog,
    private readonly clock: RefusalClock = systemClock,
  ) {}

  write(level: 'warn' | 'info', message: string, code: string, fields: Record<string, unknown>): void {
    const key = `${message}\n${code}`;
    const second = Math.floor(this.clock.now() / 1000);
    let streak = this.streaks.get(key);
    if (streak === undefined) this.streaks.set(key, (streak = { level, second, lines: 0, suppressed: 0 }));
    else if (streak.second !== second) {
      this.summarize(message, code, streak);
      streak.second = second;
      streak.lines = 0;
    }
    if (streak.lines < REFUSAL_LINES_PER_SECOND) {
      streak.lines++;
      this.log[level](fields, message);
      return;
    }
    // The first line held back arms the summary for the start of the next second.
    // (A streak that moved on to a later second meanwhile was summed up when it moved.)
    if (streak.suppressed++ === 0) {
      this.clock.later(() => {
        if (streak.second === second) this.summarize(message, code, streak);
      }, (second + 1) * 1000 - this.clock.now());
    }
  }

  private summarize(message: string, code: string, streak: Streak): void {
    if (streak.suppressed === 0) return;
    const suppressed = streak.suppressed;
    streak.suppressed = 0;
    this.log[streak.level]({ code, suppressed, of: message }, 'refusals suppressed');
  }
}
