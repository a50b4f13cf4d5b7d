/** The options of `adminDashboard(sb, options)`, checked once, with their defaults. */

/** Shortest admin token accepted: a guessable token would make the dashboard a remote control for anyone. */
export const MIN_TOKEN_LENGTH = 16;

/** Options of `adminDashboard(sb, options)`; see docs/OPERATIONS.md, "Admin dashboard". */
export interface AdminDashboardOptions {
  /** The admin token the page must present (at least 16 characters; use `openssl rand -base64 32`). Required. */
  token: string;
  /** Where the page is served. Default '/admin'. */
  path?: string;
  /** The namespace the page connects to; it belongs to the dashboard. Default '/admin'. */
  namespace?: string;
  /** Milliseconds between two snapshots pushed to the page (at least 100). Default 1000. */
  interval?: number;
  /** Namespaces whose sessions the page lists and may disconnect. Default ['/']. */
  namespaces?: readonly string[];
  /** The server's WebSocket path (its `path` option), which the page connects to. Default '/ws'. */
  endpoint?: string;
  /** Where the page imports the browser client from. Default: the path the server serves it at (`sb.clientPaths`); required with `serveClient: false`. */
  clientUrl?: string;
  /** How many busiest rooms of each node to show. Default 10. */
  rooms?: number;
  /** Most sessions listed on the page (the count is always the whole). Default 200. */
  maxSessions?: number;
}

export interface ResolvedAdminOptions {
  token: string;
  path: string;
  namespace: string;
  interval: number;
  namespaces: readonly string[];
  endpoint: string;
  clientUrl: string | undefined;
  rooms: number;
  maxSessions: number;
}

const OPTION_NAMES = new Set(['token', 'path', 'namespace', 'interval', 'namespaces', 'endpoint', 'clientUrl', 'rooms', 'maxSessions']);

export function resolveAdminOptions(options: AdminDashboardOptions, servedClient: string | undefined): ResolvedAdminOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('adminDashboard(sb, options): options must be an object with at least { token }');
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw new TypeError(`adminDashboard option "${name}" is unknown (options: ${[...OPTION_NAMES].join(', ')})`);
  }
  const { token } = options;
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new TypeError(`adminDashboard option token is required: a string of at least ${MIN_TOKEN_LENGTH} characters (for example \`openssl rand -base64 32\`)`);
  }
  const namespace = options.namespace ?? '/admin';
  const namespaces = options.namespaces ?? ['/'];
  if (!Array.isArray(namespaces) || namespaces.some((ns) => !isNamespace(ns))) {
    throw new TypeError(`adminDashboard option namespaces must be an array of namespace names starting with "/", got ${JSON.stringify(namespaces)}`);
  }
  if (!isNamespace(namespace) || namespace === '/' || namespaces.includes(namespace)) {
    throw new TypeError(`adminDashboard option namespace must be a namespace of its own (starting with "/", not "/" and not one of namespaces), got ${JSON.stringify(namespace)}`);
  }
  const clientUrl = options.clientUrl ?? servedClient;
  if (clientUrl !== undefined && (typeof clientUrl !== 'string' || clientUrl === '')) throw new TypeError(`adminDashboard option clientUrl must be a URL, got ${JSON.stringify(clientUrl)}`);
  return {
    token,
    path: urlPath('path', options.path ?? '/admin'),
    namespace,
    interval: integerAtLeast('interval', options.interval ?? 1000, 100),
    namespaces: [...namespaces],
    endpoint: urlPath('endpoint', options.endpoint ?? '/ws'),
    clientUrl,
    rooms: integerAtLeast('rooms', options.rooms ?? 10, 0),
    maxSessions: integerAtLeast('maxSessions', options.maxSessions ?? 200, 0),
  };
}

function isNamespace(name: unknown): name is string {
  return typeof name === 'string' && name.startsWith('/') && name.length <= 256;
}

function urlPath(name: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#"<>\s]/.test(value) || (value.length > 1 && value.endsWith('/'))) {
    throw new TypeError(`adminDashboard option ${name} must be a path starting with "/", not ending with one, without a query, got ${JSON.stringify(value)}`);
  }
  return value;
}

function integerAtLeast(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new RangeError(`adminDashboard option ${name} must be an integer of at least ${min}, got ${String(value)}`);
  return value;
}
