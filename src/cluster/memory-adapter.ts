import { randomBytes } from 'node:crypto';
import type { StreamPosition } from '../protocol/frames.js';
import { MemoryStreamStore } from '../delivery/memory-stream-store.js';
import type { StreamStore } from '../delivery/stream-store.js';
import type { ClusterAdapter, ClusterBroadcast, ClusterNode, ClusterQuery, ClusterStats, PublishRequest } from './adapter.js';
import { MemoryPresence } from './memory-presence.js';
import type { PresenceStore } from './presence-store.js';

/**
 * A cluster of one process: streams and presence in memory, nothing to send anywhere.
 * The default; a restart starts new stream epochs, so clients are told their gap is gone.
 */
export class MemoryAdapter implements ClusterAdapter {
  readonly nodeId = randomBytes(6).toString('base64url');
  readonly presence: PresenceStore = new MemoryPresence();
  private node: ClusterNode | undefined;

  constructor(readonly streams: StreamStore = new MemoryStreamStore()) {}

  async start(node: ClusterNode): Promise<void> {
    this.node = node;
  }

  broadcast(_message: ClusterBroadcast): void {}

  async publish(request: PublishRequest): Promise<StreamPosition> {
    const { except } = request;
    const position = await this.streams.append(request.stream, request.payload, request.limits, except && { except });
    this.node?.publication({ ns: request.ns, room: request.room, stream: request.stream, position, payload: request.payload, ...(except && { except }) });
    return position;
  }

  async query(_query: ClusterQuery, _timeoutMs: number): Promise<unknown[]> {
    return [];
  }

  async close(): Promise<void> {
    await this.presence.close();
  }

  /** One node, no bus, no connections to fail. */
  stats(): ClusterStats {
    return { nodes: 1, busMessages: 0, busLagSecondsSum: 0, busLagSecondsLast: 0, errors: 0 };
  }
}
