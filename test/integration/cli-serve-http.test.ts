/**
 * What `switchboard serve` answers over plain HTTP, through the real binary: downloads of the
 * static folder that the client abandons close their file (no descriptor leak, which would
 * end in EMFILE), and a plain GET of the WebSocket path gets Switchboard's own 426 — the
 * answer `switchboard doctor` reads to tell a proxy that dropped the upgrade, directly and
 * through a real nginx that drops the Upgrade/Connection headers.
 */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { doctorJson } from '../helpers/doctor-report.js';
import { Nginx } from '../helpers/nginx.js';
import { ServeDir, ServeProcess } from '../fixtures/serve-process.js';

/** Larger than every buffer between the file and the client (socket buffers are a few MB): the body is still being read when the client aborts. */
const LARGE_FILE_BYTES = 32 * 1024 * 1024;
const ABORTED_DOWNLOADS = 20;
/** How long the server may take to close the files of aborted downloads: a bound on polling, not a timing claim. */
const CLOSE_BOUND_MS = 10_000;

/** The descriptors of process `pid` open on `file` (Linux: /proc/<pid>/fd links to the path). */
function descriptorsOn(pid: number, file: string): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) count++;
    } catch {
      // Closed between the listing and the readlink.
    }
  }
  return count;
}

/** Poll until `check` holds, for at most `ms`; the last value either way. */
async function eventually(check: () => number, holds: (n: number) => boolean, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let value = check();
  while (!holds(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = check();
  }
  return value;
}

/** A GET that has received its headers and a first chunk of the body; the rest is left unread. */
function startDownload(origin: string, path: string): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      res.once('data', () => {
        res.pause();
        resolve({ req, res });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function plainGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode as number, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('switchboard serve over plain HTTP', { timeout: 60_000 }, () => {
  const dir = new ServeDir();
  let serve: ServeProcess;
  let large: string;

  before(async () => {
    dir.write('public/index.html', '<!doctype html><title>served</title>');
    // As /proc names it: the real path (the temp folder may be under a symlink).
    large = realpathSync(dir.write('public/large.bin', ''));
    writeFileSync(large, Buffer.alloc(LARGE_FILE_BYTES, 0x61));
    dir.config({ port: 0, host: '127.0.0.1', static: './public' });
    serve = await ServeProcess.start(['--config', 'switchboard.json'], { cwd: dir.path });
  });

  after(async () => {
    if (serve) await serve.stop();
    dir.remove();
  });

  test(`${ABORTED_DOWNLOADS} downloads of a large file aborted mid-body leave no descriptor of it open`, async () => {
    const pid = serve.child.pid as number;
    const downloads = await Promise.all(Array.from({ length: ABORTED_DOWNLOADS }, () => startDownload(serve.httpOrigin, '/large.bin')));
    // The count is right: while the downloads are in flight, each holds the file open.
    assert.equal(descriptorsOn(pid, large), ABORTED_DOWNLOADS, 'every download in flight has the file open');
    for (const { req } of downloads) req.destroy();
    const left = await eventually(() => descriptorsOn(pid, large), (n) => n === 0, CLOSE_BOUND_MS);
    assert.equal(left, 0, `descriptors of ${large} still open after the clients went away`);
    // The server still serves the file in full.
    const whole = await fetch(`${serve.httpOrigin}/large.bin`);
    assert.equal(whole.status, 200);
    assert.equal((await whole.arrayBuffer()).byteLength, LARGE_FILE_BYTES);
  });

  test('a plain GET of the WebSocket path gets Switchboard\'s 426: where to connect, and how the request arrived', async () => {
    const answer = await plainGet(`${serve.httpOrigin}/ws`);
    assert.equal(answer.status, 426);
    assert.equal(answer.headers.upgrade, 'websocket');
    const [first, second] = answer.body.split('\n');
    assert.equal(first, 'This is a WebSocket endpoint (subprotocol switchboard.v1): connect with ws://host/ws, or over HTTP at /ws/poll and /ws/sse (docs/PROTOCOL.md, "HTTP transports")');
    assert.equal(second, 'This request arrived as HTTP/1.1 with no Upgrade header.');
    // Upgrade without Connection (a proxy that kept one of the two): the second line says so.
    const half = await plainGet(`${serve.httpOrigin}/ws?x=1`, { Upgrade: 'websocket' });
    assert.equal(half.status, 426);
    assert.match(half.body, /\nThis request arrived as HTTP\/1\.1 with Upgrade: websocket but Connection: (keep-alive|close)\.\n$/);
    // Other paths are still the static folder's.
    assert.equal((await plainGet(`${serve.httpOrigin}/missing.html`)).status, 404);
    assert.equal((await plainGet(`${serve.httpOrigin}/`)).status, 200);
  });

  test('switchboard doctor, straight to serve: the upgrade and the long-polling fallback pass', async () => {
    const { step } = await doctorJson([serve.wsUrl]);
    assert.equal(step('upgrade').status, 'pass', step('upgrade').found);
    assert.match(step('upgrade').found, /^101 Switching Protocols, Sec-WebSocket-Accept correct, subprotocol switchboard\.v1/);
    assert.equal(step('polling').status, 'pass', step('polling').found);
  });

  test('switchboard doctor through an nginx that drops the Upgrade/Connection headers: it names the mistake, and polling still passes', async (t) => {
    const upstream = new URL(serve.httpOrigin).port;
    const nginx = await Nginx.start({
      http: (port) => `server {\n  listen 127.0.0.1:${port};\n  location / {\n    proxy_pass http://127.0.0.1:${upstream};\n    proxy_http_version 1.1;\n    proxy_buffering off;\n  }\n}\n`,
    });
    t.after(() => nginx.stop());
    const { status, step } = await doctorJson([`ws://127.0.0.1:${nginx.port}/ws`]);
    assert.equal(status, 1);
    const upgrade = step('upgrade');
    assert.equal(upgrade.status, 'fail');
    assert.match(upgrade.found, /^426 Upgrade Required from Switchboard: the upgrade reached it as a plain GET — nginx\/1\.\d+\.\d+ in between drops the Upgrade\/Connection headers \(it arrived as HTTP\/1\.1\)$/);
    assert.match(upgrade.fix ?? '', /proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection "upgrade";/);
    assert.equal(step('polling').status, 'pass', step('polling').found);
  });
});
