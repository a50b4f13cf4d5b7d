/**
 * `switchboard doctor URL` against a real Switchboard reached directly (no proxy): a healthy
 * endpoint, the URL mistakes (http://, no path, a wrong path), a refused page origin, a
 * self-signed certificate, a closed port and an unknown host. Each asserts the step that
 * speaks and its diagnosis. The proxy mistakes are in cli-doctor-nginx.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli-run.js';
import { doctorJson } from '../helpers/doctor-report.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { ReplyError } from '../../src/server/index.js';
import { eventually, startServer } from '../helpers/server.js';

/** Heartbeats well inside the tests' idle watches, so the idle step has whole cycles to see. */
const fastHeartbeat = { interval: 300, timeout: 1000 };

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('switchboard doctor against Switchboard directly', { timeout: 30_000 }, () => {
  test('a healthy endpoint: every step passes (idle watched over whole heartbeat cycles), exit 0, one line per step', async (t) => {
    const { sb, url } = await startServer({ heartbeat: fastHeartbeat });
    t.after(() => sb.close({ deadline: 10 }));
    const run = await runCli(['doctor', url, '--idle', '1s']);
    assert.equal(run.status, 0, run.stdout);
    const lines = run.stdout.split('\n');
    assert.equal(lines[0], `switchboard doctor ${url}`);
    assert.match(run.stdout, /^✓ upgrade +101 Switching Protocols, Sec-WebSocket-Accept correct, subprotocol switchboard\.v1$/m);
    assert.match(run.stdout, /^✓ handshake +welcome: session \S+, heartbeat every 0\.3 s \(timeout 1 s\), max message 65536 bytes$/m);
    assert.match(run.stdout, /^- tls +ws:\/\/ has no TLS$/m);
    assert.match(run.stdout, /^✓ idle +open for 1 s with no app traffic, answering \d+ heartbeat ping\(s\); the server pings every 0\.3 s$/m);
    assert.match(run.stdout, /\n8 passed, 0 warned, 0 failed, 2 skipped: OK\n$/);

    const { status, report, step } = await doctorJson([url]);
    assert.equal(status, 0);
    assert.equal(report.ok, true);
    assert.equal(report.url, url);
    assert.deepEqual(report.steps.map((s) => s.step), ['url', 'dns', 'tcp', 'tls', 'upgrade', 'handshake', 'origin', 'polling', 'sse', 'idle']);
    assert.deepEqual(report.steps.map((s) => s.status), ['pass', 'pass', 'pass', 'skip', 'pass', 'pass', 'skip', 'pass', 'pass', 'skip']);
    assert.equal(step('polling').found, '/ws/poll opened a long-polling connection');
    assert.match(step('sse').found, /^\/ws\/sse: first event after \d+ ms$/);
    assert.match(step('origin').found, /^no --origin: sent no Origin header/);
    assert.match(step('idle').found, /^not run: --idle 75s/);
    // The doctor's sessions are gone once it is done: it closes each with 1000.
    await eventually(() => sb.sessionCount === 0, 'the doctor\'s sessions to end', 3000);
  });

  test('a server whose middleware wants credentials: without --auth the handshake warns and names --auth; with it, it passes', async (t) => {
    const { sb, url } = await startServer();
    t.after(() => sb.close({ deadline: 10 }));
    sb.use(async (socket) => {
      if ((socket.handshake.auth as { token?: unknown } | undefined)?.token !== 'let-me-in') throw new ReplyError('unauthorized', 'a token, please');
    });
    const without = await doctorJson([url]);
    assert.equal(without.status, 0, 'a refused hello is a warning: the network is fine');
    assert.equal(without.step('handshake').status, 'warn');
    assert.match(without.step('handshake').found, /^hello answered with error unauthorized: a token, please/);
    assert.match(without.step('handshake').fix ?? '', /--auth/);
    const wrong = await doctorJson([url, '--auth', '{"token":"nope"}']);
    assert.equal(wrong.step('handshake').fix, 'nothing to fix in the network; the app refused the --auth given');
    const withAuth = await doctorJson([url, '--auth', '{"token":"let-me-in"}']);
    assert.equal(withAuth.step('handshake').status, 'pass');
    const bad = await runCli(['doctor', url, '--auth', '{token']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--auth takes the hello's auth payload as JSON/);
  });

  test('http:// without a path: tested as ws://…/ws, warned with the URL to use, and the rest passes', async (t) => {
    const { sb, port } = await startServer({});
    t.after(() => sb.close({ deadline: 10 }));
    const { status, report, step } = await doctorJson([`http://127.0.0.1:${port}`]);
    assert.equal(status, 0, 'a warning does not fail');
    assert.equal(report.url, `ws://127.0.0.1:${port}/ws`);
    assert.deepEqual(step('url'), {
      step: 'url',
      status: 'warn',
      found: 'http:// given for a WebSocket URL: testing ws:// instead; no path given: testing /ws, Switchboard\'s default',
      fix: `connect to ws://127.0.0.1:${port}/ws (http:// reaches only the HTTP fallback; clients connect to the path exactly as given)`,
    });
    assert.equal(step('upgrade').status, 'pass');
    assert.equal(step('handshake').status, 'pass');
  });

  test('a wrong path: Switchboard\'s 404 names the path it listens on; the fallback under the wrong path is not tried', async (t) => {
    const { sb, port } = await startServer({});
    t.after(() => sb.close({ deadline: 10 }));
    const { status, step } = await doctorJson([`ws://127.0.0.1:${port}/socket`]);
    assert.equal(status, 1);
    assert.deepEqual(step('upgrade'), {
      step: 'upgrade',
      status: 'fail',
      found: '404 from Switchboard: no endpoint at /socket, it listens on /ws',
      fix: `connect to ws://127.0.0.1:${port}/ws (or --path /ws)`,
    });
    assert.equal(step('handshake').status, 'skip');
    assert.equal(step('polling').found, 'not run: no Switchboard endpoint at this path (see upgrade)');
    // --path fixes it.
    const fixed = await doctorJson([`ws://127.0.0.1:${port}/socket`, '--path', '/ws']);
    assert.equal(fixed.status, 0);
  });

  test('not a Switchboard server at all: a plain HTTP server\'s 404, said so', async (t) => {
    const { createServer: createHttpServer } = await import('node:http');
    const http = createHttpServer((_req, res) => res.writeHead(404).end('nothing here'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const { port } = http.address() as AddressInfo;
    const { status, step } = await doctorJson([`ws://127.0.0.1:${port}/live`]);
    assert.equal(status, 1);
    assert.equal(step('upgrade').found, '404 at /live ("nothing here"): no Switchboard endpoint here');
  });

  test('--origin: a page on an origin outside allowedOrigins is refused (close 1008 origin_not_allowed), an allowed one passes', async (t) => {
    const { sb, url } = await startServer({ allowedOrigins: ['https://app.example'] });
    t.after(() => sb.close({ deadline: 10 }));
    const refused = await doctorJson([url, '--origin', 'https://evil.example']);
    assert.equal(refused.status, 1);
    assert.deepEqual(refused.step('origin'), {
      step: 'origin',
      status: 'fail',
      found: 'a page on https://evil.example is refused: close 1008 "origin_not_allowed: add this page\'s origin to the server\'s allowedOrigins option"',
      fix: 'add \'https://evil.example\' to the server\'s allowedOrigins option (behind a proxy of the same site: proxy_set_header Host $host;)',
    });
    assert.equal(refused.step('handshake').status, 'pass', 'without an Origin the server does not check it');

    const allowed = await doctorJson([url, '--origin', 'https://app.example']);
    assert.equal(allowed.status, 0);
    assert.deepEqual(allowed.step('origin'), { step: 'origin', status: 'pass', found: 'a page on https://app.example is allowed (welcome received)' });
  });

  test('TLS with a self-signed certificate: fails naming the cause and --insecure; with --insecure a warning and every other step passes', async (t) => {
    const { key, cert } = selfSignedCertificate();
    const { sb, port } = await startServer({ tls: { key, cert } });
    t.after(() => sb.close({ deadline: 10 }));
    const url = `wss://127.0.0.1:${port}/ws`;
    const strict = await doctorJson([url]);
    assert.equal(strict.status, 1);
    const tls = strict.step('tls');
    assert.equal(tls.status, 'fail');
    assert.match(tls.found, /^self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT, issuer localhost\): clients refuse it$/);
    assert.match(tls.fix ?? '', /a CA clients trust.*\(--insecure goes on with the other steps\)$/);
    assert.deepEqual(
      strict.report.steps.filter((s) => s.status === 'skip').map((s) => [s.step, s.found]),
      ['upgrade', 'handshake', 'origin', 'polling', 'sse', 'idle'].map((step) => [step, 'not run: TLS failed (--insecure goes on)']),
    );

    const insecure = await doctorJson([url, '--insecure']);
    assert.equal(insecure.status, 0);
    assert.equal(insecure.step('tls').status, 'warn');
    assert.match(insecure.step('tls').found, /^self-signed certificate .* — going on without verifying \(--insecure\)$/);
    for (const step of ['upgrade', 'handshake', 'polling', 'sse'] as const) assert.equal(insecure.step(step).status, 'pass', step);
  });

  test('ws:// to a TLS port: no HTTP answer, and the doctor finds the port speaks TLS: use wss://', async (t) => {
    const { key, cert } = selfSignedCertificate();
    const { sb, port } = await startServer({ tls: { key, cert } });
    t.after(() => sb.close({ deadline: 10 }));
    const { status, step } = await doctorJson([`ws://127.0.0.1:${port}/ws`, '--timeout', '2s']);
    assert.equal(status, 1);
    assert.deepEqual(step('upgrade'), { step: 'upgrade', status: 'fail', found: 'no HTTP answer (socket hang up): the port speaks TLS', fix: `connect to wss://127.0.0.1:${port}/ws` });
    assert.equal(step('polling').found, 'not run: the port speaks TLS (see upgrade)');
  });

  test('a closed port: TCP refused, the steps after it skipped', async () => {
    const port = await closedPort();
    const run = await runCli(['doctor', `ws://127.0.0.1:${port}/ws`]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, new RegExp(`^✗ tcp +connection refused by 127\\.0\\.0\\.1:${port}: nothing listens on that port → start the server, or put the port it listens on in the URL$`, 'm'));
    assert.match(run.stdout, /^- upgrade +not run: no TCP connection$/m);
    assert.match(run.stdout, /FAIL — fix the tcp step first\n$/);
  });

  test('an unknown host: DNS fails (ENOTFOUND) and nothing else is tried', async () => {
    const { status, report, step } = await doctorJson(['wss://no-such-host.invalid/ws']);
    assert.equal(status, 1);
    assert.equal(report.ok, false);
    assert.deepEqual(step('dns'), { step: 'dns', status: 'fail', found: 'no such host: no-such-host.invalid (ENOTFOUND)', fix: 'check the host name for a typo, or add its DNS record' });
    assert.deepEqual(new Set(report.steps.slice(2).map((s) => s.status)), new Set(['skip']));
  });

  test('bad usage: exit 2 with the reason on stderr, nothing tried', async () => {
    for (const [args, message] of [
      [[], /give the URL to check/],
      [['chat.example.com/ws'], /is not a URL: give one such as ws:\/\/localhost:3000\/ws/],
      [['ftp://example.com/ws'], /has the scheme ftp: — a Switchboard URL starts with ws:\/\/ or wss:\/\//],
      [['ws://127.0.0.1/ws', '--idle', 'soon'], /--idle takes a duration such as 75s, 500ms or 2m; got "soon"/],
      [['ws://127.0.0.1/ws', '--origin', 'https://app.example/page'], /--origin is a page's origin/],
      [['ws://127.0.0.1/ws', '--frobnicate'], /Unknown option '--frobnicate'/],
    ] as const) {
      const run = await runCli(['doctor', ...args]);
      assert.equal(run.status, 2, args.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, message);
      assert.match(run.stderr, /^switchboard doctor: /);
    }
  });

  test('the real binary: `node bin/switchboard.js doctor` exits 0 on a healthy endpoint and 1 on a closed port', async (t) => {
    const { sb, url } = await startServer({});
    t.after(() => sb.close({ deadline: 10 }));
    const bin = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
    const exit = (args: string[]): Promise<{ code: number; stdout: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [bin, 'doctor', ...args], (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }));
      });
    const healthy = await exit([url]);
    assert.equal(healthy.code, 0, healthy.stdout);
    assert.match(healthy.stdout, /: OK\n$/);
    const closed = await exit([`ws://127.0.0.1:${await closedPort()}/ws`, '--json']);
    assert.equal(closed.code, 1);
    assert.equal((JSON.parse(closed.stdout) as { ok: boolean }).ok, false);
  });
});
