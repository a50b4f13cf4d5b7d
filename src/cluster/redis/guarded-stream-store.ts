import { ErrorCode } from '../../protocol/error-codes.js';
import { SwitchboardError } from '../../protocol/errors.js';
import type { StreamPosition } from '../../protocol/frames.js';
import type { HistoryLimits, StreamRead, StreamStore } from '../../delivery/stream-store.js';
import type { RedisAppendOptions, RedisStreamStore } from './redis-stream-store.js';

/** A Redis failure as the client and the app see it: `cluster_unavailable`, with what failed. */
export function unavailable(err: unknown, what: string): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SwitchboardError(ErrorCode.ClusterUnavailable, `the cluster store (Redis) failed during ${what}: ${message}`);
}

/** The Redis stream store with its failures turned into `cluster_unavailable`, so joins and history answer with a documented code. */
export class GuardedStreamStore implements StreamStore {
  constructor(private readonly store: RedisStreamStore) {}

  append(stream: string, payload: string, limits: HistoryLimits, options?: RedisAppendOptions): Promise<StreamPosition> {
    return this.store.append(stream, payload, limits, options).catch((err: unknown) => {
      throw unavailable(err, 'a durable publish (it was not confirmed stored)');
    });
  }

  read(stream: string, options: { since?: StreamPosition; limit?: number }, limits: HistoryLimits): Promise<StreamRead> {
    return this.store.read(stream, options, limits).catch((err: unknown) => {
      throw unavailable(err, 'a history read');
    });
  }

  position(stream: string): Promise<StreamPosition> {
    return this.store.position(stream).catch((err: unknown) => {
      throw unavailable(err, 'a stream position read');
    });
  }
}
