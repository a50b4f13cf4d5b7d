/**
 * `switchboard/http-api`: the publish HTTP API, for backends in any language — publish to
 * rooms and users, batch publishes, idempotency keys, presence, history and sessions,
 * with API keys or JWTs (docs/API.md, "HTTP API"). JWTs need the `jose` package (an
 * optional peer dependency); API keys need nothing.
 */
export { HttpApi, type HttpApiMiddleware } from './http-api.js';
export type { HttpApiOptions, HttpApiIdempotencyOptions, HttpApiAction, HttpApiAuthorizer } from './options.js';
export type { HttpApiPrincipal, HttpApiKeyPrincipal, HttpApiJwtPrincipal, HttpApiJwtOptions } from './credentials.js';
export type { ApiServer, ApiNamespace, ApiBroadcast } from './server-ports.js';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from '../delivery/memory-idempotency-store.js';
export type { IdempotencyStore, IdempotencyRecord, StoredAnswer } from '../delivery/idempotency-store.js';
export type { SocketInfo } from '../server/broadcast.js';
export type { HistoryReply, PresenceMember, Publication, StreamPosition } from '../protocol/frames.js';
