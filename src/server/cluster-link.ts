import type { ClusterAdapter, ClusterBroadcast, ClusterQuery } from '../cluster/adapter.js';
import type { PresenceChange } from '../cluster/presence-store.js';
import { parseStreamKey } from '../delivery/durable-rooms.js';
import { assertEmittable } from '../protocol/event-names.js';
import { BroadcastOperator } from './broadcast.js';
import type { AnyNamespace } from './namespace.js';

/**
 * What this node does for the other nodes of the cluster: delivers their broadcasts to
 * its sockets, answers their queries about its sockets, runs the handlers of their
 * server events (serverSideEmit), and tells rooms of presence changes no socket here made.
 */
export class ClusterLink {
  /** Handlers of events other nodes send with serverSideEmit. */
  private readonly serverEvents = new Map<string, ((data: unknown) => unknown)[]>();

  constructor(
    private readonly cluster: ClusterAdapter,
    private readonly namespace: (name: string) => AnyNamespace | undefined,
    private readonly reportError: (err: unknown, context: Record<string, unknown>) => void,
  ) {}

  /** Send a server event to the other nodes; one answer per node (see Switchboard.serverSideEmitWithAck). */
  emit(event: string, data: unknown, timeout: number): Promise<unknown[]> {
    try {
      assertEmittable(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.cluster.query({ kind: 'server-event', event, data }, timeout);
  }

  /** Handle an event another node sent with serverSideEmit; the first handler's return value is its answer. */
  onServerEvent(event: string, handler: (data: unknown) => unknown): void {
    const handlers = this.serverEvents.get(event);
    if (handlers) handlers.push(handler);
    else this.serverEvents.set(event, [handler]);
  }

  offServerEvent(event: string, handler?: (data: unknown) => unknown): void {
    const rest = handler ? (this.serverEvents.get(event) ?? []).filter((h) => h !== handler) : [];
    if (rest.length > 0) this.serverEvents.set(event, rest);
    else this.serverEvents.delete(event);
  }

  /** Another node's serverSideEmit: every handler runs; the first one's result is the answer. */
  private async runServerEvent(event: string, data: unknown): Promise<unknown> {
    const handlers = this.serverEvents.get(event);
    if (!handlers) return null;
    let first: unknown = null;
    for (const [i, handler] of [...handlers].entries()) {
      try {
        const result = await handler(data);
        if (i === 0) first = result ?? null;
      } catch (err) {
        this.reportError(err, { phase: 'server event', event });
      }
    }
    return first;
  }

  /** A broadcast another node sent: to this node's selected sockets, without encoding it again. */
  deliverFromCluster(message: ClusterBroadcast): void {
    const nsp = this.namespace(message.ns);
    // A namespace this node never created has no sockets here.
    if (!nsp) return;
    new BroadcastOperator(nsp, message.rooms, message.except, message.volatile, true).deliverEncoded(message.frame);
  }

  /** Presence changes no socket of this node made (a crashed node's users expired, this node closing): tell their rooms. */
  presenceChanged(changes: readonly PresenceChange[]): void {
    for (const change of changes) {
      const where = parseStreamKey(change.room);
      if (where) this.namespace(where.ns)?.presenceExpired(change, where.room);
    }
  }

  /** Another node asks about (or acts on) this node's sockets. */
  answerCluster(query: ClusterQuery): unknown {
    if (query.kind === 'server-event') return this.runServerEvent(query.event, query.data);
    const nsp = this.namespace(query.ns);
    if (!nsp) return query.kind === 'sockets' ? [] : 0;
    return new BroadcastOperator(nsp, query.rooms, query.except, false, true).answer(query, this.cluster.nodeId);
  }
}
