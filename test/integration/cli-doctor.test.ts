/**
 * `switchboard doctor URL` against a real Switchboard reached directly (no proxy): a healthy
 * endpoint, the URL mistakes (http://, no path, a wrong path), a refused page origin, a
 * self-signed, expired, expiring or misnamed certificate (and --ca for a private CA), a
 * closed port and an unknown host. Each asserts the step that
 * speaks and its diagnosis. The proxy mistakes are in cli-doctor-nginx.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli-run.js';
import { doctorJson } from '../helpers/doctor-report.js';
import { selfSignedCertificate, type SelfSigned } from '../helpers/self-signed.js';
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

/** `pem` in a temporary file, for --ca; removed after the test. */
function caFile(t: TestContext, pem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-doctor-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ca.pem');
  writeFileSync(file, pem);
  return file;
}

/** A Switchboard serving `certificate` over TLS; the URL, its port, and --ca FILE trusting the certificate. */
async function tlsServer(t: TestContext, certificate: SelfSigned): Promise<{ port: number; trustIt: string[] }> {
  const { sb, port } = await startServer({ tls: certificate });
  t.after(() => sb.close({ deadline: 10 }));
  return { port, trustIt: ['--ca', caFile(t, certificate.cert)] };
}

const LATER_STEPS = ['upgrade', 'handshake', 'polling', 'sse'] as const;

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
    // A mistyped token is not JSON: the message says where it goes wrong, never the token.
    const bad = await runCli(['doctor', url, '--auth', 'admin-secret-0123']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--auth takes the hello's auth payload as JSON, .*is not JSON: unexpected character at position 0/);
    assert.doesNotMatch(bad.stderr, /admin-secret/);
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

  test('TLS with a certificate for another name: the names it has and the one asked, with the fix; --insecure goes on with a warning', async (t) => {
    const { port, trustIt } = await tlsServer(t, selfSignedCertificate({ names: ['other.example'] }));
    // Untrusted and misnamed: both reasons on one line, each with its fix.
    const both = await doctorJson([`wss://127.0.0.1:${port}/ws`]);
    assert.equal(both.status, 1);
    assert.equal(both.step('tls').found, 'self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT, issuer other.example): clients refuse it; the certificate is for other.example, not 127.0.0.1');
    assert.match(both.step('tls').fix ?? '', /--ca\); use a certificate whose subjectAltName covers 127\.0\.0\.1, or connect with a name it covers \(--insecure/);
    // Its CA trusted (--ca): the name alone.
    const misnamed = await doctorJson([`wss://localhost:${port}/ws`, ...trustIt]);
    assert.equal(misnamed.status, 1);
    assert.deepEqual(misnamed.step('tls'), {
      step: 'tls',
      status: 'fail',
      found: 'the certificate is for other.example, not localhost',
      fix: 'use a certificate whose subjectAltName covers localhost, or connect with a name it covers (--insecure goes on with the other steps)',
    });
    assert.equal(misnamed.step('upgrade').found, 'not run: TLS failed (--insecure goes on)');
    const insecure = await doctorJson([`wss://localhost:${port}/ws`, ...trustIt, '--insecure']);
    assert.equal(insecure.status, 0);
    assert.deepEqual(insecure.step('tls'), {
      step: 'tls',
      status: 'warn',
      found: 'the certificate is for other.example, not localhost — going on without verifying (--insecure)',
      fix: 'use a certificate whose subjectAltName covers localhost, or connect with a name it covers',
    });
    for (const step of LATER_STEPS) assert.equal(insecure.step(step).status, 'pass', step);
  });

  test('TLS with an expired certificate: "expired on <date>" and renew it, trusted CA or not; --insecure goes on', async (t) => {
    const expired = selfSignedCertificate({ validity: { from: new Date('2020-01-01T00:00:00Z'), to: new Date('2020-03-01T00:00:00Z') } });
    const { port, trustIt } = await tlsServer(t, expired);
    const url = `wss://127.0.0.1:${port}/ws`;
    const trusted = await doctorJson([url, ...trustIt]);
    assert.equal(trusted.status, 1);
    assert.deepEqual(trusted.step('tls'), {
      step: 'tls',
      status: 'fail',
      found: 'the certificate expired on Mar  1 00:00:00 2020 GMT',
      fix: 'renew the certificate and reload the server or proxy (--insecure goes on with the other steps)',
    });
    const untrusted = await doctorJson([url]);
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.step('tls').found, /^the certificate expired on Mar {2}1 00:00:00 2020 GMT(;|$)/);
    const insecure = await doctorJson([url, '--insecure']);
    assert.equal(insecure.status, 0);
    assert.equal(insecure.step('tls').status, 'warn');
    assert.match(insecure.step('tls').found, /^the certificate expired on .* — going on without verifying \(--insecure\)$/);
    for (const step of LATER_STEPS) assert.equal(insecure.step(step).status, 'pass', step);
  });

  test('--ca FILE: a private CA is trusted by every step; a certificate expiring within 14 days is a warning, exit 0', async (t) => {
    // The helper's certificate is valid for 1 day, and is its own CA.
    const { port, trustIt } = await tlsServer(t, selfSignedCertificate());
    const run = await runCli(['doctor', `wss://localhost:${port}/ws`, ...trustIt]);
    assert.equal(run.status, 0, run.stdout);
    assert.match(
      run.stdout,
      /^! tls +certificate for localhost, 127\.0\.0\.1 issued by localhost: expires within 1 day\(s\), on \w{3} [ \d]\d [\d:]{8} \d{4} GMT → renew the certificate \(check that automatic renewal runs\)$/m,
    );
    for (const step of LATER_STEPS) assert.match(run.stdout, new RegExp(`^✓ ${step} `, 'm'));
    assert.match(run.stdout, /\n7 passed, 1 warned, 0 failed, 2 skipped: OK\n$/);

    // 30 days left: a plain pass that names the CA and the end date.
    const day = 86_400_000;
    const healthy = await tlsServer(t, selfSignedCertificate({ validity: { from: new Date(Date.now() - day), to: new Date(Date.now() + 30 * day) } }));
    const { status, step } = await doctorJson([`wss://localhost:${healthy.port}/ws`, ...healthy.trustIt]);
    assert.equal(status, 0);
    assert.equal(step('tls').status, 'pass');
    assert.match(step('tls').found, /^TLSv1\.3, certificate for localhost, 127\.0\.0\.1 issued by localhost, valid for localhost until \w{3} [ \d]\d [\d:]{8} \d{4} GMT$/);
  });

  test('--ca with a file that cannot be read or holds no certificate: exit 2, nothing tried', async (t) => {
    const notPem = caFile(t, 'not a certificate\n');
    for (const [file, message] of [
      ['/no/such/ca.pem', /^switchboard doctor: --ca \/no\/such\/ca\.pem: cannot read it \(ENOENT\)$/m],
      [notPem, /: no PEM certificate in it \(-----BEGIN CERTIFICATE-----\)/],
    ] as const) {
      const run = await runCli(['doctor', 'wss://127.0.0.1/ws', '--ca', file]);
      assert.equal(run.status, 2, file);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, message);
    }
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
