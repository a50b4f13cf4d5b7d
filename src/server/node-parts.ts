import type { ClusterAdapter } from '../cluster/adapter.js';
import type { Admission } from './admission.js';
import type { DeliveryStreams } from './broadcast.js';
import { ClusterLink } from './cluster-link.js';
import { DurableFeed } from './durable-feed.js';
import type { FrameTracer } from './frame-trace.js';
import type { AnyNamespace } from './namespace.js';
import type { ResolvedOptions } from './options.js';
import type { ResumeLog } from './resume-log.js';
import type { ServerCounters } from './server-counters.js';
import type { ServerLog } from './server-log.js';
import { SessionRegistry } from './session-registry.js';
import type { AnySocket } from './socket.js';

/** What the node's sessions, durable feed and cluster link are made from (the server's parts). */
export interface NodePartsHost {
  readonly options: ResolvedOptions;
  readonly cluster: ClusterAdapter;
  readonly admission: Admission;
  readonly streams: DeliveryStreams;
  readonly resumeLog: ResumeLog;
  readonly namespaces: ReadonlyMap<string, AnyNamespace>;
  readonly counters: ServerCounters;
  readonly log: ServerLog;
  readonly tracer: FrameTracer | undefined;
  closing(): boolean;
  reportError(err: unknown, context: Record<string, unknown>): void;
  /** A request another node forwarded here (the HTTP transports', the Socket.IO front door's). */
  forwarded(request: unknown): Promise<unknown>;
}

/**
 * The node's sessions, its durable feed, and its link to the other nodes, made and joined
 * to the cluster: `joined` resolves once this node hears what the others send.
 */
export function openNodeParts(host: NodePartsHost): { sessions: SessionRegistry; feed: DurableFeed; clusterLink: ClusterLink; joined: Promise<void> } {
  const { namespaces, cluster, log } = host;
  const reportError = (err: unknown, context: Record<string, unknown>): void => host.reportError(err, context);
  const feed = new DurableFeed(host.streams, {
    held: (ns, room) => namespaces.get(ns)?.rooms.held(room),
    resumeLog: host.resumeLog,
    has: (ns, room, member) => namespaces.get(ns)?.rooms.has(room, member as AnySocket) ?? false,
    durableLimits: (ns, room) => namespaces.get(ns)?.durableLimits(room),
    reportError,
    counters: host.counters,
  });
  const sessions = new SessionRegistry({
    options: host.options,
    closing: () => host.closing(),
    cluster,
    admission: host.admission,
    feed,
    resumeLog: host.resumeLog,
    counters: host.counters,
    tracer: host.tracer,
    namespace: (name) => namespaces.get(name),
    reportError,
  });
  const clusterLink = new ClusterLink(cluster, (ns) => namespaces.get(ns), reportError);
  const joined = cluster.start({
    broadcast: (message) => clusterLink.deliverFromCluster(message),
    publication: (publication) => feed.arrive(publication),
    answer: (query) => clusterLink.answerCluster(query),
    resync: () => feed.catchUp(),
    sessionMoved: (sid) => sessions.movedAway(sid),
    forwarded: (request) => host.forwarded(request),
    // Only with a logger: without one the adapter keeps its own default (stderr).
    ...(log.active && { log: (level: 'error' | 'info' | 'debug', fields: Record<string, unknown>, message: string) => log[level](fields, message) }),
  });
  return { sessions, feed, clusterLink, joined };
}
