/**
 * The command line of `switchboard connect`, parsed into ConnectSettings and the mode to
 * run in. Pure: every usage mistake is a UsageError with a one-line message.
 */
import { parseArgs } from 'node:util';
import { parseAuthJson, parseDuration, UsageError } from '../usage.js';
import type { TransportKind } from '../../client/client-transport.js';
import type { ConnectSettings } from './connect-session.js';


export interface ConnectInvocation {
  settings: ConnectSettings;
  json: boolean;
  /** -x commands: run them in order, then exit. */
  execute: string[];
  /** How long -x waits for the connection, in ms. */
  timeout: number;
}

const TRANSPORTS: readonly TransportKind[] = ['websocket', 'sse', 'polling'];
const DEFAULT_TIMEOUT_MS = 10_000;

export function parseConnectArgs(args: string[]): ConnectInvocation {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        auth: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        transport: { type: 'string', short: 't', multiple: true },
        origin: { type: 'string' },
        header: { type: 'string', short: 'H', multiple: true },
        insecure: { type: 'boolean', short: 'k' },
        json: { type: 'boolean' },
        execute: { type: 'string', short: 'x', multiple: true },
        timeout: { type: 'string' },
        'no-reconnect': { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the server URL is missing (e.g. ws://localhost:3000/ws)' : `one URL only (got ${positionals.join(' ')})`);
  const timeout = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration('--timeout', values.timeout);
  const settings: ConnectSettings = { url: normalizeUrl(positionals[0] as string), ackTimeout: timeout };
  if (values.auth !== undefined) settings.auth = parseAuthJson('--auth', values.auth);
  if (values.namespace !== undefined) {
    if (!values.namespace.startsWith('/')) throw new UsageError(`--namespace starts with / (got "${values.namespace}")`);
    settings.namespace = values.namespace;
  }
  if (values.transport) settings.transports = parseTransports(values.transport);
  if (values.origin !== undefined) settings.origin = values.origin;
  if (values.header) settings.headers = parseHeaders(values.header);
  if (values.insecure) settings.insecure = true;
  if (values['no-reconnect']) settings.reconnect = false;
  return { settings, json: values.json ?? false, execute: values.execute ?? [], timeout };
}

/** http(s) becomes ws(s), and a URL without a path gets the default /ws. */
export function normalizeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: "${text}" (e.g. ws://localhost:3000/ws)`);
  }
  const scheme = ({ 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' } as Record<string, string>)[url.protocol];
  if (!scheme) throw new UsageError(`the URL must start with ws://, wss://, http:// or https:// (got ${url.protocol}//)`);
  const rest = text.slice(url.protocol.length);
  const normalized = new URL(scheme + rest);
  if (normalized.pathname === '/' && !/^[a-z]+:\/\/[^/]+\//i.test(text)) normalized.pathname = '/ws';
  return normalized.href;
}

function parseTransports(values: string[]): TransportKind[] {
  const list = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  for (const t of list) if (!TRANSPORTS.includes(t as TransportKind)) throw new UsageError(`--transport is websocket, sse or polling (got "${t}")`);
  return list as TransportKind[];
}

function parseHeaders(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const v of values) {
    const at = v.indexOf(':');
    const name = v.slice(0, at).trim();
    if (at <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) throw new UsageError(`--header is "Name: value" (got "${v}")`);
    headers[name] = v.slice(at + 1).trim();
  }
  return headers;
}

