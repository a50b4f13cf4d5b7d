/**
 * Who a client of `switchboard serve` is: the JWT it sends in the handshake (`auth: { token }`),
 * verified with jose, whose `sub` becomes `socket.user` (so `toUser` and user rooms work),
 * and which rooms it may join: the config's public patterns plus those of a claim of its
 * token. Credentials expire with the token (`expireAuthAt`): the client must send a fresh
 * one when asked, or is closed with 4006.
 */
import { JwtVerifier } from '../../http-api/credentials.js';
import type { HttpApiJwtOptions } from '../../http-api/credentials.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { SwitchboardError } from '../../protocol/errors.js';
import { MAX_USER_ID_LENGTH } from '../../protocol/user-rooms.js';
import { ReplyError, type Socket } from '../../server/index.js';
import { matchesAny } from './room-patterns.js';
import type { AuthConfig, JwtConfig } from './serve-config.js';

/** The handshake as a client sends it: `connect(url, { auth: { token } })`. */
function tokenOf(auth: unknown): string | undefined {
  if (typeof auth !== 'object' || auth === null) return undefined;
  const token = (auth as { token?: unknown }).token;
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}

/** The HttpApi's JwtVerifier options of a `jwt` section (the same keys for sockets and the API). */
export function jwtOptions(jwt: JwtConfig): HttpApiJwtOptions {
  return {
    ...(jwt.secret !== undefined && { secret: jwt.secret }),
    ...(jwt.publicKey !== undefined && { publicKey: jwt.publicKey }),
    ...(jwt.jwksUrl !== undefined && { jwks: jwt.jwksUrl }),
    ...(jwt.issuer !== undefined && { issuer: jwt.issuer }),
    ...(jwt.audience !== undefined && { audience: jwt.audience }),
    ...(jwt.algorithms !== undefined && { algorithms: jwt.algorithms }),
    ...(jwt.clockTolerance !== undefined && { clockTolerance: jwt.clockTolerance }),
  };
}

/** What `socket.data` holds for the join rule: saved with the session, so it holds after a resume on another node too. */
interface AuthData {
  rooms?: string[];
}

export class SocketAuth {
  readonly #verifier: JwtVerifier | undefined;

  constructor(private readonly config: AuthConfig) {
    this.#verifier = config.jwt && new JwtVerifier(jwtOptions(config.jwt));
  }

  /** Resolves once tokens can be verified (jose loaded, the key read); rejects with the reason. */
  async ready(): Promise<void> {
    await this.#verifier?.ready();
  }

  /** The namespace middleware: admit a valid token (or, with `anonymous`, none), refuse the rest with `unauthorized`. */
  readonly middleware = async (socket: Socket): Promise<void> => {
    const token = tokenOf(socket.handshake.auth);
    // Without auth.jwt every client is anonymous (a token is not looked at).
    if (this.#verifier === undefined) return;
    if (token === undefined) {
      if (this.config.anonymous && socket.user === undefined) return;
      throw new ReplyError(ErrorCode.Unauthorized, 'send a JWT in the handshake: connect(url, { auth: { token } })');
    }
    let claims: Readonly<Record<string, unknown>>;
    try {
      const principal = await this.#verifier.verify(token);
      claims = principal.kind === 'jwt' ? principal.claims : {};
    } catch (err) {
      // The verifier's refusal (expired, bad signature, wrong issuer) keeps its code and message.
      if (err instanceof SwitchboardError) throw new ReplyError(ErrorCode.Unauthorized, err.message);
      throw err;
    }
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_ID_LENGTH) {
      throw new ReplyError(ErrorCode.Unauthorized, `the token needs a "sub" claim: the user id, 1 to ${MAX_USER_ID_LENGTH} characters`);
    }
    socket.user = sub;
    if (this.config.rooms) {
      const granted = claims[this.config.rooms.claim];
      (socket.data as AuthData).rooms = Array.isArray(granted) ? granted.filter((p): p is string => typeof p === 'string') : [];
    }
    if (typeof claims.exp === 'number') socket.expireAuthAt(claims.exp * 1000);
  };

  /** The join rule with `auth.rooms`: a public pattern or one of the token's claim; undefined: every room may be joined. */
  get joinAuthorizer(): ((socket: Socket, room: string) => boolean) | undefined {
    const rooms = this.config.rooms;
    if (!rooms) return undefined;
    return (socket, room) => matchesAny(rooms.public, room) || matchesAny((socket.data as AuthData | undefined)?.rooms ?? [], room);
  }
}
