import type { ConnectionLimits } from '../protocol/frames.js';
import type { ResolvedOptions } from './options.js';

/**
 * `welcome.limits`: what the server enforces on a connection, so a client can stay inside
 * it instead of finding out by refusals (the SDK paces its frames by `rate` and
 * `maxQueuedFrames`). Limits that are off (`rateLimit: false`, Infinity) are sent as `null`:
 * JSON has no Infinity, and JSON.stringify would turn it into `null` anyway.
 */
export function announcedLimits(options: ResolvedOptions): ConnectionLimits {
  const { rateLimit } = options;
  const resumable = options.resume.ttl > 0;
  const rated = rateLimit !== undefined && Number.isFinite(rateLimit.perSecond) && Number.isFinite(rateLimit.burst);
  return {
    maxMessageBytes: options.maxMessageBytes,
    rate: rated ? { perSecond: rateLimit.perSecond, burst: rateLimit.burst } : null,
    maxQueuedFrames: options.maxQueuedFrames,
    maxPendingRequests: finiteOrNull(options.maxPendingRequests),
    maxRoomsPerConnection: finiteOrNull(options.maxRoomsPerConnection),
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
