/** When the SDK acknowledges the frames it received (see docs/PROTOCOL.md, Counting frames). */
export interface AckCadence {
  /** Acknowledge once this many frames arrived since the last ack. */
  frames: number;
  /** …or once this many characters of frames arrived. */
  size: number;
}

/** A server that announces no bounds is taken to keep the defaults' worth (1000 frames, 1 MiB). */
const UNANNOUNCED: AckCadence = { frames: 250, size: 256 * 1024 };
/** Share of the server's bounds the SDK lets pile up: frames still in flight when it acks must not be forgotten. */
const SHARE = 4;
/** At the latest this long after the first frame not yet acknowledged. */
export const ACK_DELAY_MS = 1000;

/**
 * A quarter of what the server keeps for a resume (`welcome.limits.maxUnackedFrames` and
 * `maxUnackedBytes`): rarely enough that acks cost a busy subscriber little (one upstream
 * frame per 250 with the defaults), often enough that the server never forgets a frame the
 * client has not acknowledged. Read leniently like every announced limit.
 */
export function ackCadence(limits: unknown): AckCadence {
  const announced = (typeof limits === 'object' && limits !== null ? limits : {}) as { maxUnackedFrames?: unknown; maxUnackedBytes?: unknown };
  const frames = positive(announced.maxUnackedFrames);
  const bytes = positive(announced.maxUnackedBytes);
  return {
    frames: frames === undefined ? UNANNOUNCED.frames : Math.max(1, Math.floor(frames / SHARE)),
    size: bytes === undefined ? UNANNOUNCED.size : Math.max(1, Math.floor(bytes / SHARE)),
  };
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
