import { createHash, type KeyObject, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '../protocol/error-codes.js';
import { HttpApiError } from './http-errors.js';

/** A request made with an API key. */
export interface HttpApiKeyPrincipal {
  kind: 'key';
  /** `key:` and the first 16 hex digits of the key's SHA-256: stable across restarts, safe to log, never the key. */
  id: string;
}

/** A request made with a verified JWT. */
export interface HttpApiJwtPrincipal {
  kind: 'jwt';
  /** `jwt:` + issuer + `:` + subject (empty where the token has none). */
  id: string;
  /** The token's verified claims. */
  claims: Readonly<Record<string, unknown>>;
}

/** Who made a request: the `authorize` hook decides by it, and idempotency keys are scoped to its `id`. */
export type HttpApiPrincipal = HttpApiKeyPrincipal | HttpApiJwtPrincipal;

/** How JWTs are verified (with the `jose` package). Give exactly one of `secret`, `publicKey`, `jwks`. */
export interface HttpApiJwtOptions {
  /** Shared secret for HMAC tokens (HS256 unless `algorithms` says otherwise). */
  secret?: string | Uint8Array;
  /** Public key: a PEM (SPKI) string, or a KeyObject. Algorithms default to RS256. */
  publicKey?: string | KeyObject;
  /** URL of a JSON Web Key Set, fetched and cached (jose `createRemoteJWKSet`). */
  jwks?: string | URL;
  /** Required `iss` claim (one of these). */
  issuer?: string | string[];
  /** Required `aud` claim (one of these). */
  audience?: string | string[];
  /** Accepted `alg` values. Default: HS256 with `secret`, RS256 with `publicKey`, any asymmetric one the key set allows with `jwks`. */
  algorithms?: string[];
  /** Seconds of clock skew allowed for `exp` and `nbf`. Default 0. */
  clockTolerance?: number;
}

/** The API keys, compared in constant time: every key is checked, and only digests of equal length are compared. */
export class ApiKeys {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    for (const key of keys) {
      if (typeof key !== 'string' || key.length === 0) throw new TypeError('HttpApi option keys must be non-empty strings');
    }
    this.#digests = keys.map(digest);
  }

  get size(): number {
    return this.#digests.length;
  }

  /** The principal of `token` if it is one of the keys. */
  match(token: string): HttpApiPrincipal | undefined {
    const offered = digest(token);
    let found = -1;
    // No early exit: which key matched (or that none did) takes the same time.
    for (let i = 0; i < this.#digests.length; i++) if (timingSafeEqual(offered, this.#digests[i] as Buffer)) found = i;
    return found === -1 ? undefined : { kind: 'key', id: `key:${offered.toString('hex', 0, 8)}` };
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** A compact JWS: three base64url parts. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

type Jose = typeof import('jose');
type Verify = (token: string) => Promise<Record<string, unknown>>;

/**
 * Verifies JWTs with `jose`, imported when the API is made (it is an optional peer
 * dependency: apps on API keys need not install it). A missing `jose` fails each JWT
 * request with `internal_error` and rejects `ready()` with the install command.
 */
export class JwtVerifier {
  readonly #verify: Promise<Verify>;

  constructor(options: HttpApiJwtOptions) {
    const given = [options.secret, options.publicKey, options.jwks].filter((x) => x !== undefined).length;
    if (given !== 1) throw new TypeError('HttpApi option jwt needs exactly one of secret, publicKey and jwks');
    this.#verify = loadJose().then((jose) => verifier(jose, options));
    // Seen by ready() and by requests; not an unhandled rejection meanwhile.
    this.#verify.catch(() => {});
  }

  /** Resolves once `jose` is loaded and the key is read; rejects with the reason JWTs cannot be verified. */
  async ready(): Promise<void> {
    await this.#verify;
  }

  /** The principal of a valid token; `unauthorized` (401) for an invalid, expired or refused one. */
  async verify(token: string): Promise<HttpApiPrincipal> {
    const verify = await this.#verify;
    let claims: Record<string, unknown>;
    try {
      claims = await verify(token);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && (code.startsWith('ERR_JW') || code === 'ERR_JOSE_NOT_SUPPORTED' || code === 'ERR_JOSE_ALG_NOT_ALLOWED')) {
        throw new HttpApiError(ErrorCode.Unauthorized, code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : `the token was refused: ${(err as Error).message}`);
      }
      throw err;
    }
    const iss = typeof claims.iss === 'string' ? claims.iss : '';
    const sub = typeof claims.sub === 'string' ? claims.sub : '';
    return { kind: 'jwt', id: `jwt:${iss}:${sub}`, claims };
  }
}

async function loadJose(): Promise<Jose> {
  try {
    return await import('jose');
  } catch (err) {
    throw new Error('switchboard/http-api: option jwt needs the "jose" package (an optional peer dependency): npm install jose', { cause: err });
  }
}

async function verifier(jose: Jose, options: HttpApiJwtOptions): Promise<Verify> {
  const checks = {
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
    ...(options.clockTolerance !== undefined && { clockTolerance: options.clockTolerance }),
  };
  if (options.secret !== undefined) {
    const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    const algorithms = options.algorithms ?? ['HS256'];
    return async (token) => (await jose.jwtVerify(token, key, { ...checks, algorithms })).payload;
  }
  if (options.publicKey !== undefined) {
    const algorithms = options.algorithms ?? ['RS256'];
    const key = typeof options.publicKey === 'string' ? await jose.importSPKI(options.publicKey, algorithms[0] as string) : options.publicKey;
    return async (token) => (await jose.jwtVerify(token, key, { ...checks, algorithms })).payload;
  }
  const keys = jose.createRemoteJWKSet(new URL(options.jwks as string | URL));
  const algorithms = options.algorithms;
  return async (token) => (await jose.jwtVerify(token, keys, { ...checks, ...(algorithms && { algorithms }) })).payload;
}
