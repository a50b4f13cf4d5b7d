/**
 * Where the `serve` configuration comes from, in order of precedence: flags, then
 * environment variables, then the JSON config file, then the defaults. OVERRIDES is the one
 * table of the environment variables and flags (the help text and docs/OPERATIONS.md list
 * the same); each sets one key of the file's shape, and the merged result is checked as a
 * whole by resolveServeConfig, which names the key of a bad value and where it came from.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../usage.js';
import { ConfigError, type Json, type JsonObject } from './config-reader.js';
import type { SourceOf, ValueSource } from './serve-config.js';

/** `switch`: a boolean that turns a section on or off; `true` keeps a section the file already configured. */
type Kind = 'string' | 'integer' | 'list' | 'boolean' | 'switch' | 'trustProxy' | 'origins';

interface Override {
  /** Dotted key of the config file. */
  key: string;
  /** Environment variables, the first set one wins. */
  env: readonly string[];
  /** Long flag name (without `--`); none for secrets, which would show in `ps`. */
  flag?: string;
  short?: string;
  kind: Kind;
}

export const OVERRIDES: readonly Override[] = [
  { key: 'port', env: ['SWITCHBOARD_PORT', 'PORT'], flag: 'port', short: 'p', kind: 'integer' },
  { key: 'host', env: ['SWITCHBOARD_HOST'], flag: 'host', kind: 'string' },
  { key: 'path', env: ['SWITCHBOARD_PATH'], flag: 'path', kind: 'string' },
  { key: 'tls.cert', env: ['SWITCHBOARD_TLS_CERT'], flag: 'tls-cert', kind: 'string' },
  { key: 'tls.key', env: ['SWITCHBOARD_TLS_KEY'], flag: 'tls-key', kind: 'string' },
  { key: 'allowedOrigins', env: ['SWITCHBOARD_ALLOWED_ORIGINS'], flag: 'origin', kind: 'origins' },
  { key: 'trustProxy', env: ['SWITCHBOARD_TRUST_PROXY'], flag: 'trust-proxy', kind: 'trustProxy' },
  { key: 'redis.url', env: ['SWITCHBOARD_REDIS_URL'], flag: 'redis', kind: 'string' },
  { key: 'redis.prefix', env: ['SWITCHBOARD_REDIS_PREFIX'], flag: 'redis-prefix', kind: 'string' },
  { key: 'durable', env: ['SWITCHBOARD_DURABLE'], flag: 'durable', kind: 'list' },
  { key: 'durableUsers', env: ['SWITCHBOARD_DURABLE_USERS'], flag: 'durable-users', kind: 'boolean' },
  { key: 'presence', env: ['SWITCHBOARD_PRESENCE'], flag: 'presence', kind: 'list' },
  { key: 'auth.jwt.secret', env: ['SWITCHBOARD_JWT_SECRET'], kind: 'string' },
  { key: 'auth.jwt.publicKey', env: ['SWITCHBOARD_JWT_PUBLIC_KEY'], flag: 'jwt-public-key', kind: 'string' },
  { key: 'auth.jwt.jwksUrl', env: ['SWITCHBOARD_JWKS_URL'], flag: 'jwks-url', kind: 'string' },
  { key: 'auth.jwt.issuer', env: ['SWITCHBOARD_JWT_ISSUER'], flag: 'jwt-issuer', kind: 'list' },
  { key: 'auth.jwt.audience', env: ['SWITCHBOARD_JWT_AUDIENCE'], flag: 'jwt-audience', kind: 'list' },
  { key: 'auth.anonymous', env: ['SWITCHBOARD_ANONYMOUS'], flag: 'anonymous', kind: 'boolean' },
  { key: 'api.keys', env: ['SWITCHBOARD_API_KEYS'], kind: 'list' },
  { key: 'api.jwt.secret', env: ['SWITCHBOARD_API_JWT_SECRET'], kind: 'string' },
  { key: 'api.path', env: ['SWITCHBOARD_API_PATH'], flag: 'api-path', kind: 'string' },
  { key: 'static', env: ['SWITCHBOARD_STATIC'], flag: 'static', kind: 'string' },
  { key: 'socketIo', env: ['SWITCHBOARD_SOCKET_IO'], flag: 'socket-io', kind: 'boolean' },
  { key: 'log.format', env: ['SWITCHBOARD_LOG_FORMAT'], flag: 'log-format', kind: 'string' },
  { key: 'log.level', env: ['SWITCHBOARD_LOG_LEVEL'], flag: 'log-level', kind: 'string' },
  { key: 'log.traceFrames', env: ['SWITCHBOARD_TRACE_FRAMES'], flag: 'trace-frames', kind: 'boolean' },
  { key: 'metrics', env: ['SWITCHBOARD_METRICS'], flag: 'metrics', kind: 'switch' },
  { key: 'admin.token', env: ['SWITCHBOARD_ADMIN_TOKEN'], kind: 'string' },
];

const REPEATABLE: ReadonlySet<Kind> = new Set(['list', 'origins']);

/** The command's flags: `--config` and `--help` plus one per override. */
function flagOptions(): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    config: { type: 'string', short: 'c' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const o of OVERRIDES) {
    if (o.flag === undefined) continue;
    options[o.flag] = { type: o.kind === 'boolean' || o.kind === 'switch' ? 'boolean' : 'string', ...(o.short && { short: o.short }), ...(REPEATABLE.has(o.kind) && { multiple: true }) };
  }
  return options;
}


export interface ConfigLayers {
  /** The merged configuration, in the file's shape, not yet checked. */
  raw: JsonObject;
  /** Where each key's value came from. */
  sourceOf: SourceOf;
  /** The config file, when one was given. */
  file: string | undefined;
}

/** Read the config file (if any), the environment and the flags, and merge them. Throws UsageError or ConfigError. */
export function loadConfigLayers(args: readonly string[], env: Record<string, string | undefined>, cwd: string): ConfigLayers {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: flagOptions(), strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const given = (flags.config as string | undefined) ?? nonEmpty(env.SWITCHBOARD_CONFIG);
  const fileSource: ValueSource | undefined = given === undefined ? undefined : { label: given, dir: dirname(resolve(cwd, given)) };
  const raw = given === undefined ? {} : readConfigFile(resolve(cwd, given), given);
  // `"redis": "redis://..."` is short for { "url": ... }: the overrides set redis.url.
  if (typeof raw.redis === 'string') raw.redis = { url: raw.redis };

  const set: { key: string; source: ValueSource }[] = [];
  for (const o of OVERRIDES) {
    const name = o.env.find((n) => nonEmpty(env[n]) !== undefined);
    if (name !== undefined) {
      setOverride(raw, o, fromEnv(o.kind, env[name] as string));
      set.push({ key: o.key, source: { label: `environment variable ${name}`, dir: cwd } });
    }
  }
  for (const o of OVERRIDES) {
    const value = o.flag === undefined ? undefined : flags[o.flag];
    if (value === undefined) continue;
    setOverride(raw, o, fromFlag(o.kind, value));
    const source = { label: `--${o.flag}`, dir: cwd };
    // A flag replaces what the environment said about its key.
    const i = set.findIndex((s) => s.key === o.key);
    if (i === -1) set.push({ key: o.key, source });
    else set[i] = { key: o.key, source };
  }

  const fallback: ValueSource = fileSource ?? { label: 'configuration', dir: cwd };
  const sourceOf: SourceOf = (key) =>
    set.find((s) => key === s.key || key.startsWith(`${s.key}.`) || key.startsWith(`${s.key}[`))?.source ??
    (fileSource && keyIn(raw, key) ? fileSource : set.find((s) => s.key.startsWith(`${key}.`))?.source) ??
    fallback;
  return { raw, sourceOf, file: given };
}

/** Whether the file (merged) has `key` at all: a key of the file itself is blamed on the file. */
function keyIn(raw: JsonObject, key: string): boolean {
  let node: Json | undefined = raw;
  for (const part of key.replace(/\[\d+\]/g, '').split('.')) {
    if (part === '') continue;
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
    node = node[part];
  }
  return node !== undefined;
}

/** The parsed file: a JSON object (no comments; see docs/OPERATIONS.md). */
export function readConfigFile(file: string, label: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('', `${label}: cannot read the config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('', `${label}: not valid JSON${where(text, err as Error)}: ${(err as Error).message} (comments are not allowed)`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('', `${label}: the config file must hold a JSON object ({ "port": 3000, ... })`);
  return value as JsonObject;
}

/** " at line L column C", from the position V8 puts in a JSON.parse message. */
function where(text: string, err: Error): string {
  const match = /position (\d+)/.exec(err.message);
  if (!match) return '';
  const before = text.slice(0, Number(match[1]));
  const lines = before.split('\n');
  return ` at line ${lines.length} column ${(lines.at(-1) as string).length + 1}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Set the key of `o`; a switch turned on leaves a section the file configured as it is (`--metrics` keeps the file's `metrics.path`). */
function setOverride(raw: JsonObject, o: Override, value: Json): void {
  const current = raw[o.key];
  if (o.kind === 'switch' && value === true && typeof current === 'object' && current !== null && !Array.isArray(current)) return;
  setKey(raw, o.key, value);
}

function setKey(raw: JsonObject, key: string, value: Json): void {
  const parts = key.split('.');
  let node = raw;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    // A key the file made something else (`"auth": true`) is replaced, and the result checked as usual.
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as JsonObject;
  }
  node[parts.at(-1) as string] = value;
}

function number(text: string): Json {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function fromEnv(kind: Kind, text: string): Json {
  switch (kind) {
    case 'integer':
      return number(text);
    case 'list':
      return list(text);
    case 'origins':
      return text.trim() === '*' ? '*' : list(text);
    case 'boolean':
    case 'switch':
      return ['true', '1', 'yes'].includes(text.trim().toLowerCase()) ? true : ['false', '0', 'no'].includes(text.trim().toLowerCase()) ? false : text;
    case 'trustProxy': {
      const t = text.trim().toLowerCase();
      if (t === 'true' || t === 'false') return t === 'true';
      return /^\d+$/.test(t) ? Number(t) : list(text);
    }
    default:
      return text;
  }
}

function fromFlag(kind: Kind, value: string | boolean | string[]): Json {
  if (Array.isArray(value)) return kind === 'origins' && value.length === 1 && value[0] === '*' ? '*' : value;
  if (typeof value === 'boolean') return value;
  return fromEnv(kind, value);
}
