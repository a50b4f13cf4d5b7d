/**
 * A page on an origin the server refuses, in real Chromium: the refusal reaches the page
 * as `origin_not_allowed` on every transport, where a browser used to see only "closed
 * with code 1006" and "Failed to fetch". The page is served by another HTTP server (another
 * origin) together with the browser client; Switchboard allows only https://app.example.com.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Switchboard } from '../../src/server/index.js';
import type { ConnectionError } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';

const BUNDLE = new URL('../../dist/browser/switchboard-client.js', import.meta.url);

/** The page: it imports the client from its own server and records what a connect to `?url=` reports. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>refused origin</title></head>
<body>
<script type="module">
  import { connect } from '/switchboard/client.js';
  Object.assign(window, {
    /** A fetch with the client's own request defaults; the answer's status and JSON body. */
    async read(url, init) {
      const response = await fetch(url, { credentials: 'include', cache: 'no-store', ...init });
      const body = await response.json();
      return { status: response.status, code: body.code, message: body.message };
    },
    /** Connect over the given transports; resolve with the first connect_error the client reports. */
    firstError(url, transports) {
      return new Promise((resolve) => {
        const client = connect(url, { transports, reconnect: { delay: 60000 } });
        client.on('connect_error', (e) => {
          client.close();
          resolve({ code: e.code, message: e.message });
        });
      });
    },
  });
  window.ready = true;
</script>
</body></html>`;

interface PageError {
  code: string;
  message: string;
}

declare global {
  interface Window {
    ready: boolean;
    firstError(url: string, transports: string[]): Promise<PageError>;
    read(url: string, init: RequestInit): Promise<{ status: number; code?: string; message?: string }>;
  }
}

const browser = useBrowser();

let sb: Switchboard;
let wsUrl: string;
let switchboardBase: string;
/** The server of the page: another origin than Switchboard's. */
let pageServer: Server;
let pageBase: string;
const refusals: ConnectionError[] = [];

before(async () => {
  sb = new Switchboard(0, { allowedOrigins: ['https://app.example.com'] });
  await sb.ready();
  sb.on('connection_error', (error) => refusals.push(error));
  switchboardBase = `http://127.0.0.1:${sb.port}`;
  wsUrl = `ws://127.0.0.1:${sb.port}/ws`;
  const bundle = readFileSync(BUNDLE);
  pageServer = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/switchboard/client.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end(bundle);
    } else if (/^\/switchboard\/chunks\/[\w-]+\.js$/.test(path ?? '')) {
      // The fallback transports, which the client imports from beside itself.
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end(readFileSync(new URL(`chunks/${path?.slice('/switchboard/chunks/'.length)}`, BUNDLE)));
    } else if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  pageServer.listen(0, '127.0.0.1');
  await once(pageServer, 'listening');
  pageBase = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
});

after(async () => {
  await sb.close();
  pageServer.closeAllConnections();
  await new Promise<void>((resolve) => pageServer.close(() => resolve()));
});

async function refusedPage(): Promise<Awaited<ReturnType<typeof browser.newPage>>> {
  const opened = await browser.newPage();
  await opened.page.goto(`${pageBase}/`);
  await opened.page.waitForFunction(() => window.ready === true, undefined, { timeout: 5000 });
  return opened;
}

describe('a page on a refused origin', () => {
  test('what the browser itself receives: a WebSocket closed with 1008 origin_not_allowed, readable 403s over HTTP', async () => {
    const { page } = await refusedPage();
    refusals.length = 0;

    const closed = await page.evaluate(
      (url) =>
        new Promise<{ opened: boolean; messages: number; code: number; reason: string }>((resolve) => {
          const ws = new WebSocket(url, 'switchboard.v1');
          let opened = false;
          let messages = 0;
          ws.onopen = () => (opened = true);
          ws.onmessage = () => messages++;
          ws.onclose = (event) => resolve({ opened, messages, code: event.code, reason: event.reason });
        }),
      wsUrl,
    );
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /^origin_not_allowed: .*allowedOrigins/);
    assert.equal(closed.messages, 0, 'no frame before the close');

    const answers = await page.evaluate(async (base) => ({
      poll: await window.read(`${base}/ws/poll`, { headers: { accept: 'application/json' } }),
      sse: await window.read(`${base}/ws/sse`, { headers: { accept: 'text/event-stream' } }),
      send: await window.read(`${base}/ws/send?cid=x`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '{"type":"ping"}' }),
      // Not a simple request: the browser sends a preflight first, which passes so that the refusal can be read.
      preflighted: await window.read(`${base}/ws/send?cid=x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"ping"}' }),
    }), switchboardBase);
    for (const [name, answer] of Object.entries(answers)) {
      assert.equal(answer.status, 403, name);
      assert.equal(answer.code, 'origin_not_allowed', name);
      assert.match(answer.message ?? '', new RegExp(`"${pageBase.replace(/[./]/g, '\\$&')}".*allowedOrigins`), name);
    }

    assert.ok(refusals.length >= 5, `connection_error for each refusal, got ${refusals.length}`);
    assert.ok(refusals.every((r) => r.code === 'origin_not_allowed' && r.origin === pageBase));
    assert.equal(refusals[0]?.transport, 'websocket');
  });

  test('the browser client over SSE and long-polling reports origin_not_allowed', async () => {
    const { page } = await refusedPage();
    for (const transport of ['sse', 'polling']) {
      const error = await page.evaluate(([url, only]) => window.firstError(url, [only]), [wsUrl, transport] as const);
      assert.equal(error.code, 'origin_not_allowed', `${transport}: ${error.message}`);
      assert.match(error.message, /allowedOrigins/);
    }
  });

  // Needs the client to read the 1008 close's reason (the client half of this change).
  test('the browser client over WebSocket, and with every transport, reports origin_not_allowed', async () => {
    const { page } = await refusedPage();
    for (const transports of [['websocket'], ['websocket', 'sse', 'polling']]) {
      const error = await page.evaluate(([url, list]) => window.firstError(url, [...list]), [wsUrl, transports] as const);
      assert.equal(error.code, 'origin_not_allowed', `${transports.join(', ')}: ${error.message}`);
      assert.match(error.message, /allowedOrigins/);
    }
  });
});
