/** The `serve` configuration without a server: layers and their precedence, checks, room patterns, static paths. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../../src/cli/serve/config-reader.js';
import { loadConfigLayers } from '../../src/cli/serve/config-sources.js';
import { UsageError } from '../../src/cli/usage.js';
import { matchesAny, roomPattern } from '../../src/cli/serve/room-patterns.js';
import { resolveServeConfig, type ServeConfig } from '../../src/cli/serve/serve-config.js';
import { contentTypeOf, safeSegments } from '../../src/cli/serve/static-files.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-serve-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(args: string[], env: Record<string, string> = {}, file?: unknown): { config: ServeConfig; label: (key: string) => string } {
  const argv = [...args];
  if (file !== undefined) {
    writeFileSync(join(dir, 'c.json'), JSON.stringify(file));
    argv.push('--config', join(dir, 'c.json'));
  }
  const layers = loadConfigLayers(argv, env, dir);
  return { config: resolveServeConfig(layers.raw, layers.sourceOf), label: (key) => layers.sourceOf(key).label };
}

function refusal(args: string[], env: Record<string, string>, file: unknown): { key: string; message: string; label: string } {
  writeFileSync(join(dir, 'c.json'), JSON.stringify(file));
  const layers = loadConfigLayers([...args, '--config', join(dir, 'c.json')], env, dir);
  try {
    resolveServeConfig(layers.raw, layers.sourceOf);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return { key: err.key, message: err.message, label: layers.sourceOf(err.key).label };
  }
  assert.fail('no ConfigError');
}

describe('serve config layers', () => {
  test('defaults with nothing given', () => {
    const { config } = load([]);
    assert.equal(config.port, 3000);
    assert.equal(config.path, '/ws');
    assert.equal(config.auth, undefined);
    assert.equal(config.api, undefined);
    assert.deepEqual(config.log, { format: 'text', level: 'info', traceFrames: false });
    assert.equal(config.metrics, undefined);
    assert.equal(config.admin, undefined);
  });

  test('flags over SWITCHBOARD_PORT over PORT over the file; lists replace the file\'s', () => {
    const file = { port: 1000, durable: ['a:*'], allowedOrigins: ['https://a.example'] };
    assert.equal(load([], {}, file).config.port, 1000);
    assert.equal(load([], { PORT: '2000' }, file).config.port, 2000);
    assert.equal(load([], { PORT: '2000', SWITCHBOARD_PORT: '3000' }, file).config.port, 3000);
    const { config, label } = load(['--port', '4000', '--durable', 'b:*', '--durable', 'c:*'], { SWITCHBOARD_PORT: '3000', SWITCHBOARD_ALLOWED_ORIGINS: 'https://b.example, https://c.example' }, file);
    assert.equal(config.port, 4000);
    assert.equal(label('port'), '--port');
    assert.deepEqual(config.durable, [{ pattern: 'b:*' }, { pattern: 'c:*' }]);
    assert.deepEqual(config.allowedOrigins, ['https://b.example', 'https://c.example']);
    assert.equal(label('allowedOrigins'), 'environment variable SWITCHBOARD_ALLOWED_ORIGINS');
  });

  test('secrets come from the environment into the file\'s shape', () => {
    const { config } = load([], { SWITCHBOARD_JWT_SECRET: 'x'.repeat(32), SWITCHBOARD_API_KEYS: 'k'.repeat(16) + ',' + 'l'.repeat(20), SWITCHBOARD_REDIS_URL: 'redis://r:6379' }, { redis: 'redis://file:6379' });
    assert.equal(config.auth?.jwt?.secret, 'x'.repeat(32));
    assert.equal(config.auth?.anonymous, false);
    assert.deepEqual(config.api?.keys, ['k'.repeat(16), 'l'.repeat(20)]);
    assert.equal(config.api?.path, '/api/switchboard');
    assert.deepEqual(config.redis, { url: 'redis://r:6379', prefix: 'sb' });
  });

  test('paths in the file are relative to its folder', () => {
    const { config } = load([], {}, { static: '.' });
    assert.equal(config.static, dir);
  });

  test('bad values are refused by key, blamed on where they came from', () => {
    assert.deepEqual(refusal([], {}, { heartbeat: { interval: 0 } }), { key: 'heartbeat.interval', message: '"heartbeat.interval" must be an integer of at least 1, got 0', label: join(dir, 'c.json') });
    assert.equal(refusal([], { SWITCHBOARD_API_KEYS: 'short' }, {}).label, 'environment variable SWITCHBOARD_API_KEYS');
    assert.match(refusal([], {}, { auth: { jwt: { secret: 'x'.repeat(32), jwksUrl: 'https://a/jwks' } } }).message, /exactly one of "secret", "publicKey" \(a PEM file\) and "jwksUrl", got secret and jwksUrl/);
    assert.match(refusal([], {}, { auth: { jwt: { secret: 'short' } } }).message, /at least 32 characters/);
    assert.match(refusal([], {}, { auth: { anonymous: false } }).message, /needs? .*auth\.jwt|unless "auth\.jwt"/);
    assert.match(refusal([], {}, { api: {} }).message, /"api" needs credentials/);
    assert.match(refusal([], {}, { api: { keys: ['k'.repeat(16)], path: '/ws/api' } }).message, /must not overlap/);
    assert.deepEqual(refusal([], {}, { server: { adapter: {} } }).key, 'server.adapter');
    assert.match(refusal([], {}, { tls: { cert: 'nope.pem', key: 'nope.pem' } }).message, /"tls\.cert": cannot read .*nope\.pem: ENOENT/);
    assert.match(refusal([], {}, { log: { format: 'xml' } }).message, /"log\.format" must be one of "text", "json", got "xml"/);
  });

  test('metrics: true, a path, --metrics keeps the file\'s path, SWITCHBOARD_METRICS=false turns it off', () => {
    assert.deepEqual(load([], {}, { metrics: true }).config.metrics, { path: '/metrics' });
    assert.deepEqual(load(['--metrics'], {}, {}).config.metrics, { path: '/metrics' });
    assert.deepEqual(load(['--metrics'], {}, { metrics: { path: '/prom' } }).config.metrics, { path: '/prom' });
    assert.equal(load([], { SWITCHBOARD_METRICS: 'false' }, { metrics: { path: '/prom' } }).config.metrics, undefined);
    assert.equal(refusal([], {}, { metrics: 'yes' }).key, 'metrics');
    assert.deepEqual(refusal([], {}, { metrics: { path: '/ws/metrics' } }), { key: 'metrics.path', message: '"metrics.path" (/ws/metrics) must not overlap the WebSocket path "path" (/ws)', label: join(dir, 'c.json') });
  });

  test('admin: the token from SWITCHBOARD_ADMIN_TOKEN turns it on; no token, a short one, or an overlapping path is refused', () => {
    const token = 't'.repeat(16);
    assert.deepEqual(load([], { SWITCHBOARD_ADMIN_TOKEN: token }).config.admin, { token, path: '/admin' });
    assert.deepEqual(load([], { SWITCHBOARD_ADMIN_TOKEN: token }, { admin: { path: '/ops' } }).config.admin, { token, path: '/ops' });
    assert.match(refusal([], {}, { admin: { path: '/ops' } }).message, /"admin" needs a token: set SWITCHBOARD_ADMIN_TOKEN/);
    assert.deepEqual(refusal([], { SWITCHBOARD_ADMIN_TOKEN: 'short' }, {}), { key: 'admin.token', message: '"admin.token" is shorter than 16 characters (make one with: openssl rand -base64 32)', label: 'environment variable SWITCHBOARD_ADMIN_TOKEN' });
    assert.match(refusal([], { SWITCHBOARD_ADMIN_TOKEN: token }, { metrics: true, admin: { path: '/metrics' } }).message, /"admin\.path" \(\/metrics\) must not overlap "metrics\.path"/);
    assert.throws(() => loadConfigLayers(['--admin-token', token], {}, dir), UsageError);
  });

  test('log.traceFrames: on by flag or variable, the level becomes debug; another level is refused', () => {
    assert.deepEqual(load(['--trace-frames']).config.log, { format: 'text', level: 'debug', traceFrames: true });
    assert.equal(load([], { SWITCHBOARD_TRACE_FRAMES: 'true' }).config.log.traceFrames, true);
    assert.deepEqual(refusal(['--trace-frames'], {}, { log: { level: 'info' } }).key, 'log.traceFrames');
    assert.equal(refusal([], {}, { server: { traceFrames: true } }).key, 'server.traceFrames');
  });

  test('an unknown flag is a usage error', () => {
    assert.throws(() => loadConfigLayers(['--jwt-secret', 'x'], {}, dir), UsageError);
  });

  test('a malformed Redis URL is refused with its credentials redacted, never as given', () => {
    const env = refusal([], { SWITCHBOARD_REDIS_URL: 'http://default:S3CR3T-pass@cache.internal:6379/0' }, {});
    assert.deepEqual(env, {
      key: 'redis.url',
      message: 'the Redis URL must start with redis:// or rediss://, got "http://***@cache.internal:6379/0"',
      label: 'environment variable SWITCHBOARD_REDIS_URL',
    });
    // An unencoded "@" in the password, no "//", a password in the query: none of it shows.
    assert.equal(refusal([], {}, { redis: 'redis:/:S3CR3T@pa@ss@cache:6379' }).message, 'the Redis URL must start with redis:// or rediss://, got "***@cache:6379"');
    assert.equal(refusal([], {}, { redis: { url: 'cache:6379?password=S3CR3T' } }).message, 'the Redis URL must start with redis:// or rediss://, got "cache:6379?***"');
    assert.match(refusal([], {}, { redis: { url: ['redis://:S3CR3T@cache'] } }).message, /^"redis\.url" must be a non-empty string, got a list of 1 item \(not shown: a secret\)$/);
  });

  test('no refusal shows the value of a secret: JWT secrets, API keys, the admin token, the TLS passphrase', () => {
    const key = 'k'.repeat(16);
    // The TLS files only need to be readable for the passphrase to be read.
    writeFileSync(join(dir, 'cert.pem'), 'cert');
    writeFileSync(join(dir, 'key.pem'), 'key');
    const cases: { file: unknown; env?: Record<string, string>; key: string; got: RegExp }[] = [
      { file: { auth: { jwt: 'S3CR3T-0123456789-0123456789-0123456789' } }, key: 'auth.jwt', got: /got a string of 39 characters \(not shown: a secret\)$/ },
      { file: { auth: { jwt: { secret: 12345678901234567890 } } }, key: 'auth.jwt.secret', got: /got a number \(not shown: a secret\)$/ },
      { file: { api: { keys: [key], jwt: { secret: ['S3CR3T'] } } }, key: 'api.jwt.secret', got: /got a list of 1 item \(not shown: a secret\)$/ },
      { file: { api: { keys: [`${key}S3CR3T`, ''] } }, key: 'api.keys', got: /got a list of 2 items \(not shown: a secret\)$/ },
      { file: { api: `${key}S3CR3T` }, key: 'api', got: /got a string of 22 characters \(not shown: a secret\)$/ },
      { file: { admin: `${key}S3CR3T` }, key: 'admin', got: /got a string of 22 characters \(not shown: a secret\)$/ },
      { file: { admin: { token: 1234567890123456 } }, key: 'admin.token', got: /got a number \(not shown: a secret\)$/ },
      { file: { tls: { cert: './cert.pem', key: './key.pem', passphrase: { S3CR3T: 1 } } }, key: 'tls.passphrase', got: /got an object \(not shown: a secret\)$/ },
      { file: { auth: { jwt: { jwksUrl: 'ftp://user:S3CR3T@idp.example/jwks?token=S3CR3T' } } }, key: 'auth.jwt.jwksUrl', got: /got "ftp:\/\/\*\*\*@idp\.example\/jwks\?\*\*\*"$/ },
    ];
    for (const c of cases) {
      const refused = refusal([], c.env ?? {}, c.file);
      assert.equal(refused.key, c.key, refused.message);
      assert.match(refused.message, c.got);
      assert.doesNotMatch(refused.message, /S3CR3T|12345678901234/, `${c.key}: ${refused.message}`);
    }
    // Values that are not secrets are still shown, to help.
    assert.match(refusal([], {}, { auth: { anonymous: 'no' } }).message, /got "no"$/);
    assert.match(refusal([], {}, { admin: true }).message, /got true$/);
  });
});

describe('room patterns', () => {
  test('* is any run of characters, everything else literal', () => {
    assert.equal(roomPattern('chat:*')('chat:1'), true);
    assert.equal(roomPattern('chat:*')('chat:'), true);
    assert.equal(roomPattern('chat:*')('chats'), false);
    assert.equal(roomPattern('a.b')('axb'), false);
    assert.equal(roomPattern('team:*:chat')('team:7:chat'), true);
    assert.equal(roomPattern('lobby')('lobby2'), false);
    assert.equal(matchesAny(['x', 'y:*'], 'y:1'), true);
    assert.equal(matchesAny([], 'y:1'), false);
  });
});

describe('static paths', () => {
  test('segments that leave the root or hide something are refused', () => {
    assert.deepEqual(safeSegments('/a/b.html'), ['a', 'b.html']);
    assert.deepEqual(safeSegments('/'), []);
    for (const bad of ['/../x', '/a/%2e%2e/x', '/a%2fb', '/a%5cb', '/.git/config', '/%00', '/%E0%A4%A']) assert.equal(safeSegments(bad), undefined, bad);
  });

  test('content types by extension, octet-stream otherwise', () => {
    assert.equal(contentTypeOf('a.HTML'), 'text/html; charset=utf-8');
    assert.equal(contentTypeOf('a.mjs'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('a.unknown'), 'application/octet-stream');
  });
});

describe('examples/serve/switchboard.json', () => {
  test('is a valid configuration once the secrets come from the environment', () => {
    const example = new URL('../../examples/serve/switchboard.json', import.meta.url).pathname;
    const layers = loadConfigLayers(['--config', example], { SWITCHBOARD_JWT_SECRET: 's'.repeat(32), SWITCHBOARD_API_KEYS: 'k'.repeat(32) }, dir);
    const config = resolveServeConfig(layers.raw, layers.sourceOf);
    assert.equal(config.static, new URL('../../examples/serve/public', import.meta.url).pathname);
    assert.deepEqual(config.auth?.rooms, { claim: 'rooms', public: ['lobby'] });
    assert.deepEqual(config.metrics, { path: '/metrics' });
    // Without them it says what is missing.
    const bare = loadConfigLayers(['--config', example], {}, dir);
    assert.throws(() => resolveServeConfig(bare.raw, bare.sourceOf), { name: 'ConfigError', message: /"api" needs credentials/ });
  });
});
