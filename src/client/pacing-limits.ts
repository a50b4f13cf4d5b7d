import type { SendRate } from './send-budget.js';

/** What the SDK holds itself to on one connection, from the welcome's `limits`. */
export interface PacingLimits {
  /** The rate counted frames go out at; undefined: not limited. */
  rate: SendRate | undefined;
  /**
   * Most frames sent after the oldest `join` or `connect` not yet answered; undefined: no
   * bound. The server holds a connection's later frames while it handles a `join` or
   * `connect` (an async `authorizeJoin`, middleware) and closes the connection when more
   * than `maxQueuedFrames` wait.
   */
  blockingWindow: number | undefined;
}

/** Share of the announced rate the SDK uses: the rest absorbs clock drift and frames bunched up in transit. */
const RATE_SHARE = 0.9;

/**
 * The pacing for a welcome's `limits`, a little inside what the server announced. Read
 * leniently: a limit that is missing, `null` or malformed is one the server did not
 * announce (an older server, or the limit is off), and is not paced for.
 *
 * - rate: 90% of `perSecond`, and 90% of `burst` (at least 1). The server counts a frame
 *   when it arrives: frames sent evenly can arrive bunched, and the spare tokens take them.
 * - blocking window: half of `maxQueuedFrames`, leaving the other half for the frames the
 *   SDK sends outside the pacing (`pong`, `ack`) and for a resumed session, whose re-sent
 *   `join` can be answered twice (the first reply may free its place early).
 */
export function pacingLimits(limits: unknown): PacingLimits {
  const announced = (typeof limits === 'object' && limits !== null ? limits : {}) as { frameRate?: unknown; maxQueuedFrames?: unknown };
  const rate = (typeof announced.frameRate === 'object' && announced.frameRate !== null ? announced.frameRate : {}) as { perSecond?: unknown; burst?: unknown };
  const perSecond = positive(rate.perSecond);
  const burst = positive(rate.burst);
  const queued = positive(announced.maxQueuedFrames);
  return {
    rate: perSecond !== undefined && burst !== undefined ? { perSecond: perSecond * RATE_SHARE, burst: Math.max(1, Math.floor(burst * RATE_SHARE)) } : undefined,
    blockingWindow: queued === undefined ? undefined : Math.max(1, Math.floor(queued / 2)),
  };
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
