/**
 * `switchboard doctor URL` through a real nginx (Debian's, test/helpers/nginx.ts) running the
 * configuration docs/DEPLOYMENT.md recommends — read from that file — and each classic
 * mistake made on purpose, in front of a real Switchboard. Each test asserts the step that
 * names the mistake and its one-line diagnosis.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { SwitchboardOptions } from '../../src/server/index.js';
import { runCli } from '../helpers/cli-run.js';
import { doctorJson } from '../helpers/doctor-report.js';
import { documentedNginxBlock, Nginx, replaceLines } from '../helpers/nginx.js';
import { startServer } from '../helpers/server.js';

const MARKER = 'read and run by test/integration/nginx-proxy.test.ts';
const NO_UPGRADE_HEADERS = ['proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection $connection_upgrade;'];
const UPGRADE_FIX = 'in the proxy\'s location for the path: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; (docs/DEPLOYMENT.md)';
const HEADERS_FIX = 'in the proxy\'s location for the path: proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; (docs/DEPLOYMENT.md)';

interface Mistakes {
  /** Documented lines left out. */
  drop?: string[];
  /** Extra lines at the top of `location /ws`. */
  add?: string[];
  /** Replaces `proxy_read_timeout 60s`. */
  readTimeout?: string;
}

/** The documented configuration, plain HTTP on 127.0.0.1:`port`, in front of `upstream`, with `mistakes`. */
function siteConfig(port: number, upstream: number, mistakes: Mistakes): string {
  let text = documentedNginxBlock(MARKER);
  text = replaceLines(text, 'server 127.0.0.1:3000;', [`server 127.0.0.1:${upstream};`]);
  text = replaceLines(text, 'listen 443 ssl;', [`listen 127.0.0.1:${port};`]);
  text = replaceLines(text, /^ssl_certificate(_key)?\s/, []);
  if (mistakes.readTimeout) text = replaceLines(text, 'proxy_read_timeout 60s;', [`proxy_read_timeout ${mistakes.readTimeout};`]);
  for (const line of mistakes.drop ?? []) text = replaceLines(text, line, []);
  if (mistakes.add) text = replaceLines(text, 'location /ws {', ['location /ws {', ...mistakes.add.map((line) => `    ${line}`)]);
  return text;
}

/** A Switchboard behind nginx with `mistakes`; both stop after the test. Returns the URL through nginx. */
async function behindNginx(t: TestContext, server: SwitchboardOptions, mistakes: Mistakes = {}): Promise<{ url: string; nginx: Nginx }> {
  const { sb, port } = await startServer(server);
  t.after(() => sb.close({ deadline: 10 }));
  const nginx = await Nginx.start({ http: (listen) => siteConfig(listen, port, mistakes) });
  t.after(() => nginx.stop());
  return { url: `ws://127.0.0.1:${nginx.port}/ws`, nginx };
}

describe('switchboard doctor through nginx', { timeout: 30_000 }, () => {
  test('the documented configuration: every step passes, the upgrade through nginx, and an idle connection outlives a 2 s read timeout thanks to the heartbeat', async (t) => {
    const { url } = await behindNginx(t, { heartbeat: { interval: 500, timeout: 1000 } }, { readTimeout: '2s' });
    const { status, report, step } = await doctorJson([url, '--idle', '4s']);
    assert.equal(status, 0, JSON.stringify(report, null, 2));
    assert.match(step('upgrade').found, /^101 Switching Protocols, Sec-WebSocket-Accept correct, subprotocol switchboard\.v1 \(through nginx\/1\.\d+\.\d+\)$/);
    assert.equal(step('polling').status, 'pass');
    assert.equal(step('sse').status, 'pass');
    assert.match(step('idle').found, /^open for 4 s with no app traffic, answering \d+ heartbeat ping\(s\); the server pings every 0\.5 s$/);
    assert.equal(step('idle').status, 'pass');
  });

  test('mistake 1, no Upgrade/Connection headers: Switchboard\'s 426 through nginx — the upgrade arrived as a plain GET; the fallback still works', async (t) => {
    const { url } = await behindNginx(t, {}, { drop: NO_UPGRADE_HEADERS });
    const { status, step } = await doctorJson([url]);
    assert.equal(status, 1);
    const upgrade = step('upgrade');
    assert.match(upgrade.found, /^426 Upgrade Required from Switchboard: the upgrade reached it as a plain GET — nginx\/1\.\d+\.\d+ in between drops the Upgrade\/Connection headers \(it arrived as HTTP\/1\.1\)$/);
    assert.equal(upgrade.fix, HEADERS_FIX);
    assert.equal(step('handshake').found, 'not run: no WebSocket');
    assert.equal(step('polling').status, 'pass', 'clients fall back to long-polling');
    assert.equal(step('sse').status, 'pass');
    // The human line says the same.
    const run = await runCli(['doctor', url]);
    assert.equal(run.status, 1);
    assert.ok(run.stdout.includes(`✗ upgrade   ${upgrade.found} → ${HEADERS_FIX}\n`), run.stdout);
  });

  test('mistake 3, a bare proxy_pass (HTTP/1.0 to the upstream, no upgrade headers): the upgrade is lost, and the fix names proxy_http_version too', async (t) => {
    const { url } = await behindNginx(t, {}, { drop: [...NO_UPGRADE_HEADERS, 'proxy_http_version 1.1;'] });
    const { status, step } = await doctorJson([url]);
    assert.equal(status, 1);
    assert.match(step('upgrade').found, /^426 Upgrade Required from Switchboard: the upgrade reached it as a plain GET — nginx\/\S+ in between speaks HTTP\/1\.0 to it \(nginx's default\) and drops the Upgrade\/Connection headers$/);
    assert.equal(step('upgrade').fix, UPGRADE_FIX);
  });

  test('HTTP/1.0 to the upstream with the upgrade headers kept: Switchboard upgrades anyway and the doctor cannot see the version (documented)', async (t) => {
    const { url } = await behindNginx(t, {}, { drop: ['proxy_http_version 1.1;'] });
    const { status, step } = await doctorJson([url]);
    assert.equal(status, 0);
    assert.equal(step('upgrade').status, 'pass');
  });

  test('a wrong path through nginx: the plain GET reaches Switchboard\'s 404, and the doctor finds the endpoint at /ws', async (t) => {
    const { nginx } = await behindNginx(t, {});
    const { status, step } = await doctorJson([`ws://127.0.0.1:${nginx.port}/socket`]);
    assert.equal(status, 1);
    assert.deepEqual(step('upgrade'), {
      step: 'upgrade',
      status: 'fail',
      found: '404 at /socket ("Not found"), but a Switchboard endpoint answers at /ws: the wrong path',
      fix: `connect to ws://127.0.0.1:${nginx.port}/ws, or route /socket to Switchboard in the proxy`,
    });
  });

  test('a refused page origin through nginx: the close 1008 and its reason come through the proxy to the origin step', async (t) => {
    const { url } = await behindNginx(t, { allowedOrigins: ['https://app.example'] });
    const refused = await doctorJson([url, '--origin', 'https://evil.example']);
    assert.equal(refused.status, 1);
    assert.equal(refused.step('origin').found, 'a page on https://evil.example is refused: close 1008 "origin_not_allowed: add this page\'s origin to the server\'s allowedOrigins option"');
    const allowed = await doctorJson([url, '--origin', 'https://app.example']);
    assert.equal(allowed.status, 0);
    assert.equal(allowed.step('origin').status, 'pass');
  });

  test('mistake 4, a buffered event stream (gzip for text/event-stream, X-Accel-Buffering ignored): the SSE step fails on its bound; the documented config with gzip passes', async (t) => {
    const gzip = ['gzip on;', 'gzip_types text/event-stream;'];
    const held = await behindNginx(t, {}, { add: [...gzip, 'proxy_ignore_headers X-Accel-Buffering;'] });
    const { status, step } = await doctorJson([held.url, '--sse-wait', '1s']);
    assert.equal(status, 1);
    assert.deepEqual(step('sse'), {
      step: 'sse',
      status: 'fail',
      found: step('sse').found,
      fix: 'the proxy buffers the event stream: let the X-Accel-Buffering header through (no proxy_ignore_headers X-Accel-Buffering), leave text/event-stream out of gzip_types, or proxy_buffering off; in location /ws',
    });
    assert.match(step('sse').found, /^\/ws\/sse: (200, but|no answer and) no event within 1000 ms — the stream is held back/);
    assert.equal(step('upgrade').status, 'pass');

    const documented = await behindNginx(t, {}, { add: gzip });
    const ok = await doctorJson([documented.url, '--sse-wait', '1s']);
    assert.equal(ok.status, 0);
    assert.match(ok.step('sse').found, /^\/ws\/sse: first event after \d+ ms \(gzip, flushed per event\)$/);
  });

  test('mistake 2, proxy_read_timeout 2s below a 30 s heartbeat: --idle 4s sees the connection cut without a close frame and names both settings', async (t) => {
    const { url, nginx } = await behindNginx(t, { heartbeat: { interval: 30_000, timeout: 30_000 } }, { readTimeout: '2s' });
    const { status, step } = await doctorJson([url, '--idle', '4s']);
    assert.equal(status, 1);
    const idle = step('idle');
    assert.equal(idle.status, 'fail');
    assert.match(idle.found, /^the idle connection was cut without a close frame \(1006\) after \d+(\.\d)? s, \d+(\.\d)? s after the last bytes from the server; the server pings every 30 s$/);
    assert.equal(idle.fix, 'raise the proxy\'s read timeout (nginx proxy_read_timeout) above 37.5 s, or lower the server\'s heartbeat.interval below the proxy\'s timeout');
    assert.match(nginx.errorLog(), /upstream timed out .* while proxying upgraded connection/);
    // Without --idle the step does not run, and the rest passes.
    const quick = await doctorJson([url]);
    assert.equal(quick.status, 0);
    assert.equal(quick.step('idle').status, 'skip');
  });

  test('nginx in front of nothing: 502 from nginx — it cannot reach the server behind it', async (t) => {
    const { sb, port } = await startServer({});
    await sb.close({ deadline: 10 });
    const nginx = await Nginx.start({ http: (listen) => siteConfig(listen, port, {}) });
    t.after(() => nginx.stop());
    const { status, step } = await doctorJson([`ws://127.0.0.1:${nginx.port}/ws`]);
    assert.equal(status, 1);
    assert.match(step('upgrade').found, /^502 Bad Gateway from nginx\/\S+: it cannot reach the server behind it$/);
    assert.match(step('polling').found, /^502 from nginx\/\S+ at \/ws\/poll: it cannot reach the server$/);
  });
});
