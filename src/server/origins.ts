import type { OriginRequest } from './options.js';

/** The option `allowedOrigins`; undefined is the default policy. */
export type AllowedOrigins = readonly string[] | '*' | ((origin: string, request: OriginRequest) => boolean) | undefined;

/** The list entry naming the server's own origin: allowed whether or not a list says it. */
const SELF = 'self';
const LOCAL_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' };

/** An origin taken apart: lower-case scheme and `host[:port]`, the port left out when it is the scheme's default. */
interface ParsedOrigin {
  scheme: string;
  host: string;
  hostname: string;
}

/**
 * Which web pages may use this server, by the `Origin` header their browser sends. It
 * stops cross-site WebSocket hijacking (a page on another site opening a connection with
 * the user's cookies); it is not authentication, so requests without an Origin header —
 * Node, native apps, curl — are not checked.
 *
 * The server's own origin (the request's `Host`) is allowed by default and by every list
 * (`'self'` may be written in one, to say so); `'*'` allows every origin; a function
 * decides alone, so it is the way to refuse the own origin too.
 */
export class OriginPolicy {
  private readonly listed: ReadonlySet<string> | undefined;
  private readonly decide: ((origin: string, request: OriginRequest) => boolean) | undefined;
  /** The default policy: the server's own origin, and localhost unless in production. */
  private readonly allowLocalhost: boolean;

  constructor(
    readonly option: AllowedOrigins,
    production = process.env.NODE_ENV === 'production',
  ) {
    this.allowLocalhost = option === undefined && !production;
    if (typeof option === 'function') this.decide = option;
    else if (Array.isArray(option)) this.listed = new Set(option.filter((entry) => entry !== SELF).map(normalizeConfigured));
    else if (option !== undefined && option !== '*') {
      throw new TypeError(`Switchboard option allowedOrigins must be an array of origins, '*' or a function, got ${JSON.stringify(option)}`);
    }
  }

  /** Every origin is allowed (`'*'`): CORS answers may say `*`. */
  get allowsAny(): boolean {
    return this.option === '*' || (this.listed?.has('*') ?? false);
  }

  /**
   * Whether a page from `origin` may connect. Throws what an `allowedOrigins` function
   * throws; the caller refuses and reports it.
   */
  allows(origin: string, request: OriginRequest): boolean {
    if (this.allowsAny) return true;
    if (this.decide) return this.decide(origin, request) === true;
    const parsed = parseOrigin(origin);
    if (this.listed?.has(parsed ? `${parsed.scheme}://${parsed.host}` : origin)) return true;
    if (!parsed) return false;
    if (this.allowLocalhost && (parsed.scheme === 'http' || parsed.scheme === 'https') && LOCAL_HOSTS.has(parsed.hostname)) return true;
    // The server's own origin ('self') stays allowed with a list: listing a dev server must not lock out the server's own page.
    const host = request.headers.host;
    return sameHost(parsed, typeof host === 'string' ? host : undefined);
  }

  /** Why `origin` was refused and what to change, for the 403 body and the server's log. */
  refusal(origin: string): string {
    const shown = JSON.stringify(origin.length > 200 ? `${origin.slice(0, 200)}…` : origin);
    let allowed: string;
    if (this.decide) allowed = 'the allowedOrigins function returned false';
    else if (this.listed) allowed = `allowed: the server's own origin${[...this.listed].map((entry) => `, ${entry}`).join('')}`;
    else allowed = `by default only the server's own origin${this.allowLocalhost ? ' and localhost' : ''} may connect`;
    return `the page origin ${shown} may not connect to this Switchboard server (${allowed}); add it to the server's allowedOrigins option`;
  }
}

/** The server's own origin: the page's host and port are those of the request's `Host` header. */
function sameHost(origin: ParsedOrigin, hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  let host = hostHeader.trim().toLowerCase();
  // The scheme is not compared: behind a TLS-terminating proxy the page is https and the server sees http.
  const defaultPort = DEFAULT_PORTS[origin.scheme];
  if (defaultPort !== undefined && host.endsWith(`:${defaultPort}`)) host = host.slice(0, -defaultPort.length - 1);
  return host === origin.host;
}

function parseOrigin(origin: string): ParsedOrigin | undefined {
  // Browsers send scheme://host[:port] with nothing after it; custom schemes (capacitor://localhost) too.
  const match = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[^/?#@:[\]\s]+)(?::(\d{1,5}))?\/?$/i.exec(origin.trim());
  if (!match) return undefined;
  const scheme = (match[1] as string).toLowerCase();
  const hostname = (match[2] as string).toLowerCase();
  const port = match[3] === undefined || match[3] === DEFAULT_PORTS[scheme] ? undefined : String(Number(match[3]));
  return { scheme, hostname, host: port === undefined ? hostname : `${hostname}:${port}` };
}

function normalizeConfigured(entry: string): string {
  if (entry === '*' || entry === 'null') return entry;
  const parsed = typeof entry === 'string' ? parseOrigin(entry) : undefined;
  if (!parsed) {
    throw new TypeError(`Switchboard option allowedOrigins: ${JSON.stringify(entry)} is not an origin; write scheme://host[:port] with no path, e.g. "https://app.example.com"`);
  }
  return `${parsed.scheme}://${parsed.host}`;
}
