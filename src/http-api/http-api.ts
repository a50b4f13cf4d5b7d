import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import { answerJson } from '../transport/http-answer.js';
import { closeAfterAnswer, readBody } from '../transport/http-body.js';
import { ApiKeys, type HttpApiPrincipal, JwtVerifier, looksLikeJwt } from './credentials.js';
import { HttpApiError, statusOf } from './http-errors.js';
import { IdempotencyKeys } from './idempotency.js';
import { type HttpApiAction, type HttpApiOptions, type ResolvedHttpApiOptions, resolveHttpApiOptions } from './options.js';
import { type Publication, idempotencyKey, parsePublication } from './publication.js';
import { Publisher, type PublishOutcome } from './publisher.js';
import * as queries from './queries.js';
import { bearerToken, isJsonContentType, parseJsonObject } from './request-body.js';
import type { ApiServer } from './server-ports.js';

/** The routes under the API's path, and the method each takes. */
const ROUTES: Readonly<Record<string, 'GET' | 'POST'>> = {
  '/publish': 'POST',
  '/batch': 'POST',
  '/disconnect': 'POST',
  '/presence': 'GET',
  '/history': 'GET',
  '/sessions': 'GET',
};

/** Sent with every 401, as RFC 6750 asks. */
const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="switchboard"' };

/** Connect/Express middleware: answers requests under the API's path, passes the others on. */
export type HttpApiMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The publish HTTP API: lets a backend in any language publish to rooms and users, and
 * read presence, history and sessions, with an API key or a JWT. Mount it on the app's
 * HTTP server (`api.handle(req, res)`) or in Express (`app.use(api.middleware)`). Uses
 * the server's public API only. Routes and errors: docs/API.md, "HTTP API".
 */
export class HttpApi {
  /** Where the routes live (option `path`). */
  readonly path: string;
  readonly #server: ApiServer;
  readonly #options: ResolvedHttpApiOptions;
  readonly #keys: ApiKeys;
  readonly #jwt: JwtVerifier | undefined;
  readonly #publisher: Publisher;

  constructor(server: ApiServer, options: HttpApiOptions) {
    if (!server || typeof server.of !== 'function') throw new TypeError('new HttpApi(sb, options): sb must be a Switchboard');
    this.#options = resolveHttpApiOptions(options ?? {});
    this.path = this.#options.path;
    this.#server = server;
    this.#keys = new ApiKeys(this.#options.keys);
    this.#jwt = this.#options.jwt && new JwtVerifier(this.#options.jwt);
    const idempotency = new IdempotencyKeys(this.#options.idempotency);
    this.#publisher = new Publisher({
      server,
      idempotency,
      authorize: (principal, p) => this.#authorize(principal, publishAction(p)),
    });
  }

  /** Resolves when the API can verify credentials; rejects when `jwt` is set and `jose` is not installed or the key cannot be read. */
  async ready(): Promise<void> {
    await this.#jwt?.ready();
  }

  /**
   * Answer `req` if its path is under the API's path, and return true; otherwise return
   * false and leave it alone. The answer is written asynchronously.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    let url: URL;
    try {
      url = new URL((req as { originalUrl?: string }).originalUrl ?? req.url ?? '/', 'http://x');
    } catch {
      return false; // not a path of ours, nor one the app can read: its own handler answers it
    }
    const { pathname } = url;
    if (pathname !== this.path && !pathname.startsWith(`${this.path}/`)) return false;
    this.#serve(req, res, pathname.slice(this.path.length), url.searchParams).catch((err: unknown) => {
      this.#server.reportError(err, { phase: 'http-api', path: pathname });
      answer(res, { status: 500, body: JSON.stringify({ code: ErrorCode.InternalError, message: 'the request failed on the server' }) });
    });
    return true;
  }

  /** `app.use(api.middleware)`: mount it before any body parser (it reads the JSON body itself). */
  readonly middleware: HttpApiMiddleware = (req, res, next) => {
    if (!this.handle(req, res)) next();
  };

  async #serve(req: IncomingMessage, res: ServerResponse, route: string, search: URLSearchParams): Promise<void> {
    try {
      const method = ROUTES[route];
      if (method === undefined) throw new HttpApiError(ErrorCode.UnknownRoute, `no route ${this.path}${route}: the routes are ${Object.keys(ROUTES).map((r) => this.path + r).join(', ')}`);
      if (req.method !== method) throw new HttpApiError(ErrorCode.MethodNotAllowed, `${this.path}${route} takes ${method}, not ${req.method}`, { Allow: method });
      const principal = await this.#authenticate(req);
      if (this.#server.closing) throw new HttpApiError(ErrorCode.ShuttingDown, 'the server is shutting down', { 'Retry-After': '1' });
      if (method === 'GET') {
        answer(res, { status: 200, body: JSON.stringify(await this.#query(principal, route, search)) });
        return;
      }
      const body = await this.#readJson(req, res);
      if (route === '/publish') await this.#publish(principal, req, res, body);
      else if (route === '/batch') await this.#batch(principal, req, res, body);
      else {
        const action = queries.disconnectAction(body);
        await this.#authorize(principal, action);
        answer(res, { status: 200, body: JSON.stringify(await queries.disconnect(this.#server, action, body.ns !== undefined)) });
      }
    } catch (err) {
      answerRefusal(res, err, (e) => this.#server.reportError(e, { phase: 'http-api', route }));
    }
  }

  async #query(principal: HttpApiPrincipal, route: string, search: URLSearchParams): Promise<queries.QueryAnswer> {
    if (route === '/presence') {
      const action = queries.presenceAction(queries.queryParams(search, queries.PRESENCE_PARAMS));
      await this.#authorize(principal, action);
      return queries.presence(this.#server, action);
    }
    if (route === '/history') {
      const request = queries.historyAction(queries.queryParams(search, queries.HISTORY_PARAMS));
      await this.#authorize(principal, request.action);
      return queries.history(this.#server, request);
    }
    const params = queries.queryParams(search, queries.SESSIONS_PARAMS);
    const action = queries.sessionsAction(params);
    await this.#authorize(principal, action);
    return queries.sessions(this.#server, action, params.has('ns'));
  }

  async #publish(principal: HttpApiPrincipal, req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const publication = parsePublication(body);
    const header = headerKey(req);
    if (header !== undefined) {
      if (publication.idempotencyKey !== undefined && publication.idempotencyKey !== header) {
        throw new HttpApiError(ErrorCode.BadRequest, 'idempotencyKey: differs from the Idempotency-Key header (give one of them, or the same in both)');
      }
      publication.idempotencyKey = header;
    }
    const [outcome] = (await this.#publisher.publishAll(principal, '/publish', [publication])) as [PublishOutcome];
    const headers: Record<string, string> = { ...outcome.headers };
    if (outcome.replayed) headers['Idempotent-Replayed'] = 'true';
    if (outcome.answer.status === 503) headers['Retry-After'] = '1';
    answer(res, outcome.answer, headers);
  }

  async #batch(principal: HttpApiPrincipal, req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    if (headerKey(req) !== undefined) throw new HttpApiError(ErrorCode.BadRequest, 'Idempotency-Key: a batch takes no key of its own; give each publication its idempotencyKey');
    for (const field of Object.keys(body)) if (field !== 'publications') throw new HttpApiError(ErrorCode.BadRequest, `${field}: unknown field (a batch has publications)`);
    const list = body.publications;
    if (!Array.isArray(list) || list.length === 0) throw new HttpApiError(ErrorCode.BadRequest, 'publications: must be a non-empty array of publications');
    if (list.length > this.#options.maxBatch) throw new HttpApiError(ErrorCode.BadRequest, `publications: at most ${this.#options.maxBatch} in one batch, got ${list.length}`);
    // A bad publication is answered in its place; the others still go out.
    const seen = new Set<string>();
    const items = list.map((item, i): Publication | HttpApiError => {
      try {
        const p = parsePublication(item, `publications[${i}]`);
        if (p.idempotencyKey !== undefined) {
          if (seen.has(p.idempotencyKey)) throw new HttpApiError(ErrorCode.BadRequest, `publications[${i}].idempotencyKey: repeated in this batch`);
          seen.add(p.idempotencyKey);
        }
        return p;
      } catch (err) {
        if (err instanceof HttpApiError) return err;
        throw err;
      }
    });
    const outcomes = await this.#publisher.publishAll(principal, '/batch', items);
    const results = outcomes.map((o) => ({ status: o.answer.status, ...(JSON.parse(o.answer.body) as object), ...(o.replayed && { replayed: true }) }));
    answer(res, { status: 200, body: JSON.stringify({ results }) });
  }

  async #authenticate(req: IncomingMessage): Promise<HttpApiPrincipal> {
    const header = req.headers.authorization;
    if (header === undefined) throw new HttpApiError(ErrorCode.Unauthorized, 'missing Authorization header: send "Authorization: Bearer <API key or JWT>"', CHALLENGE);
    const token = bearerToken(header);
    if (token === undefined) throw new HttpApiError(ErrorCode.Unauthorized, 'the Authorization header must be "Bearer <API key or JWT>"', CHALLENGE);
    const byKey = this.#keys.size > 0 ? this.#keys.match(token) : undefined;
    if (byKey) return byKey;
    if (this.#jwt && looksLikeJwt(token)) {
      try {
        return await this.#jwt.verify(token);
      } catch (err) {
        if (err instanceof HttpApiError) throw new HttpApiError(err.code, err.message, CHALLENGE);
        throw err;
      }
    }
    throw new HttpApiError(ErrorCode.Unauthorized, this.#jwt ? 'the token is neither an API key nor a valid JWT' : 'unknown API key', CHALLENGE);
  }

  /** The app's authorize hook: false is `forbidden`; a ReplyError's code is passed on; any other failure is `internal_error`. */
  async #authorize(principal: HttpApiPrincipal, action: HttpApiAction): Promise<void> {
    const hook = this.#options.authorize;
    if (!hook) return;
    let allowed: boolean;
    try {
      allowed = await hook(principal, action);
    } catch (err) {
      if (err instanceof SwitchboardError) throw err;
      this.#server.reportError(err, { phase: 'http-api authorize', principal: principal.id, action: action.action });
      throw new SwitchboardError(ErrorCode.InternalError, 'the authorize hook failed');
    }
    if (allowed !== true) {
      const what = action.room !== undefined ? `room "${action.room}"` : action.user !== undefined ? `user "${action.user}"` : `namespace "${action.ns}"`;
      throw new HttpApiError(ErrorCode.Forbidden, `${principal.id} may not ${action.action} (${what})`);
    }
  }

  /** The JSON object of a POST body: checked type, bounded size. */
  async #readJson(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown>> {
    if (!isJsonContentType(req.headers['content-type'])) {
      throw new HttpApiError(ErrorCode.UnsupportedMediaType, `Content-Type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? null)}`);
    }
    if (req.readableEnded) {
      throw new SwitchboardError(ErrorCode.InternalError, 'the request body was already read by another middleware: mount api.middleware before body parsers');
    }
    const read = await readBody(req, this.#options.maxBodyBytes);
    if (!read.ok) {
      if (!read.tooBig) throw new HttpApiError(ErrorCode.BadRequest, 'the request body did not arrive whole');
      closeAfterAnswer(res);
      throw new HttpApiError(ErrorCode.MessageTooBig, `the body is larger than ${this.#options.maxBodyBytes} bytes (option maxBodyBytes)`);
    }
    return parseJsonObject(read.body);
  }
}

function publishAction(p: Publication): HttpApiAction {
  const action: HttpApiAction = { action: 'publish', ns: p.ns, event: p.event };
  if (p.room !== undefined) action.room = p.room;
  else action.user = p.user as string;
  return action;
}

function headerKey(req: IncomingMessage): string | undefined {
  const header = req.headers['idempotency-key'];
  if (header === undefined) return undefined;
  return idempotencyKey(Array.isArray(header) ? header.join(',') : header, 'Idempotency-Key');
}

function answer(res: ServerResponse, a: { status: number; body: string }, headers: Readonly<Record<string, string>> = {}): void {
  answerJson(res, a.status, a.body, headers);
}

/** An error as the caller sees it: its code and status; an error that is not a SwitchboardError is reported and becomes `internal_error`. */
function answerRefusal(res: ServerResponse, err: unknown, report: (err: unknown) => void): void {
  if (!(err instanceof SwitchboardError)) {
    report(err);
    err = new SwitchboardError(ErrorCode.InternalError, 'the request failed on the server');
  }
  const e = err as SwitchboardError;
  const headers = e instanceof HttpApiError ? e.headers : e.code === ErrorCode.ClusterUnavailable ? { 'Retry-After': '1' } : {};
  answerJson(res, statusOf(e.code), JSON.stringify({ code: e.code, message: e.message }), headers);
}
