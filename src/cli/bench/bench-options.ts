/**
 * The command line of `switchboard bench`, parsed into BenchSettings. Pure: every mistake
 * is a UsageError with a one-line message.
 */
import { parseArgs } from 'node:util';
import { normalizeUrl } from '../connect/connect-options.js';
import { parseAuthJson, parseDuration, UsageError } from '../usage.js';


export interface BenchSettings {
  url: string;
  connections: number;
  /** New connections per second during the ramp. */
  rate: number;
  room: string;
  /** Join by sending this request with `{ room }` (an app's own join, like the chat's joinRoom) instead of a protocol join. */
  joinEvent?: string;
  auth?: unknown;
  namespace?: string;
  /** The event the receivers count. */
  event: string;
  /** Publish through the HTTP API at this base (`POST {api}/publish`) with this key. */
  api?: { base: string; key: string };
  /** Or: the first connection sends this request, which the server is expected to broadcast to the room. */
  emit?: string;
  /** Publications per second while publishing. */
  messageRate: number;
  /** How long to publish, in ms (after the ramp). */
  duration: number;
  /** How long one connection may take to connect and join. */
  timeout: number;
  json: boolean;
}

/** The environment variable `--api` takes its key from when `--api-key` is not given: a flag's value is visible to every user in `ps`. */
export const API_KEY_ENV = 'SWITCHBOARD_API_KEY';

/** `env` is the process's environment (only API_KEY_ENV is read). */
export function parseBenchArgs(args: string[], env: Readonly<Record<string, string | undefined>>): BenchSettings {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        connections: { type: 'string', short: 'c' },
        rate: { type: 'string', short: 'r' },
        room: { type: 'string' },
        'join-event': { type: 'string' },
        auth: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        event: { type: 'string', short: 'e' },
        api: { type: 'string' },
        'api-key': { type: 'string' },
        emit: { type: 'string' },
        messages: { type: 'string', short: 'm' },
        duration: { type: 'string', short: 'd' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the server URL is missing (e.g. ws://localhost:3000/ws)' : `one URL only (got ${positionals.join(' ')})`);
  if (v.api !== undefined && v.emit !== undefined) throw new UsageError('--api and --emit are two ways to publish: give one');
  const apiKey = v['api-key'] ?? (env[API_KEY_ENV] || undefined);
  if (v.api === undefined && v['api-key'] !== undefined) throw new UsageError('--api-key is the key for --api: give --api URL too');
  if (v.api !== undefined && apiKey === undefined) throw new UsageError(`--api needs its key: set ${API_KEY_ENV} (kept out of ps) or give --api-key KEY`);
  if (v.namespace !== undefined && !v.namespace.startsWith('/')) throw new UsageError(`--namespace starts with / (got "${v.namespace}")`);
  const settings: BenchSettings = {
    url: normalizeUrl(positionals[0] as string),
    connections: count('--connections', v.connections ?? '100'),
    rate: perSecond('--rate', v.rate ?? '200/s'),
    room: v.room ?? 'bench',
    event: v.event ?? 'bench',
    messageRate: perSecond('--messages', v.messages ?? '10/s'),
    duration: parseDuration('--duration', v.duration ?? '10s'),
    timeout: parseDuration('--timeout', v.timeout ?? '10s'),
    json: v.json ?? false,
  };
  if (v['join-event'] !== undefined) settings.joinEvent = v['join-event'];
  if (v.namespace !== undefined) settings.namespace = v.namespace;
  if (v.emit !== undefined) settings.emit = v.emit;
  if (v.api !== undefined) settings.api = { base: apiBase(v.api), key: apiKey as string };
  if (v.auth !== undefined) settings.auth = parseAuthJson('--auth', v.auth);
  return settings;
}

function count(name: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${name} is a whole number from 1 (got "${text}")`);
  return Number(text);
}

/** `200`, `200/s`, `50/s`; fractions allowed (`0.5/s`: one every two seconds). */
function perSecond(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0) throw new UsageError(`${name} is a rate per second like 200/s (got "${text}")`);
  return Number(match[1]);
}

function apiBase(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--api is the HTTP API's URL, e.g. http://localhost:3000/api/switchboard (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--api is an http:// or https:// URL (got "${text}")`);
  return url.href.replace(/\/+$/, '');
}
