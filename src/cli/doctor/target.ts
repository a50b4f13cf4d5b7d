/**
 * The URL step: what the user typed, turned into the WebSocket URL a client would open.
 * An `http(s)://` URL is tested as `ws(s)://` (and said so); a URL without a path is
 * tested at Switchboard's default path.
 */
import { DEFAULT_PATH } from '../../protocol/constants.js';
import { StepName, pass, warn, type StepResult } from './step-result.js';

/** Where the doctor goes: the endpoint as a client addresses it. */
export interface Target {
  /** The WebSocket URL tested (ws: or wss:). */
  url: URL;
  secure: boolean;
  /** Host name or IP, without IPv6 brackets. */
  host: string;
  port: number;
  /** The endpoint's path, without the query. */
  path: string;
  /** Path and query as sent in the request line. */
  requestTarget: string;
}

/** A URL the doctor cannot test at all: bad usage (exit 2), not a finding. */
export class TargetError extends Error {
  readonly code = 'bad_url';
}

const SCHEMES: Record<string, 'ws:' | 'wss:'> = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' };

/** Parse `given` (and `--path`, which replaces the URL's path) into a target and the url step's result. */
export function resolveTarget(given: string, pathOption: string | undefined): { target: Target; result: StepResult } {
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    throw new TargetError(`"${given}" is not a URL: give one such as ws://localhost:3000/ws or wss://chat.example.com/ws`);
  }
  const scheme = SCHEMES[parsed.protocol];
  if (!scheme) throw new TargetError(`"${given}" has the scheme ${parsed.protocol} — a Switchboard URL starts with ws:// or wss://`);
  if (pathOption !== undefined && !pathOption.startsWith('/')) throw new TargetError(`--path must start with "/" (got "${pathOption}")`);
  const url = new URL(parsed.href);
  url.protocol = scheme;
  url.hash = '';
  const notes: string[] = [];
  const fixes: string[] = [];
  if (pathOption !== undefined) url.pathname = pathOption;
  else if (url.pathname === '/') {
    url.pathname = DEFAULT_PATH;
    notes.push(`no path given: testing ${DEFAULT_PATH}, Switchboard's default`);
    fixes.push('clients connect to the path exactly as given');
  }
  if (parsed.protocol !== scheme) {
    notes.unshift(`${parsed.protocol}// given for a WebSocket URL: testing ${scheme}// instead`);
    fixes.unshift(`${parsed.protocol}// reaches only the HTTP fallback`);
  }
  const secure = scheme === 'wss:';
  const target: Target = {
    url,
    secure,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    path: url.pathname,
    requestTarget: url.pathname + url.search,
  };
  const result =
    notes.length > 0
      ? warn(StepName.Url, notes.join('; '), `connect to ${url.href} (${fixes.join('; ')})`)
      : pass(StepName.Url, `${url.href} (host ${target.host}, port ${target.port}, path ${target.path})`);
  return { target, result };
}

/** An endpoint of the HTTP fallback: http(s)://, the endpoint's path and `route`, with the connection id if given. */
export function httpUrl(target: Target, route: 'poll' | 'sse' | 'close', cid?: string): URL {
  const url = new URL(target.url.href);
  url.protocol = target.secure ? 'https:' : 'http:';
  url.pathname = `${target.path.replace(/\/+$/, '')}/${route}`;
  if (cid !== undefined) url.searchParams.set('cid', cid);
  return url;
}
