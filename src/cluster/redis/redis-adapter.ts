import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { ErrorCode } from '../../protocol/error-codes.js';
import { SwitchboardError } from '../../protocol/errors.js';
import type { StreamPosition } from '../../protocol/frames.js';
import type { ClusterAdapter, ClusterBroadcast, ClusterNode, ClusterQuery, ClusterStats, PublishRequest } from '../adapter.js';
import type { PresenceStore } from '../presence-store.js';
import type { SessionStore } from '../session-store.js';
import type { StreamStore } from '../../delivery/stream-store.js';
import { decodeBusMessage, encodeAnswer, encodeBroadcast, encodeQuery, encodeTakeover, publicationHeader } from './bus-message.js';
import { ClusterQueries } from './cluster-queries.js';
import { GuardedPresence } from './guarded-presence.js';
import { GuardedStreamStore, unavailable } from './guarded-stream-store.js';
import { RedisPresence } from './redis-presence.js';
import { RedisSessionStore } from './redis-session-store.js';
import { RedisStreamStore } from './redis-stream-store.js';

export interface RedisAdapterOptions {
  /** First part of every key and channel: nodes with the same prefix form one cluster. Default 'sb'. */
  prefix?: string;
  /** Milliseconds a Redis command may take before it fails (a hung Redis fails like a lost one). Default 5000. */
  commandTimeout?: number;
  /** Presence liveness: a crashed node's presence entries are gone within nodeTtl + renewInterval. Defaults 15000 and 5000. */
  presence?: { nodeTtl?: number; renewInterval?: number };
  /** How long a durable stream's epoch outlives its last use. Default 7 days. */
  streamMetaTtl?: number;
  /** Where Redis trouble is reported (once per outage, and when it ends). Default: the server's `logger` when it has one (`error`, then `info` on recovery), else stderr. */
  onError?: (err: Error, context: { connection: 'commands' | 'subscriber' | 'presence'; recovered?: boolean }) => void;
}

/**
 * The cluster over Redis: Pub/Sub carries broadcasts (one encode per message per node),
 * durable rooms live in Redis Streams (positions are cluster-wide, and each append is
 * announced by the same script, so every node sees publications in offset order), presence
 * and its crash expiry live in hashes, and queries ask every subscribed node.
 *
 * Redis down: local delivery keeps working; broadcasts to other nodes are lost (at most
 * once, as their rooms promise); durable publishes, durable joins, history and queries fail
 * with `cluster_unavailable` at once — commands are never queued while disconnected, so
 * memory stays bounded. The connections come back on their own, and each node then fills
 * what its durable rooms missed from the streams.
 */
export class RedisAdapter implements ClusterAdapter {
  readonly nodeId = `${randomBytes(6).toString('base64url')}`;
  readonly streams: StreamStore;
  readonly sessions: SessionStore;
  /** `streams` as Redis's own store: publish() announces each append on the bus in the same script. */
  private readonly redisStreams: GuardedStreamStore;
  private presenceStore: PresenceStore | undefined;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly bus: string;
  private readonly replies: string;
  /** Requests forwarded to this node alone. */
  private readonly inbox: string;
  private readonly queries = new ClusterQueries();
  /** How this node's broadcasts start on the bus (see encodeBroadcast). */
  private readonly ownBroadcast: string;
  private readonly prefix: string;
  private node: ClusterNode | undefined;
  private readonly failing = new Set<string>();
  private subscribedOnce = false;
  /** The bus is heard again after a loss; the durable rooms catch up once the command connection is ready. */
  private resyncDue = false;
  private closed = false;
  /** The numbers stats() reports (see ClusterStats). */
  private readonly numbers: ClusterStats = { nodes: undefined, busMessages: 0, busLagSecondsSum: 0, busLagSecondsLast: 0, errors: 0 };
  /** A count of the nodes is being asked for. */
  private countingNodes = false;
  /** A count of the nodes failed once already (it is logged once). */
  private nodeCountFailed = false;

  /** `connection`: a Redis URL, or an ioredis client whose settings are copied (it is not used itself). */
  constructor(
    connection: string | Redis,
    private readonly options: RedisAdapterOptions = {},
  ) {
    this.prefix = options.prefix ?? 'sb';
    this.bus = `${this.prefix}:bus`;
    this.replies = `${this.prefix}:reply:${this.nodeId}`;
    this.inbox = `${this.prefix}:node:${this.nodeId}`;
    this.ownBroadcast = `b${JSON.stringify({ n: this.nodeId })}`.slice(0, -1) + ',';
    // Never queue commands while Redis is away: they fail at once (bounded memory, loud errors).
    // Never re-send one that was in flight when the link dropped: Redis may have run it, and a
    // second append would store a publication twice (the caller is told "not confirmed" instead).
    const ours: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeout ?? 5000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    };
    const open = (extra: RedisOptions = {}): Redis => (typeof connection === 'string' ? new Redis(connection, { ...ours, ...extra }) : connection.duplicate({ ...ours, ...extra }));
    this.commands = open();
    // The node subscribes again itself after a reconnect, so it knows when the bus is heard again (see resubscribe).
    this.subscriber = open({ autoResubscribe: false });
    this.watch(this.commands, 'commands');
    this.watch(this.subscriber, 'subscriber');
    this.streams = this.redisStreams = new GuardedStreamStore(new RedisStreamStore(this.commands, { prefix: this.prefix, metaTtl: options.streamMetaTtl }));
    this.sessions = new RedisSessionStore(this.commands, this.nodeId, this.prefix);
    this.subscriber.on('message', (channel: string, message: string) => this.received(channel, message));
    this.subscriber.on('ready', () => {
      if (this.subscribedOnce) this.resubscribe();
    });
    this.commands.on('ready', () => this.resyncIfDue());
  }

  get presence(): PresenceStore {
    if (!this.presenceStore) throw new Error('RedisAdapter: presence is available once the server started the adapter');
    return this.presenceStore;
  }

  async start(node: ClusterNode): Promise<void> {
    this.node = node;
    try {
      await Promise.all([this.commands.connect(), this.subscriber.connect()]);
      await this.subscriber.subscribe(this.bus, this.replies, this.inbox);
    } catch (err) {
      throw unavailable(err, 'connect');
    }
    this.subscribedOnce = true;
    this.countNodes();
    this.presenceStore = new GuardedPresence(new RedisPresence(this.commands, {
      nodeId: this.nodeId,
      prefix: this.prefix,
      nodeTtl: this.options.presence?.nodeTtl,
      renewInterval: this.options.presence?.renewInterval,
      onError: (err) => this.trouble('presence', err),
    }));
  }

  broadcast(message: ClusterBroadcast): void {
    this.commands.publish(this.bus, encodeBroadcast(this.nodeId, message)).then(
      () => this.recovered('commands'),
      (err: unknown) => this.trouble('commands', err),
    );
  }

  publish(request: PublishRequest): Promise<StreamPosition> {
    const { except } = request;
    const header = publicationHeader(request.ns, request.room, request.stream, except, this.nodeId);
    return this.redisStreams.append(request.stream, request.payload, request.limits, { announce: { channel: this.bus, header }, ...(except && { except }) });
  }

  forward(node: string, request: unknown, timeoutMs?: number): Promise<unknown> {
    const channel = `${this.prefix}:node:${node}`;
    const send = (id: string | null): Promise<unknown> =>
      this.commands.publish(channel, JSON.stringify({ n: this.nodeId, id, r: request })).then(
        (listeners) => {
          // Nobody subscribed: the node is gone. Fail now rather than at the timeout.
          if (listeners === 0 && id !== null) throw new SwitchboardError(ErrorCode.ClusterUnavailable, `node ${node} is not in the cluster (any more)`);
        },
        (err: unknown) => {
          throw unavailable(err, 'a forwarded request');
        },
      );
    if (timeoutMs === undefined) return send(null).then(() => undefined);
    return this.queries.ask(1, timeoutMs, (id) => send(id)).then((answers) => answers[0]);
  }

  announceTakeover(sid: string): void {
    this.commands.publish(this.bus, encodeTakeover(this.nodeId, sid)).catch((err: unknown) => this.trouble('commands', err));
  }

  async query(query: ClusterQuery, timeoutMs: number): Promise<unknown[]> {
    let others: number;
    try {
      // The nodes are the inboxes subscribed now: emitters have none, nor does a `redis-cli SUBSCRIBE` watching the bus.
      const inboxes = (await this.commands.call('PUBSUB', 'CHANNELS', `${this.prefix}:node:*`)) as string[];
      others = inboxes.filter((channel) => channel !== this.inbox).length;
    } catch (err) {
      throw unavailable(err, 'query');
    }
    // This node answers its own part.
    return this.queries.ask(others, timeoutMs, (id) =>
      this.commands.publish(this.bus, encodeQuery(this.nodeId, id, query)).catch((err: unknown) => {
        throw unavailable(err, 'query');
      }),
    );
  }

  /**
   * Nodes alive (the inboxes subscribed now, as of the last count: each call starts a new
   * count, so a scrape sees the one before it), messages from other nodes on the bus with
   * their lag, and errors of the Redis connections.
   */
  stats(): ClusterStats {
    this.countNodes();
    return { ...this.numbers };
  }

  private countNodes(): void {
    if (this.countingNodes || this.closed || this.commands.status !== 'ready') return;
    this.countingNodes = true;
    (this.commands.call('PUBSUB', 'CHANNELS', `${this.prefix}:node:*`) as Promise<string[]>).then(
      (inboxes) => {
        this.countingNodes = false;
        this.numbers.nodes = inboxes.length;
      },
      (err: unknown) => {
        // Not an outage: the connection is ready (its own errors are reported by watch()).
        // A Redis that refuses PUBSUB (an ACL, a proxy) would otherwise count an error and
        // log "failed; retrying" at every scrape. The count is unknown; said once, at debug.
        this.countingNodes = false;
        this.numbers.nodes = undefined;
        if (this.nodeCountFailed || this.closed) return;
        this.nodeCountFailed = true;
        this.node?.log?.('debug', { error: err instanceof Error ? err.message : String(err) }, 'redis cannot count the nodes (PUBSUB CHANNELS failed); stats report nodes as unknown');
      },
    );
  }

  /** A message another node sent on the bus: counted, with its lag when it says when it was sent (clocks that disagree show as lag, never below 0). */
  private heard(sentAt: number | undefined): void {
    const numbers = this.numbers;
    numbers.busMessages++;
    if (sentAt === undefined) return;
    const lag = Math.max(0, Date.now() - sentAt) / 1000;
    numbers.busLagSecondsSum += lag;
    numbers.busLagSecondsLast = lag;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queries.abandon(new SwitchboardError(ErrorCode.ClusterUnavailable, 'the adapter closed'));
    try {
      await this.presenceStore?.close();
    } catch {
      // Its entries expire with this node's liveness anyway.
    }
    this.subscriber.disconnect();
    await this.commands.quit().catch(() => this.commands.disconnect());
  }

  /**
   * The subscriber is back after a loss: subscribe again, then catch up from the streams
   * what was published meanwhile. In that order — a catch-up read before the SUBSCRIBE took
   * effect would miss what is appended between the two — and only once the command
   * connection is back too (it reads the streams): a catch-up that fails is not retried.
   */
  private resubscribe(): void {
    this.subscriber.subscribe(this.bus, this.replies, this.inbox).then(
      () => {
        this.resyncDue = true;
        this.resyncIfDue();
      },
      (err: unknown) => this.trouble('subscriber', err), // the next 'ready' tries again
    );
  }

  private resyncIfDue(): void {
    if (!this.resyncDue || this.closed || this.commands.status !== 'ready') return;
    this.resyncDue = false;
    this.node?.resync?.();
  }

  private received(channel: string, raw: string): void {
    if (channel === this.inbox) {
      void this.answerForwarded(raw);
      return;
    }
    if (channel === this.replies) {
      try {
        const { id, a } = JSON.parse(raw) as { id: string; a: unknown };
        this.queries.answered(id, a);
      } catch {
        // Not ours.
      }
      return;
    }
    // This node's own broadcasts come back from Redis too: recognised by their start, without parsing.
    if (raw.startsWith(this.ownBroadcast)) return;
    const message = decodeBusMessage(raw);
    const node = this.node;
    if (!message || !node) return;
    if (message.node !== this.nodeId) this.heard(message.sentAt);
    switch (message.kind) {
      case 'broadcast':
        if (message.node !== this.nodeId) node.broadcast(message.broadcast);
        return;
      case 'publication':
        node.publication(message.publication);
        return;
      case 'takeover':
        if (message.node !== this.nodeId) node.sessionMoved?.(message.sid);
        return;
      case 'query':
        if (message.node !== this.nodeId) void this.answerQuery(node, message.node, message.id, message.query);
        return;
    }
  }

  private async answerQuery(node: ClusterNode, from: string, id: string, query: ClusterQuery): Promise<void> {
    let answer: unknown;
    try {
      answer = (await node.answer(query)) ?? null;
    } catch {
      answer = null;
    }
    let encoded: string;
    try {
      encoded = encodeAnswer(id, answer);
    } catch {
      // An answer JSON cannot carry (a server event handler's return value) is answered null.
      encoded = encodeAnswer(id, null);
    }
    await this.commands.publish(`${this.prefix}:reply:${from}`, encoded).catch((err: unknown) => this.trouble('commands', err));
  }

  private async answerForwarded(raw: string): Promise<unknown> {
    let message: { n: string; id: string | null; r: unknown };
    try {
      message = JSON.parse(raw) as typeof message;
    } catch {
      return;
    }
    let answer: unknown = null;
    try {
      answer = (await this.node?.forwarded?.(message.r)) ?? null;
    } catch (err) {
      this.trouble('commands', err);
    }
    if (typeof message.id !== 'string') return;
    await this.commands.publish(`${this.prefix}:reply:${message.n}`, encodeAnswer(message.id, answer)).catch((err: unknown) => this.trouble('commands', err));
  }

  private watch(redis: Redis, connection: 'commands' | 'subscriber'): void {
    redis.on('error', (err: Error) => this.trouble(connection, err));
    redis.on('ready', () => this.recovered(connection));
  }

  /** Every error is counted (stats); it is reported once per outage of a connection. */
  private trouble(connection: 'commands' | 'subscriber' | 'presence', err: unknown): void {
    if (this.closed) return;
    this.numbers.errors++;
    if (this.failing.has(connection)) return;
    this.failing.add(connection);
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.options.onError) this.options.onError(error, { connection });
    else if (this.node?.log) this.node.log('error', { connection, error: error.message }, 'redis connection failed; retrying');
    else console.error(`[switchboard] redis (${connection}): ${error.message}; retrying`);
  }

  private recovered(connection: 'commands' | 'subscriber' | 'presence'): void {
    if (!this.failing.delete(connection) || this.closed) return;
    if (this.options.onError) this.options.onError(new Error('reconnected'), { connection, recovered: true });
    else if (this.node?.log) this.node.log('info', { connection }, 'redis connection reconnected');
    else console.error(`[switchboard] redis (${connection}): reconnected`);
  }
}
