/**
 * `switchboard serve` through the real binary: a config file in a temp dir, the HTTP API
 * publishing to native clients authenticated by JWTs signed with jose, durable history,
 * the static folder, config errors (exit 2), overrides by environment and flags, and a
 * graceful SIGTERM (exit 0).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { nextEvent, ServeDir, ServeProcess } from '../fixtures/serve-process.js';

const SECRET = 'serve-test-secret-0123456789-abcdefghij';
const API_KEY = 'serve-test-api-key-0123456789';

function jwt(sub: string, options: { secret?: string; expiresIn?: string | number; claims?: Record<string, unknown> } = {}): Promise<string> {
  return new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

/** A connected native client, or the error it was refused with. */
async function client(url: string, token: string | undefined): Promise<SwitchboardClient> {
  const c = connect(url, { reconnect: false, ...(token !== undefined && { auth: { token } }) });
  await new Promise<void>((resolve, reject) => {
    c.on('connect', () => resolve());
    c.on('connect_error', (err) => reject(err));
  });
  return c;
}

async function refusal(url: string, token: string | undefined): Promise<{ code: string; message: string }> {
  const c = connect(url, { reconnect: false, ...(token !== undefined && { auth: { token } }) });
  try {
    const [err] = (await nextEvent(c, 'connect_error')) as [{ code: string; message: string }];
    return err;
  } finally {
    c.close();
  }
}

async function publish(base: string, body: unknown, key = API_KEY): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/switchboard/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A GET with the path sent as written (fetch would normalize `..` away). */
function rawGet(origin: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode as number, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('switchboard serve: a configured server', () => {
  const dir = new ServeDir();
  let serve: ServeProcess;
  const clients: SwitchboardClient[] = [];

  before(async () => {
    dir.write('public/index.html', '<!doctype html><title>served</title>');
    dir.write('public/app.js', 'export const x = 1;');
    dir.write('public/.env', 'SECRET=1');
    dir.write('outside.txt', 'not for the web');
    dir.config({
      port: 0,
      host: '127.0.0.1',
      static: './public',
      durable: [{ pattern: 'chat:*', maxMessages: 100 }],
      durableUsers: true,
      auth: { jwt: { secret: SECRET }, anonymous: false },
      api: { keys: [API_KEY] },
    });
    serve = await ServeProcess.start(['--config', 'switchboard.json'], { cwd: dir.path });
  });

  after(async () => {
    for (const c of clients) c.close();
    if (serve) await serve.stop();
    dir.remove();
  });

  test('the printed URL carries the real port (port 0 in the file)', () => {
    const url = new URL(serve.wsUrl);
    assert.equal(url.protocol, 'ws:');
    assert.equal(url.pathname, '/ws');
    assert.ok(Number(url.port) > 0, serve.stdout);
    assert.match(serve.stdout, /HTTP API on http:\/\/127\.0\.0\.1:\d+\/api\/switchboard \(1 API key\)/);
    assert.match(serve.stdout, /static folder .*public on http:\/\/127\.0\.0\.1:\d+\//);
  });

  test('the HTTP API publishes to a room: a client with a valid JWT that joined it receives the event', async () => {
    const c = await client(serve.wsUrl, await jwt('ada'));
    clients.push(c);
    assert.equal(c.user, 'ada');
    await c.join('news');
    const received = nextEvent(c, 'headline');
    const answer = await publish(serve.httpOrigin, { room: 'news', event: 'headline', data: { title: 'hello' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual((await received)[0], { title: 'hello' });
  });

  test('toUser through the API reaches the connection whose JWT has that sub, and not another user', async () => {
    const bob = await client(serve.wsUrl, await jwt('bob'));
    const eve = await client(serve.wsUrl, await jwt('eve'));
    clients.push(bob, eve);
    const seenByEve: unknown[] = [];
    eve.on('notice', (data) => seenByEve.push(data));
    const received = nextEvent(bob, 'notice');
    const answer = await publish(serve.httpOrigin, { user: 'bob', event: 'notice', data: { id: 1 } });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.ok(answer.json.position, 'durableUsers: a publication to a user has a position');
    assert.deepEqual((await received)[0], { id: 1 });
    // A user room other than one's own is refused before anything is read.
    await assert.rejects(eve.join('#user:bob'), { code: 'forbidden' });
    assert.deepEqual(seenByEve, []);
  });

  test('a durable room keeps its history: publications through the API are read back in order by a client', async () => {
    const first = await publish(serve.httpOrigin, { room: 'chat:lobby', event: 'said', data: 'one' });
    const second = await publish(serve.httpOrigin, { room: 'chat:lobby', event: 'said', data: 'two' });
    assert.equal(first.status, 200);
    assert.deepEqual((second.json.position as { offset: number }).offset, (first.json.position as { offset: number }).offset + 1);
    const c = await client(serve.wsUrl, await jwt('carol'));
    clients.push(c);
    const history = await c.history('chat:lobby');
    assert.deepEqual(history.publications.map((p) => p.data), ['one', 'two']);
    // A room no pattern matches is not durable.
    await assert.rejects(c.history('other'), { code: 'not_durable' });
  });

  test('a JWT signed with another key, an expired one, or none is refused with unauthorized', async () => {
    const wrongKey = await refusal(serve.wsUrl, await jwt('mallory', { secret: 'another-secret-of-at-least-32-characters' }));
    assert.equal(wrongKey.code, 'unauthorized');
    const expired = await refusal(serve.wsUrl, await jwt('ada', { expiresIn: Math.floor(Date.now() / 1000) - 60 }));
    assert.equal(expired.code, 'unauthorized');
    assert.match(expired.message, /expired/);
    const none = await refusal(serve.wsUrl, undefined);
    assert.equal(none.code, 'unauthorized');
    assert.match(none.message, /auth: \{ token \}/);
  });

  test('the API refuses a wrong key with 401', async () => {
    const answer = await publish(serve.httpOrigin, { room: 'news', event: 'x', data: 1 }, 'not-the-key-0123456789');
    assert.equal(answer.status, 401);
    assert.equal(answer.json.code, 'unauthorized');
  });

  test('the static folder: index.html at /, content types, 404, and nothing outside it', async () => {
    const index = await rawGet(serve.httpOrigin, '/');
    assert.equal(index.status, 200);
    assert.equal(index.type, 'text/html; charset=utf-8');
    assert.match(index.body, /<title>served<\/title>/);
    const js = await rawGet(serve.httpOrigin, '/app.js?v=1');
    assert.equal(js.status, 200);
    assert.equal(js.type, 'text/javascript; charset=utf-8');
    assert.equal((await rawGet(serve.httpOrigin, '/missing.html')).status, 404);
    for (const path of ['/../outside.txt', '/%2e%2e/outside.txt', '/..%2foutside.txt', '/.env', '/public/../../outside.txt']) {
      const answer = await rawGet(serve.httpOrigin, path);
      assert.ok(answer.status === 400 || answer.status === 404, `${path}: ${answer.status}`);
      assert.doesNotMatch(answer.body, /not for the web|SECRET/, path);
    }
    // Switchboard's own paths still answer in front of the folder.
    const poll = await rawGet(serve.httpOrigin, '/ws/poll');
    assert.notEqual(poll.status, 404);
    assert.equal(poll.type, 'application/json; charset=utf-8', poll.body);
    assert.equal((await rawGet(serve.httpOrigin, '/ws')).status, 426);
  });

  test('SIGTERM closes the server gracefully: clients get 1001, the process exits 0', async () => {
    const c = await client(serve.wsUrl, await jwt('dan'));
    clients.push(c);
    const closed = nextEvent(c, 'disconnect');
    const run = await serve.stop();
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /shutting down[\s\S]*closed/);
    const [reason, details] = (await closed) as [string, { closeCode?: number }];
    assert.equal(reason, 'server_shutdown');
    assert.equal(details.closeCode, 1001);
  });
});

describe('switchboard serve: configuration errors and overrides', () => {
  const dir = new ServeDir();
  const started: ServeProcess[] = [];
  after(async () => {
    for (const serve of started) await serve.stop();
    dir.remove();
  });

  test('an unknown key: exit 2, naming the file and the key, before listening', async () => {
    dir.config({ port: 0, prot: 3000 }, 'typo.json');
    const run = await ServeProcess.spawn(['-c', 'typo.json'], { cwd: dir.path }).exited;
    assert.equal(run.code, 2);
    assert.equal(run.stderr, 'switchboard serve: typo.json: unknown key "prot" (did you mean "port"?)\n');
    assert.doesNotMatch(run.stdout, /listening/);
  });

  test('an unknown nested key and a bad port: exit 2 with the key', async () => {
    dir.config({ auth: { jwt: { secret: SECRET, issuers: ['x'] } } }, 'nested.json');
    const nested = await ServeProcess.spawn(['-c', 'nested.json'], { cwd: dir.path }).exited;
    assert.equal(nested.code, 2);
    assert.match(nested.stderr, /nested\.json: unknown key "auth\.jwt\.issuers" \(did you mean "auth\.jwt\.issuer"\?\)/);
    dir.config({ port: 70000 }, 'port.json');
    const port = await ServeProcess.spawn(['-c', 'port.json'], { cwd: dir.path }).exited;
    assert.equal(port.code, 2);
    assert.equal(port.stderr, 'switchboard serve: port.json: "port" must be an integer from 0 to 65535, got 70000\n');
  });

  test('invalid JSON is refused with its line and column', async () => {
    dir.config('{\n  "port": 0,\n  // a comment\n}', 'comment.json');
    const run = await ServeProcess.spawn(['-c', 'comment.json'], { cwd: dir.path }).exited;
    assert.equal(run.code, 2);
    assert.match(run.stderr, /comment\.json: not valid JSON at line 3 column 3: .*\(comments are not allowed\)/);
  });

  test('a bad value from the environment names the variable; a flag names the flag; an unknown flag is usage', async () => {
    const env = await ServeProcess.spawn([], { cwd: dir.path, env: { SWITCHBOARD_PORT: 'eighty' } }).exited;
    assert.equal(env.code, 2);
    assert.equal(env.stderr, 'switchboard serve: environment variable SWITCHBOARD_PORT: "port" must be an integer from 0 to 65535, got "eighty"\n');
    const flag = await ServeProcess.spawn(['--static', 'no-such-folder'], { cwd: dir.path }).exited;
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^switchboard serve: --static: "static": no folder .*no-such-folder\n$/);
    const unknown = await ServeProcess.spawn(['--prot', '1'], { cwd: dir.path }).exited;
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--prot'/);
  });

  test('the environment overrides the file, and a flag overrides the environment', async () => {
    // The file's port is invalid: the server only starts if the override wins.
    dir.config({ port: -1, host: '127.0.0.1', log: { format: 'json' } }, 'override.json');
    const byEnv = await ServeProcess.start(['-c', 'override.json'], { cwd: dir.path, env: { PORT: '0' } });
    started.push(byEnv);
    const line = JSON.parse(byEnv.stdout.trim().split('\n').at(-1) as string) as { level: string; msg: string; url: string; port: number };
    assert.equal(line.level, 'info');
    assert.equal(line.url, `ws://127.0.0.1:${line.port}/ws`);
    assert.equal((await byEnv.stop()).code, 0);

    const byFlag = await ServeProcess.start(['-c', 'override.json', '--port', '0', '--path', '/live'], { cwd: dir.path, env: { SWITCHBOARD_PORT: 'eighty', SWITCHBOARD_PATH: '/ignored' } });
    started.push(byFlag);
    assert.match(byFlag.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+\/live$/);
    const c = await client(byFlag.wsUrl, undefined); // no auth section: anonymous clients are admitted
    assert.equal(c.user, undefined);
    c.close();
    assert.equal((await byFlag.stop()).code, 0);
  });
});
