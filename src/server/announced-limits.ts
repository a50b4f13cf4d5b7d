import type { ConnectionLimits } from '../protocol/frames.js';
import type { ResolvedOptions } from './options.js';

/**
 * `welcome.limits`: what the server enforces on a connection, so a client can stay inside
 * it instead of finding out by refusals (the SDK paces its frames by `rate` and
 * `maxQueuedFrames`). Limits that are off (`frameRate: false`, Infinity) are sent as `null`:
 * JSON has no Infinity, and JSON.stringify would turn it into `null` anyway.
 */
export function announcedLimits(options: ResolvedOptions): ConnectionLimits {
  const { frameRate } = options;
  const resumable = options.resume.ttl > 0;
  const rated = frameRate !== undefined && Number.isFinite(frameRate.perSecond) && Number.isFinite(frameRate.burst);
  return {
    maxMessageBytes: options.maxMessageBytes,
    frameRate: rated ? { perSecond: frameRate.perSecond, burst: frameRate.burst } : null,
    maxQueuedFrames: options.maxQueuedFrames,
    maxPendingRequests: finiteOrNull(options.maxPendingRequests),
    maxRoomsPerSocket: finiteOrNull(options.maxRoomsPerSocket),
    dedupeWindow: options.dedupeWindow,
    // A client that acknowledges more rarely than these would have the server forget frames it may need again.
    maxUnackedFrames: resumable ? options.resume.maxUnackedFrames : null,
    maxUnackedBytes: resumable ? options.resume.maxUnackedBytes : null,
    // What is kept while a session waits is bounded by time (and one shared byte bound), not by count.
    resumeTtl: resumable ? options.resume.ttl : null,
    resumeLogBytes: resumable ? options.resume.maxLogBytes : null,
  };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
