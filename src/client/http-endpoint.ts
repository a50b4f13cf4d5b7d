import type { ErrorPayload } from '../protocol/frames.js';

export type HttpRoute = 'poll' | 'sse' | 'send' | 'close';

/**
 * The HTTP endpoints beside a Switchboard WebSocket endpoint: `{path}/poll`, `{path}/sse`,
 * `{path}/send` and `{path}/close` on the same host, over http for ws and https for wss.
 * The query string of the WebSocket URL is kept (a server or proxy may route on it).
 */
export class HttpEndpoint {
  private readonly base: URL;

  constructor(webSocketUrl: string) {
    const url = new URL(webSocketUrl);
    if (url.protocol === 'ws:') url.protocol = 'http:';
    else if (url.protocol === 'wss:') url.protocol = 'https:';
    url.hash = '';
    this.base = url;
  }

  url(route: HttpRoute, cid?: string): string {
    const url = new URL(this.base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${route}`;
    if (cid !== undefined) url.searchParams.set('cid', cid);
    return url.href;
  }
}

/**
 * Every request carries the page's cookies, as a WebSocket upgrade does, so cookie auth
 * works the same on every transport; answers are never cached.
 */
export const REQUEST_DEFAULTS: RequestInit = { credentials: 'include', cache: 'no-store' };

/**
 * POST bodies go as text/plain: a "simple" request, which a browser sends cross-origin
 * without a CORS preflight (the server reads the JSON either way).
 */
export const POST_HEADERS = { 'content-type': 'text/plain;charset=UTF-8' };

/** The `{code, message}` body of a refusal from the server, if the answer has one. */
export async function refusalOf(response: Response): Promise<ErrorPayload | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  try {
    const body = (await response.json()) as { code?: unknown; message?: unknown } | null;
    if (typeof body?.code !== 'string') return undefined;
    return { code: body.code, message: typeof body.message === 'string' ? body.message : '' };
  } catch {
    return undefined;
  }
}

/** What went wrong with an HTTP answer, in words. */
export function describeAnswer(response: Response, refusal: ErrorPayload | undefined): string {
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return refusal ? `${status}, ${refusal.code}: ${refusal.message}` : status;
}

export function errorText(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is its cause.
  const inner = (cause as { cause?: unknown }).cause;
  return inner instanceof Error && inner.message ? `${cause.message} (${inner.message})` : cause.message;
}
