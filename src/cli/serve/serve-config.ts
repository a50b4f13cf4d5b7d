/**
 * The `serve` configuration: what each key means and how it is checked, in one place.
 * The merged layers (file, environment, flags; see config-sources.ts) come in as plain
 * JSON; a checked ServeConfig comes out, or a ConfigError naming the key. File paths are
 * read here (TLS files, a JWT public key, the static folder), so a missing file is a
 * config error before anything listens.
 *
 * To add a section: add its name to TOP_KEYS, a reader below and a field to ServeConfig;
 * standalone-server.ts (or http-mounts.ts, for a path of its own) puts it to work.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  ConfigError,
  type JsonObject,
  readBoolean,
  readChoice,
  readInteger,
  readObject,
  readString,
  readStringList,
  redactedUrl,
} from './config-reader.js';

/** For the keys that hold credentials: refusals never show their value (config-reader.ts). */
const SECRET = { secret: true } as const;

/** Where a key's value came from: a label for messages, and the folder its relative paths start from. */
export interface ValueSource {
  label: string;
  dir: string;
}

export type SourceOf = (key: string) => ValueSource;

export interface HistoryLimitsConfig {
  maxMessages?: number;
  maxAge?: number;
}

export interface DurableRule extends HistoryLimitsConfig {
  pattern: string;
}

export interface JwtConfig {
  /** Exactly one of secret, publicKey (the PEM text, read from its file), jwksUrl. */
  secret?: string;
  publicKey?: string;
  publicKeyFile?: string;
  jwksUrl?: string;
  issuer?: string[];
  audience?: string[];
  algorithms?: string[];
  clockTolerance?: number;
}

export interface AuthConfig {
  jwt: JwtConfig | undefined;
  anonymous: boolean;
  rooms: { claim: string; public: string[] } | undefined;
}

export interface ApiConfig {
  path: string;
  keys: string[];
  jwt: JwtConfig | undefined;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export interface ServeConfig {
  port: number;
  host: string | undefined;
  path: string;
  tls: { cert: string; key: string; ca?: string; passphrase?: string; files: { cert: string; key: string } } | undefined;
  allowedOrigins: string[] | '*' | undefined;
  trustProxy: boolean | number | string[] | undefined;
  redis: { url: string; prefix: string } | undefined;
  durable: DurableRule[];
  durableUsers: HistoryLimitsConfig | undefined;
  presence: string[];
  auth: AuthConfig | undefined;
  api: ApiConfig | undefined;
  static: string | undefined;
  socketIo: boolean | JsonObject;
  heartbeat: { interval?: number; timeout?: number } | undefined;
  maxMessageBytes: number | undefined;
  /** More Switchboard options (JSON values), checked by the server itself. */
  server: JsonObject;
  log: { format: 'text' | 'json'; level: LogLevel; traceFrames: boolean };
  /** Prometheus metrics (switchboard/metrics) at `path`. */
  metrics: { path: string } | undefined;
  /** The admin dashboard (switchboard/admin) at `path`. */
  admin: { token: string; path: string } | undefined;
}

export const TOP_KEYS = [
  'port', 'host', 'path', 'tls', 'allowedOrigins', 'trustProxy', 'redis', 'durable', 'durableUsers', 'presence',
  'auth', 'api', 'static', 'socketIo', 'heartbeat', 'maxMessageBytes', 'server', 'log', 'metrics', 'admin',
] as const;

/** Server options `serve` sets itself (or from its own keys): not accepted under `server`. */
const MANAGED_SERVER_OPTIONS: Readonly<Record<string, string>> = {
  path: 'path', tls: 'tls', allowedOrigins: 'allowedOrigins', trustProxy: 'trustProxy', adapter: 'redis', streams: 'redis',
  socketIo: 'socketIo', heartbeat: 'heartbeat', maxMessageBytes: 'maxMessageBytes', logger: 'log', traceFrames: 'log.traceFrames',
};

const DEFAULT_PORT = 3000;
const JWT_KEYS = ['secret', 'publicKey', 'jwksUrl', 'issuer', 'audience', 'algorithms', 'clockTolerance'];
const LIMIT_KEYS = ['maxMessages', 'maxAge'];
/** API keys shorter than this are refused: a guessable key opens publishing to everyone. */
export const MIN_API_KEY_LENGTH = 16;
/** The admin token's shortest length: the dashboard's own MIN_TOKEN_LENGTH, checked here so a short one is a config error naming the key. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Check the merged configuration. Throws ConfigError. */
export function resolveServeConfig(raw: JsonObject, sourceOf: SourceOf): ServeConfig {
  readObject('', raw, TOP_KEYS);
  const has = (key: string): boolean => raw[key] !== undefined;
  const path = has('path') ? readPath('path', raw.path) : '/ws';
  const api = has('api') ? readApi(raw.api, sourceOf) : undefined;
  const metrics = readMetrics(raw.metrics);
  const admin = has('admin') ? readAdmin(raw.admin) : undefined;
  checkMounts(path, [
    ...(api ? [{ key: 'api.path', path: api.path }] : []),
    ...(metrics ? [{ key: 'metrics.path', path: metrics.path }] : []),
    ...(admin ? [{ key: 'admin.path', path: admin.path }] : []),
  ]);
  return {
    port: has('port') ? readInteger('port', raw.port, 0, 65535) : DEFAULT_PORT,
    host: has('host') ? readString('host', raw.host) : undefined,
    path,
    tls: has('tls') ? readTls(raw.tls, sourceOf) : undefined,
    allowedOrigins: has('allowedOrigins') ? (raw.allowedOrigins === '*' ? '*' : readStringList('allowedOrigins', raw.allowedOrigins)) : undefined,
    trustProxy: has('trustProxy') ? readTrustProxy(raw.trustProxy) : undefined,
    redis: has('redis') ? readRedis(raw.redis) : undefined,
    durable: has('durable') ? readDurable(raw.durable) : [],
    durableUsers: readDurableUsers(raw.durableUsers),
    presence: has('presence') ? readStringList('presence', raw.presence) : [],
    auth: has('auth') ? readAuth(raw.auth, sourceOf) : undefined,
    api,
    static: has('static') ? readFolder('static', raw.static, sourceOf) : undefined,
    socketIo: has('socketIo') ? readSocketIo(raw.socketIo) : false,
    heartbeat: has('heartbeat') ? readHeartbeat(raw.heartbeat) : undefined,
    maxMessageBytes: has('maxMessageBytes') ? readInteger('maxMessageBytes', raw.maxMessageBytes, 1) : undefined,
    server: has('server') ? readServerOptions(raw.server) : {},
    log: readLog(raw.log),
    metrics,
    admin,
  };
}

/**
 * The paths mounted with `route()` must not overlap the WebSocket path, each other, or the
 * browser client's: a route takes its path and everything below it, and Switchboard's own
 * paths would win over it anyway, so an overlap would silently hide one of them.
 */
function checkMounts(wsPath: string, mounts: { key: string; path: string }[]): void {
  const overlap = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  const taken = [{ key: 'path', path: wsPath, name: 'the WebSocket path "path"' }, { key: '', path: '/switchboard', name: 'the browser client\'s "/switchboard"' }];
  for (const mount of mounts) {
    const other = taken.find((t) => overlap(mount.path, t.path));
    if (other) throw new ConfigError(mount.key, `"${mount.key}" (${mount.path}) must not overlap ${other.name} (${other.path})`);
    taken.push({ ...mount, name: `"${mount.key}"` });
  }
}

function readPath(key: string, value: unknown): string {
  const path = readString(key, value);
  if (!path.startsWith('/') || /[?#]/.test(path) || (path.length > 1 && path.endsWith('/'))) {
    throw new ConfigError(key, `"${key}" must start with "/", not end with one and have no "?" or "#", got ${JSON.stringify(path)}`);
  }
  return path;
}

/** A file path, relative to the folder of where it was given (the config file's folder, or the working directory). */
function filePath(key: string, value: unknown, sourceOf: SourceOf): string {
  const path = readString(key, value);
  return isAbsolute(path) ? path : resolve(sourceOf(key).dir, path);
}

function readText(key: string, value: unknown, sourceOf: SourceOf): { file: string; text: string } {
  const file = filePath(key, value, sourceOf);
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new ConfigError(key, `"${key}": cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

function readFolder(key: string, value: unknown, sourceOf: SourceOf): string {
  const folder = filePath(key, value, sourceOf);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    throw new ConfigError(key, `"${key}": no folder ${folder}`);
  }
  if (!isFolder) throw new ConfigError(key, `"${key}": ${folder} is not a folder`);
  return folder;
}

function readTls(value: unknown, sourceOf: SourceOf): ServeConfig['tls'] {
  const tls = readObject('tls', value, ['cert', 'key', 'ca', 'passphrase']);
  if (tls.cert === undefined || tls.key === undefined) throw new ConfigError('tls', '"tls" needs both "cert" and "key" (paths of PEM files)');
  const cert = readText('tls.cert', tls.cert, sourceOf);
  const key = readText('tls.key', tls.key, sourceOf);
  return {
    cert: cert.text,
    key: key.text,
    ...(tls.ca !== undefined && { ca: readText('tls.ca', tls.ca, sourceOf).text }),
    ...(tls.passphrase !== undefined && { passphrase: readString('tls.passphrase', tls.passphrase, SECRET) }),
    files: { cert: cert.file, key: key.file },
  };
}

function readTrustProxy(value: unknown): boolean | number | string[] {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return readInteger('trustProxy', value, 1);
  return readStringList('trustProxy', value);
}

function readRedis(value: unknown): { url: string; prefix: string } {
  // The URL may carry the password (redis://:password@host): shown redacted, never as given.
  const redis = typeof value === 'string' ? { url: value } : readObject('redis', value, ['url', 'prefix'], SECRET);
  const url = readString('redis.url', redis.url, SECRET);
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(typeof value === 'string' ? 'redis' : 'redis.url', `the Redis URL must start with redis:// or rediss://, got ${JSON.stringify(redactedUrl(url))}`);
  return { url, prefix: redis.prefix === undefined ? 'sb' : readString('redis.prefix', redis.prefix) };
}

function readLimits(key: string, value: JsonObject): HistoryLimitsConfig {
  return {
    ...(value.maxMessages !== undefined && { maxMessages: readInteger(`${key}.maxMessages`, value.maxMessages, 1) }),
    ...(value.maxAge !== undefined && { maxAge: readInteger(`${key}.maxAge`, value.maxAge, 1) }),
  };
}

function readDurable(value: unknown): DurableRule[] {
  if (!Array.isArray(value)) throw new ConfigError('durable', `"durable" must be a list of room patterns (or { "pattern", "maxMessages", "maxAge" }), got ${JSON.stringify(value)}`);
  return value.map((item, i) => {
    const key = `durable[${i}]`;
    if (typeof item === 'string') return { pattern: readString(key, item) };
    const rule = readObject(key, item, ['pattern', ...LIMIT_KEYS]);
    return { pattern: readString(`${key}.pattern`, rule.pattern), ...readLimits(key, rule) };
  });
}

function readDurableUsers(value: unknown): HistoryLimitsConfig | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  return readLimits('durableUsers', readObject('durableUsers', value, LIMIT_KEYS));
}

function readJwt(key: string, value: unknown, sourceOf: SourceOf): JwtConfig {
  // `"jwt": "<the secret>"` (the object left out) must not be echoed either.
  const jwt = readObject(key, value, JWT_KEYS, SECRET);
  const given = ['secret', 'publicKey', 'jwksUrl'].filter((k) => jwt[k] !== undefined);
  if (given.length !== 1) throw new ConfigError(key, `"${key}" needs exactly one of "secret", "publicKey" (a PEM file) and "jwksUrl", got ${given.length === 0 ? 'none' : given.join(' and ')}`);
  const out: JwtConfig = {};
  if (jwt.secret !== undefined) {
    out.secret = readString(`${key}.secret`, jwt.secret, SECRET);
    // An HS256 key shorter than its hash is brute-forceable offline from any token.
    if (out.secret.length < 32) throw new ConfigError(`${key}.secret`, `"${key}.secret" must be at least 32 characters (openssl rand -base64 32)`);
  }
  if (jwt.publicKey !== undefined) {
    const { file, text } = readText(`${key}.publicKey`, jwt.publicKey, sourceOf);
    out.publicKey = text;
    out.publicKeyFile = file;
  }
  if (jwt.jwksUrl !== undefined) {
    out.jwksUrl = readString(`${key}.jwksUrl`, jwt.jwksUrl);
    if (!/^https?:\/\//.test(out.jwksUrl)) throw new ConfigError(`${key}.jwksUrl`, `"${key}.jwksUrl" must be an http(s) URL, got ${JSON.stringify(redactedUrl(out.jwksUrl))}`);
  }
  if (jwt.issuer !== undefined) out.issuer = readStringList(`${key}.issuer`, jwt.issuer);
  if (jwt.audience !== undefined) out.audience = readStringList(`${key}.audience`, jwt.audience);
  if (jwt.algorithms !== undefined) out.algorithms = readStringList(`${key}.algorithms`, jwt.algorithms);
  if (jwt.clockTolerance !== undefined) out.clockTolerance = readInteger(`${key}.clockTolerance`, jwt.clockTolerance, 0);
  return out;
}

function readAuth(value: unknown, sourceOf: SourceOf): AuthConfig {
  const auth = readObject('auth', value, ['jwt', 'anonymous', 'rooms']);
  const jwt = auth.jwt === undefined ? undefined : readJwt('auth.jwt', auth.jwt, sourceOf);
  const anonymous = auth.anonymous === undefined ? jwt === undefined : readBoolean('auth.anonymous', auth.anonymous);
  if (!anonymous && jwt === undefined) throw new ConfigError('auth.anonymous', '"auth.anonymous": false refuses every client unless "auth.jwt" says how tokens are verified');
  let rooms: AuthConfig['rooms'];
  if (auth.rooms !== undefined) {
    const r = readObject('auth.rooms', auth.rooms, ['claim', 'public']);
    rooms = { claim: r.claim === undefined ? 'rooms' : readString('auth.rooms.claim', r.claim), public: r.public === undefined ? [] : readStringList('auth.rooms.public', r.public) };
  }
  return { jwt, anonymous, rooms };
}

function readApi(value: unknown, sourceOf: SourceOf): ApiConfig {
  const api = readObject('api', value, ['path', 'keys', 'jwt'], SECRET);
  const keys = api.keys === undefined ? [] : readStringList('api.keys', api.keys, SECRET);
  const short = keys.findIndex((k) => k.length < MIN_API_KEY_LENGTH);
  if (short !== -1) throw new ConfigError('api.keys', `"api.keys": key ${short + 1} is shorter than ${MIN_API_KEY_LENGTH} characters (make one with: openssl rand -base64 32)`);
  const jwt = api.jwt === undefined ? undefined : readJwt('api.jwt', api.jwt, sourceOf);
  if (keys.length === 0 && jwt === undefined) throw new ConfigError('api', '"api" needs credentials: "keys" (API keys, or SWITCHBOARD_API_KEYS), "jwt", or both');
  return { path: api.path === undefined ? '/api/switchboard' : readPath('api.path', api.path), keys, jwt };
}

function readSocketIo(value: unknown): boolean | JsonObject {
  if (typeof value === 'boolean') return value;
  // Its fields are checked by the server (SocketIoOptions), which names an unknown one.
  return readObject('socketIo', value, ['path', 'transports', 'pingInterval', 'pingTimeout', 'maxPayload', 'upgradeTimeout', 'maxAttachments', 'recovery']);
}

function readHeartbeat(value: unknown): { interval?: number; timeout?: number } {
  const h = readObject('heartbeat', value, ['interval', 'timeout']);
  return {
    ...(h.interval !== undefined && { interval: readInteger('heartbeat.interval', h.interval, 1) }),
    ...(h.timeout !== undefined && { timeout: readInteger('heartbeat.timeout', h.timeout, 1) }),
  };
}

function readServerOptions(value: unknown): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('server', `"server" must be an object of Switchboard options, got ${JSON.stringify(value)}`);
  for (const name of Object.keys(value)) {
    const own = MANAGED_SERVER_OPTIONS[name];
    if (own !== undefined) throw new ConfigError(`server.${name}`, `"server.${name}": use the top-level key "${own}" instead`);
  }
  return value as JsonObject;
}

function readLog(value: unknown): ServeConfig['log'] {
  const log = value === undefined ? {} : readObject('log', value, ['format', 'level', 'traceFrames']);
  const traceFrames = log.traceFrames === undefined ? false : readBoolean('log.traceFrames', log.traceFrames);
  // Frames are written at debug: tracing them below that level would write nothing.
  const level = log.level === undefined ? (traceFrames ? 'debug' : 'info') : readChoice('log.level', log.level, LOG_LEVELS);
  if (traceFrames && level !== 'debug') throw new ConfigError('log.traceFrames', `"log.traceFrames" writes frames at level "debug", but "log.level" is "${level}": set it to "debug" (or leave it unset)`);
  return {
    format: log.format === undefined ? 'text' : readChoice('log.format', log.format, ['text', 'json'] as const),
    level,
    traceFrames,
  };
}

function readMetrics(value: unknown): ServeConfig['metrics'] {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { path: '/metrics' };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('metrics', `"metrics" must be true, false or { "path": "/metrics" }, got ${JSON.stringify(value)}`);
  const metrics = readObject('metrics', value, ['path']);
  return { path: metrics.path === undefined ? '/metrics' : readPath('metrics.path', metrics.path) };
}

function readAdmin(value: unknown): ServeConfig['admin'] {
  const admin = readObject('admin', value, ['token', 'path'], SECRET);
  if (admin.token === undefined) throw new ConfigError('admin.token', '"admin" needs a token: set SWITCHBOARD_ADMIN_TOKEN (make one with: openssl rand -base64 32)');
  const token = readString('admin.token', admin.token, SECRET);
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) throw new ConfigError('admin.token', `"admin.token" is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters (make one with: openssl rand -base64 32)`);
  return { token, path: admin.path === undefined ? '/admin' : readPath('admin.path', admin.path) };
}
