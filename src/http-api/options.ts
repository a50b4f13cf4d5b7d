import type { IdempotencyStore } from '../delivery/idempotency-store.js';
import { MemoryIdempotencyStore } from '../delivery/memory-idempotency-store.js';
import type { HttpApiJwtOptions, HttpApiPrincipal } from './credentials.js';

/** What a request asks to do, as the `authorize` hook sees it. */
export interface HttpApiAction {
  action: 'publish' | 'disconnect' | 'presence' | 'history' | 'sessions';
  /** Namespace ("/" when the request named none). */
  ns: string;
  /** The room of a publish, presence or history request. */
  room?: string;
  /** The user of a publish, history, sessions or disconnect request. */
  user?: string;
  /** The event of a publish. */
  event?: string;
}

/**
 * Decide whether a credential may do an action: return false (→ 403 `forbidden`), or throw
 * a ReplyError for a code of your own (its status is 400, or that of a code of ERRORS.md).
 * Runs for every request and for every publication of a batch.
 */
export type HttpApiAuthorizer = (principal: HttpApiPrincipal, action: HttpApiAction) => boolean | Promise<boolean>;

export interface HttpApiIdempotencyOptions {
  /** Milliseconds an answer is kept for retries. Default 86400000 (24 hours). */
  ttl?: number;
  /** Milliseconds a retry waits for the first request with its key to finish, before `idempotency_in_flight`. Default 10000. */
  wait?: number;
  /** Where keys are kept. Default: a MemoryIdempotencyStore (this process only); RedisIdempotencyStore for a cluster. */
  store?: IdempotencyStore;
}

export interface HttpApiOptions {
  /** API keys accepted as `Authorization: Bearer <key>`; several at once for rotation. */
  keys?: readonly string[];
  /** JWTs accepted as `Authorization: Bearer <jwt>`, verified with `jose`. */
  jwt?: HttpApiJwtOptions;
  /** Where the routes live. Default '/api/switchboard'. */
  path?: string;
  /** Largest request body, in bytes. Default 1048576 (1 MiB). */
  maxBodyBytes?: number;
  /** Most publications in one batch. Default 100. */
  maxBatch?: number;
  idempotency?: HttpApiIdempotencyOptions;
  /** Scope a credential to some actions (see HttpApiAuthorizer). Default: every credential may do everything. */
  authorize?: HttpApiAuthorizer;
}

export interface ResolvedHttpApiOptions {
  keys: readonly string[];
  jwt: HttpApiJwtOptions | undefined;
  path: string;
  maxBodyBytes: number;
  maxBatch: number;
  idempotency: { ttl: number; wait: number; store: IdempotencyStore };
  authorize: HttpApiAuthorizer | undefined;
}

const OPTION_NAMES = new Set(['keys', 'jwt', 'path', 'maxBodyBytes', 'maxBatch', 'idempotency', 'authorize']);
const IDEMPOTENCY_NAMES = new Set(['ttl', 'wait', 'store']);

export function resolveHttpApiOptions(options: HttpApiOptions): ResolvedHttpApiOptions {
  for (const name of Object.keys(options)) if (!OPTION_NAMES.has(name)) throw new TypeError(`HttpApi option "${name}" is unknown (options: ${[...OPTION_NAMES].join(', ')})`);
  for (const name of Object.keys(options.idempotency ?? {})) {
    if (!IDEMPOTENCY_NAMES.has(name)) throw new TypeError(`HttpApi option idempotency.${name} is unknown (idempotency: ${[...IDEMPOTENCY_NAMES].join(', ')})`);
  }
  const keys = options.keys ?? [];
  if (!Array.isArray(keys)) throw new TypeError('HttpApi option keys must be an array of strings');
  if (keys.length === 0 && options.jwt === undefined) throw new TypeError('HttpApi needs credentials: option keys (API keys), jwt, or both');
  const path = options.path ?? '/api/switchboard';
  if (typeof path !== 'string' || !path.startsWith('/') || path.endsWith('/') || /[?#]/.test(path)) {
    throw new TypeError(`HttpApi option path must start with "/" and not end with one, got ${JSON.stringify(path)}`);
  }
  return {
    keys,
    jwt: options.jwt,
    path,
    maxBodyBytes: positiveInteger('maxBodyBytes', options.maxBodyBytes ?? 1024 * 1024),
    maxBatch: positiveInteger('maxBatch', options.maxBatch ?? 100),
    idempotency: {
      ttl: positiveInteger('idempotency.ttl', options.idempotency?.ttl ?? 24 * 60 * 60 * 1000),
      wait: nonNegativeInteger('idempotency.wait', options.idempotency?.wait ?? 10_000),
      store: options.idempotency?.store ?? new MemoryIdempotencyStore(),
    },
    authorize: options.authorize,
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`HttpApi option ${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`HttpApi option ${name} must be a non-negative integer, got ${value}`);
  return value;
}
