/**
 * `switchboard/redis`: run Switchboard on several processes with Redis between them.
 * Needs the `ioredis` package (an optional peer dependency).
 */
export { RedisAdapter, type RedisAdapterOptions } from './redis-adapter.js';
export { Emitter, EmitterNamespace, EmitterOperator, type EmitterOptions } from './emitter.js';
export { RedisStreamStore, type RedisStreamStoreOptions } from './redis-stream-store.js';
export { RedisPresence, type RedisPresenceOptions } from './redis-presence.js';
