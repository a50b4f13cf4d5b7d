import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../protocol/error-codes.js';

/** Who may read Switchboard's HTTP answers from another origin: the same allow-list as the WebSocket upgrade. */
export interface CorsOrigins {
  /** Every origin is allowed: answers say `Access-Control-Allow-Origin: *`. */
  readonly allowsAny: boolean;
  /** Whether a page from `origin` may read the answer to `req`. */
  allows(origin: string, req: IncomingMessage): boolean;
  /** Why `origin` is refused, for the body of a refused preflight. */
  refusal(origin: string): string;
}

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * CORS for Switchboard's own HTTP endpoints (the browser client today, long-polling
 * later). An allowed `Origin` gets `Access-Control-Allow-Origin`; a refused one gets no
 * CORS headers, so the browser keeps the answer from the page. Answers vary by origin, so
 * every one says `Vary: Origin` for caches.
 */
export class Cors {
  /**
   * `readableRefusals`: a refused origin gets `Access-Control-Allow-Origin` too, and its
   * preflights pass, so that the page can read the refusal of its real request. Only for
   * endpoints that answer every request of a refused origin with that refusal and nothing
   * else (the HTTP transports); elsewhere a refused page must not read the answer.
   */
  constructor(
    private readonly origins: CorsOrigins,
    private readonly readableRefusals = false,
  ) {}

  /** A policy that lets every origin read (for a `ClientBundle` used on its own). */
  static anyOrigin(): Cors {
    return new Cors({ allowsAny: true, allows: () => true, refusal: () => '' });
  }

  /**
   * Put the CORS headers for `req` on `res`, and answer an OPTIONS request (a preflight)
   * itself. Returns true when it answered; otherwise the caller answers as usual.
   * `methods` are those the endpoint serves; `decided` is whether the origin is allowed,
   * when the caller has asked already.
   */
  handle(req: IncomingMessage, res: ServerResponse, methods: readonly string[], decided?: boolean): boolean {
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    const allowed = origin === undefined ? undefined : (decided ?? this.allowed(origin, req));
    if (allowed) res.setHeader('Access-Control-Allow-Origin', this.origins.allowsAny ? '*' : (origin as string));
    else if (origin !== undefined && this.readableRefusals) res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method !== 'OPTIONS') return false;
    const allow = [...methods, 'OPTIONS'].join(', ');
    if (origin === undefined || req.headers['access-control-request-method'] === undefined) {
      // Not a preflight: say what the endpoint answers.
      res.writeHead(204, { Allow: allow });
      res.end();
      return true;
    }
    if (!allowed && !this.readableRefusals) {
      const body = `${ErrorCode.OriginNotAllowed}: ${this.origins.refusal(origin)}\n`;
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
      return true;
    }
    const headers: Record<string, string> = { 'Access-Control-Allow-Methods': allow, Allow: allow };
    // A refused origin's preflight is not cached: the refusal may be lifted (allowedOrigins changed).
    if (allowed) headers['Access-Control-Max-Age'] = PREFLIGHT_MAX_AGE;
    // The endpoints are public and take no credentials: any request header may come along.
    const requested = req.headers['access-control-request-headers'];
    if (requested) headers['Access-Control-Allow-Headers'] = requested;
    res.writeHead(204, headers);
    res.end();
    return true;
  }

  /** An `allowedOrigins` function that throws refuses: a CORS answer is no place to crash. */
  private allowed(origin: string, req: IncomingMessage): boolean {
    try {
      return this.origins.allows(origin, req);
    } catch {
      return false;
    }
  }
}
