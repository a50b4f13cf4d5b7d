/**
 * `switchboard serve` for operators, through the real binary: its log is the server's
 * (a refused origin logged once, as a JSON line with its code), Prometheus metrics, the
 * admin dashboard (served when configured, 404 when not), frame tracing, TLS with a
 * self-signed certificate (its 426 on the WebSocket path names wss://), and a missing prom-client (exit 2 naming the install command).
 */
import assert from 'node:assert/strict';
import { get as httpsGet } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import type { WebSocketConstructor } from '../../src/client/index.js';
import { nextEvent, ServeDir, ServeProcess } from '../fixtures/serve-process.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { attemptUpgrade, closeAll, type UpgradeOutcome } from '../helpers/upgrade-attempt.js';

const SECRET = 'serve-ops-test-secret-0123456789-abcdef';
const ADMIN_TOKEN = 'serve-ops-admin-token-0123456789';

function jwt(sub: string): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
}

async function connected(client: SwitchboardClient): Promise<SwitchboardClient> {
  await new Promise<void>((resolve, reject) => {
    client.on('connect', () => resolve());
    client.on('connect_error', (err) => reject(err));
  });
  return client;
}

/** The JSON lines of a serve process's stdout. */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('switchboard serve: logs, metrics and the admin dashboard', () => {
  const dir = new ServeDir();
  let serve: ServeProcess;
  const clients: SwitchboardClient[] = [];
  const upgrades: UpgradeOutcome[] = [];

  before(async () => {
    dir.config({
      port: 0,
      host: '127.0.0.1',
      allowedOrigins: ['https://app.example'],
      auth: { jwt: { secret: SECRET }, anonymous: false },
      metrics: true,
      log: { format: 'json' },
    });
    // The admin token comes from the environment only: the file has no "admin" key.
    serve = await ServeProcess.start(['-c', 'switchboard.json'], { cwd: dir.path, env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN } });
  });

  after(async () => {
    for (const c of clients) c.close();
    closeAll(upgrades);
    if (serve) await serve.stop();
    dir.remove();
  });

  test('the startup lines name the metrics and admin URLs', () => {
    const urls = jsonLines(serve.stdout).map((line) => line.url);
    assert.ok(urls.some((url) => typeof url === 'string' && /^http:\/\/127\.0\.0\.1:\d+\/metrics$/.test(url)), serve.stdout);
    assert.ok(urls.some((url) => typeof url === 'string' && /^http:\/\/127\.0\.0\.1:\d+\/admin$/.test(url)), serve.stdout);
  });

  test('a refused origin is logged once, by the server, as a JSON line with its code', async () => {
    const outcome = await attemptUpgrade(serve.wsUrl, { origin: 'https://evil.example' });
    upgrades.push(outcome);
    await serve.waitFor(/origin_not_allowed/, 10_000);
    // A request answered after the refusal: anything logged with it is in the output by now.
    assert.equal((await fetch(`${serve.httpOrigin}/metrics`)).status, 200);
    const output = serve.stdout + serve.stderr;
    assert.equal(output.split('origin_not_allowed').length - 1, 1, output);
    const line = jsonLines(serve.stdout).find((l) => l.code === 'origin_not_allowed');
    assert.equal(line?.level, 'warn');
    assert.equal(line?.msg, 'refused');
    assert.equal(line?.origin, 'https://evil.example');
    assert.equal(line?.address, '127.0.0.1');
  });

  test('/metrics counts a connected client: switchboard_connections{transport="websocket"} 1', async () => {
    clients.push(await connected(connect(serve.wsUrl, { reconnect: false, auth: { token: await jwt('ada') } })));
    const res = await fetch(`${serve.httpOrigin}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^switchboard_connections\{node="[^"]+",transport="websocket"\} 1$/m, text);
    assert.match(text, /^switchboard_refusals_total\{node="[^"]+",code="origin_not_allowed"\} 1$/m);
  });

  test('the admin page is served (200, text/html), and the token from SWITCHBOARD_ADMIN_TOKEN opens its namespace past the JWT check', async () => {
    const page = await fetch(`${serve.httpOrigin}/admin`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    await page.text();
    // The page connects to the server's WebSocket path with the token, as this client does.
    const admin = await connected(connect(serve.wsUrl, { reconnect: false, namespace: '/admin', auth: { token: ADMIN_TOKEN } }));
    clients.push(admin);
    const [snapshot] = (await nextEvent(admin, 'snapshot')) as [{ nodes: unknown[] }];
    assert.equal(snapshot.nodes.length, 1);
    const intruder = connect(serve.wsUrl, { reconnect: false, namespace: '/admin', auth: { token: 'not-the-admin-token-at-all' } });
    clients.push(intruder);
    const [err] = (await nextEvent(intruder, 'connect_error')) as [{ code: string }];
    assert.equal(err.code, 'unauthorized');
  });
});

describe('switchboard serve: TLS, frame tracing, no admin', () => {
  const dir = new ServeDir();
  let serve: ServeProcess;
  let ca: string;

  before(async () => {
    const pem = selfSignedCertificate();
    ca = pem.cert;
    dir.write('tls/cert.pem', pem.cert);
    dir.write('tls/key.pem', pem.key);
    dir.config({ port: 0, host: '127.0.0.1', tls: { cert: './tls/cert.pem', key: './tls/key.pem' } });
    serve = await ServeProcess.start(['-c', 'switchboard.json', '--trace-frames'], { cwd: dir.path });
  });

  after(async () => {
    if (serve) await serve.stop();
    dir.remove();
  });

  test('the printed URL is wss://, and a client trusting the test certificate connects and is traced', async () => {
    assert.match(serve.wsUrl, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
    const trusting: WebSocketConstructor = class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { ca });
      }
    };
    const client = await connected(connect(serve.wsUrl, { reconnect: false, WebSocket: trusting, auth: { token: 'a-token-to-be-redacted' } }));
    try {
      await client.join('lobby');
      // --trace-frames: the level is debug, and each frame is a line (text format) with the token redacted.
      await serve.waitFor(/frame .*"type":"hello"/, 10_000);
      assert.doesNotMatch(serve.stdout + serve.stderr, /a-token-to-be-redacted/);
      assert.match(serve.stdout, /\[redacted\]/);
    } finally {
      client.close();
    }
  });

  test('without "admin" its path is not served: 404', async () => {
    const { hostname, port } = new URL(serve.httpOrigin);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpsGet({ host: hostname, port, path: '/admin', ca }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    assert.equal(status, 404);
  });

  test('a plain GET of the WebSocket path gets Switchboard\'s 426, naming wss://', async () => {
    const { hostname, port } = new URL(serve.httpOrigin);
    const answer = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      httpsGet({ host: hostname, port, path: '/ws', ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      }).on('error', reject);
    });
    assert.equal(answer.status, 426);
    assert.match(answer.body, /^This is a WebSocket endpoint \(subprotocol switchboard\.v1\): connect with wss:\/\/host\/ws,/);
  });
});

describe('switchboard serve: metrics without prom-client', () => {
  const dir = new ServeDir();
  after(() => dir.remove());

  test('exit 2 before listening, naming npm install prom-client', async () => {
    const hook = new URL('../fixtures/serve-without-prom-client.mjs', import.meta.url).href;
    const run = await ServeProcess.spawn(['--port', '0', '--metrics'], { cwd: dir.path, nodeArgs: ['--import', hook] }).exited;
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, 'switchboard serve: --metrics: "metrics" needs the prom-client package (an optional peer dependency): npm install prom-client\n');
    assert.doesNotMatch(run.stdout, /listening/);
  });
});
