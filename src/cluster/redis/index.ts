/**
 * `switchboard/redis`: run Switchboard on several processes with Redis between them.
 * Needs the `ioredis` package (an optional peer dependency).
 */
export { RedisAdapter, type RedisAdapterOptions } from './redis-adapter.js';
export { Emitter, EmitterNamespace, EmitterOperator, type EmitterOptions } from './emitter.js';
export { RedisStreamStore, type RedisAppendOptions, type RedisStreamStoreOptions, type StreamAnnounce } from './redis-stream-store.js';
export { RedisPresence, type RedisPresenceOptions } from './redis-presence.js';
// The adapter interfaces these classes implement, for apps that only import this entry.
export type { ClusterAdapter, ClusterBroadcast, ClusterNode, ClusterPublication, ClusterQuery, ClusterStats, PublishRequest } from '../adapter.js';
export type { PresenceStore, PresenceEntry, PresenceChange } from '../presence-store.js';
export type { SessionStore, SessionSnapshot, SocketSnapshot } from '../session-store.js';
export type { StoredReply } from '../../delivery/dedupe-window.js';
export type { StreamStore, StreamRead, StreamEntry, HistoryLimits, AppendOptions } from '../../delivery/stream-store.js';
export type { RoomMatcher } from '../../delivery/durable-rooms.js';
export type { ErrorDetails, ErrorPayload, PayloadIssue, StreamPosition } from '../../protocol/frames.js';
export { RedisIdempotencyStore, type RedisIdempotencyStoreOptions, type IdempotencyStore, type IdempotencyRecord, type StoredAnswer } from './idempotency-store.js';
