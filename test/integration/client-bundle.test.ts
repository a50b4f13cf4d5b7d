/** The browser client served over HTTP: on the app's own server without taking its routes, and on a server Switchboard created. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, get as httpGet, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { ClientBundle, interceptRequests } from '../../src/server/client-bundle.js';
import { Switchboard } from '../../src/server/index.js';

const BUNDLE = new URL('../../dist/browser/switchboard-client.js', import.meta.url);
/** The chunk the client imports where WebSocket fails (the fallback transports), as the built client names it. */
async function fallbackChunk(): Promise<string> {
  const js = await readFile(BUNDLE, 'utf8');
  const imports = [...js.matchAll(/\bimport\(\s*["'](\.\/chunks\/fallback-[\w-]+\.js)["']\s*\)/g)].map((match) => match[1] as string);
  assert.equal(imports.length, 1, 'the client imports its fallback chunk once');
  return imports[0] as string;
}
/** fetch asks for gzip by itself and unpacks it: tests that count bytes ask for them as they are. */
const IDENTITY = { 'Accept-Encoding': 'identity' };
const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The app: answers every path itself, 404 for the ones it does not know, like express would. */
const app: RequestListener = (req, res) => {
  if (req.url === '/hello') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello from the app');
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end(`app: no route ${req.method} ${req.url}`);
};

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A GET whose body comes back exactly as sent (fetch would unpack it). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('the browser client on the app’s own HTTP server', () => {
  let http: Server;
  let sb: Switchboard;
  let base: string;
  before(async () => {
    http = createServer(app);
    sb = new Switchboard(http);
    base = await listen(http);
  });
  after(async () => {
    await sb.close();
    await closeServer(http);
  });

  test('the app’s routes still answer, including paths under /switchboard/ that are not the client', async () => {
    const hello = await fetch(`${base}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(await hello.text(), 'hello from the app');
    const other = await fetch(`${base}/switchboard/other.js`);
    assert.equal(other.status, 404);
    assert.equal(await other.text(), 'app: no route GET /switchboard/other.js');
  });

  test('GET /switchboard/client.js: the bundle, revalidated by ETag, pointing at its own source map', async () => {
    const res = await fetch(`${base}/switchboard/client.js`, { headers: IDENTITY });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('etag') ?? '', /^"[\w-]{20,}"$/);
    const body = await res.text();
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(body));
    assert.match(body, /^\/\* switchboard client /);
    assert.match(body, /\/\/# sourceMappingURL=client\.js\.map\n?$/);
    const onDisk = await readFile(BUNDLE, 'utf8');
    assert.equal(body.replace(/sourceMappingURL=\S+\s*$/, ''), onDisk.replace(/sourceMappingURL=\S+\s*$/, ''));

    const withQuery = await fetch(`${base}/switchboard/client.js?v=2`);
    assert.equal(withQuery.status, 200);
    assert.equal(await withQuery.text(), body);
  });

  test('If-None-Match with the ETag gets 304 and no body; another ETag gets the file', async () => {
    const etag = (await fetch(`${base}/switchboard/client.js`)).headers.get('etag') as string;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await fetch(`${base}/switchboard/client.js`, { headers: { 'If-None-Match': header } });
      assert.equal(res.status, 304, header);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal(await res.text(), '');
    }
    const stale = await fetch(`${base}/switchboard/client.js`, { headers: { 'If-None-Match': '"stale"' } });
    assert.equal(stale.status, 200);
  });

  test('the versioned path is cached for a year, and so is its map', async () => {
    assert.deepEqual(sb.clientPaths, { path: '/switchboard/client.js', versionedPath: `/switchboard/client-${version}.js` });
    const res = await fetch(`${base}/switchboard/client-${version}.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await res.text(), new RegExp(`//# sourceMappingURL=client-${version.replaceAll('.', '\\.')}\\.js\\.map\\n?$`));

    const map = await fetch(`${base}/switchboard/client-${version}.js.map`);
    assert.equal(map.status, 200);
    assert.equal(map.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(map.headers.get('content-type'), 'application/json; charset=utf-8');
    const parsed = JSON.parse(await map.text()) as { version: number; mappings: string; sources: string[] };
    assert.equal(parsed.version, 3);
    assert.ok(parsed.sources.some((s) => s.endsWith('src/client/connection.ts')));

    const unversionedMap = await fetch(`${base}/switchboard/client.js.map`);
    assert.equal(unversionedMap.headers.get('cache-control'), 'no-cache');
    assert.ok(unversionedMap.headers.get('etag'));

    const wrongVersion = await fetch(`${base}/switchboard/client-0.0.0-nope.js`);
    assert.equal(wrongVersion.status, 404, 'another version is not ours: the app answers');
    assert.match(await wrongVersion.text(), /^app: no route/);
  });

  test('compressed when Accept-Encoding allows: brotli first, else gzip, the same bytes, each with its own ETag and Vary', async () => {
    const plain = await rawGet(`${base}/switchboard/client.js`, { 'Accept-Encoding': 'identity' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Origin, Accept-Encoding', 'for caches: CORS answers by Origin, compression by Accept-Encoding');
    const cases: [string, string | undefined][] = [
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0.5, gzip', 'gzip'],
      ['gzip;q=0, br;q=0', undefined],
      ['*', 'br'],
      ['*;q=0.1, br;q=0', 'gzip'],
      ['deflate', undefined],
    ];
    for (const [accept, coding] of cases) {
      const res = await rawGet(`${base}/switchboard/client.js`, { 'Accept-Encoding': accept });
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers['content-encoding'], coding, accept);
      assert.equal(res.headers.vary, 'Origin, Accept-Encoding', accept);
      assert.equal(Number(res.headers['content-length']), res.body.length, accept);
      const unpacked = coding === 'br' ? brotliDecompressSync(res.body) : coding === 'gzip' ? gunzipSync(res.body) : res.body;
      assert.ok(unpacked.equals(plain.body), `${accept}: the same bytes`);
      if (coding !== undefined) {
        assert.ok(res.body.length < plain.body.length / 3, `${accept}: ${res.body.length} bytes`);
        assert.notEqual(res.headers.etag, plain.headers.etag, 'another representation, another ETag');
      }
    }
    const map = await rawGet(`${base}/switchboard/client.js.map`, { 'Accept-Encoding': 'gzip' });
    assert.equal(map.headers['content-encoding'], 'gzip');
    assert.equal(JSON.parse(gunzipSync(map.body).toString()).version, 3);

    // A page holding either form revalidates with its tag: still fresh.
    const gzipped = await rawGet(`${base}/switchboard/client.js`, { 'Accept-Encoding': 'gzip' });
    for (const tag of [plain.headers.etag, gzipped.headers.etag]) {
      const again = await rawGet(`${base}/switchboard/client.js`, { 'Accept-Encoding': 'gzip', 'If-None-Match': String(tag) });
      assert.equal(again.status, 304, String(tag));
      assert.equal(again.headers.etag, gzipped.headers.etag);
    }
  });

  test('the fallback chunk the client imports is served beside both client paths: immutable, compressed, with its source map', async () => {
    const chunk = await fallbackChunk();
    const onDisk = await readFile(new URL(chunk, BUNDLE));
    // A module's relative import resolves against the module's URL: the same chunk from either path.
    const urls = [new URL(chunk, `${base}/switchboard/client.js`).href, new URL(chunk, `${base}/switchboard/client-${version}.js`).href];
    assert.equal(urls[0], urls[1]);
    assert.match(urls[0] as string, /\/switchboard\/chunks\/fallback-[\w-]+\.js$/);
    const url = urls[0] as string;

    const plain = await rawGet(url, { ...IDENTITY, Origin: 'http://localhost:5173' });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable', 'its name changes with its content');
    assert.equal(plain.headers['x-content-type-options'], 'nosniff');
    assert.equal(plain.headers['access-control-allow-origin'], 'http://localhost:5173', 'a dynamic import is a CORS request too');
    assert.ok(plain.body.equals(onDisk));
    assert.match(plain.body.toString(), /\/\/# sourceMappingURL=fallback-[\w-]+\.js\.map\n?$/);
    for (const [accept, coding, unpack] of [
      ['br, gzip', 'br', brotliDecompressSync],
      ['gzip', 'gzip', gunzipSync],
    ] as const) {
      const res = await rawGet(url, { 'Accept-Encoding': accept });
      assert.equal(res.headers['content-encoding'], coding);
      assert.equal(res.headers.vary, 'Origin, Accept-Encoding');
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.ok(unpack(res.body).equals(onDisk), `${coding}: the same bytes`);
      assert.ok(res.body.length < onDisk.length / 2, `${coding}: ${res.body.length} bytes`);
      const again = await rawGet(url, { 'Accept-Encoding': accept, 'If-None-Match': String(res.headers.etag) });
      assert.equal(again.status, 304);
    }

    const map = await fetch(`${url}.map`);
    assert.equal(map.status, 200);
    assert.equal(map.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(map.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const parsed = JSON.parse(await map.text()) as { sources: string[] };
    assert.ok(parsed.sources.some((source) => source.endsWith('src/client/sse-transport.ts')));

    const gone = await fetch(`${base}/switchboard/chunks/fallback-NOTBUILT.js`);
    assert.equal(gone.status, 404, 'a chunk of another build');
    assert.match(await gone.text(), /not part of this build of the Switchboard browser client/);
    const outside = await rawGet(`${base}/switchboard/chunks/..%2Fclient.js`, IDENTITY);
    assert.equal(outside.status, 404, 'only file names of the chunks directory');
    assert.match(outside.body.toString(), /^app: no route/);
  });

  test('HEAD has the headers and no body; POST is 405', async () => {
    const get = await fetch(`${base}/switchboard/client.js`, { headers: IDENTITY });
    const length = Buffer.byteLength(await get.text());
    const head = await fetch(`${base}/switchboard/client.js`, { method: 'HEAD', headers: IDENTITY });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(head.headers.get('etag'), get.headers.get('etag'));
    assert.equal(Number(head.headers.get('content-length')), length);
    assert.equal(await head.text(), '');

    const post = await fetch(`${base}/switchboard/client.js`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  test('the bundle is browser code: valid ESM exporting connect, no require(, no node:, no ws import', async () => {
    const chunk = await fallbackChunk();
    for (const path of ['/switchboard/client.js', `/switchboard/${chunk.slice(2)}`]) {
      const text = await (await fetch(`${base}${path}`)).text();
      // assert.ok, not doesNotMatch: a failure should not print 30 KB of minified code.
      const found = (re: RegExp): string | undefined => re.exec(text)?.[0];
      assert.equal(found(/\brequire\s*\(.{0,20}/), undefined, path);
      assert.equal(found(/node:.{0,20}/), undefined, `${path}: no node: built-in`);
      assert.equal(found(/(?:\bfrom|\bimport)\s*\(?\s*["']ws["']/), undefined, path);
      // Loaded in one request: no import statement; the one dynamic import is the client's, of its fallback chunk.
      assert.equal(found(/(?:^|[;}\n])\s*import(?:\s*[*{"']|\s+[\w$]).{0,40}/m), undefined, path);
      const dynamic = [...text.matchAll(/\bimport\s*\(\s*([^)]{0,60})\)/g)].map((match) => match[1]);
      assert.deepEqual(dynamic, path === '/switchboard/client.js' ? [`"${chunk}"`] : [], path);
    }
    const mod = (await import(pathToFileURL(BUNDLE.pathname).href)) as Record<string, unknown>;
    assert.equal(typeof mod.connect, 'function');
    assert.equal(typeof mod.ConnectionReason, 'object');
  });
});

describe('taking over and giving back the app’s request listeners', () => {
  test('a listener the app adds after attaching answers its routes, never the client’s; close() gives the listeners back', async () => {
    const http = createServer();
    const sb = new Switchboard(http);
    const late: RequestListener = (req, res) => app(req, res);
    http.on('request', late);
    const base = await listen(http);
    try {
      assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello from the app');
      const client = await fetch(`${base}/switchboard/client.js`);
      assert.equal(client.status, 200, 'not also answered by the late listener');
      assert.match(await client.text(), /^\/\* switchboard client /);
      await sb.close();
      assert.deepEqual(http.listeners('request'), [late]);
      const after = await fetch(`${base}/switchboard/client.js`);
      assert.equal(after.status, 404);
      assert.equal(await after.text(), 'app: no route GET /switchboard/client.js');
    } finally {
      await sb.close();
      await closeServer(http);
    }
  });

  test('another library taking over the same way (as Socket.IO does) keeps every request answered, before and after close()', async () => {
    const http = createServer(app);
    const sb = new Switchboard(http);
    // Socket.IO's attachServe: take the listeners, answer its own path, pass the rest on.
    const taken = http.listeners('request') as RequestListener[];
    http.removeAllListeners('request');
    const other: RequestListener = (req, res) => {
      if (req.url === '/other-lib.js') {
        res.end('other library');
        return;
      }
      for (const listener of taken) listener.call(http, req, res);
    };
    http.on('request', other);
    const base = await listen(http);
    try {
      await Promise.resolve(); // let a listener adoption (if any) happen
      assert.deepEqual(http.listeners('request'), [other]);
      assert.equal(await (await fetch(`${base}/other-lib.js`)).text(), 'other library');
      assert.equal((await fetch(`${base}/switchboard/client.js`)).status, 200);
      assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello from the app');
      await sb.close();
      assert.deepEqual(http.listeners('request'), [other], 'the other library’s chain is left in place');
      assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello from the app');
      assert.equal(await (await fetch(`${base}/switchboard/client.js`)).text(), 'app: no route GET /switchboard/client.js');
    } finally {
      await sb.close();
      await closeServer(http);
    }
  });

  test('close() restores the original listeners in order', async () => {
    const http = createServer(app);
    const second: RequestListener = () => {};
    http.on('request', second);
    const sb = new Switchboard(http);
    assert.equal(http.listeners('request').length, 1);
    await sb.close();
    assert.deepEqual(http.listeners('request'), [app, second]);
  });

  test('serveClient: false and WebSocket only leave the app’s server alone', async () => {
    const http = createServer(app);
    // The HTTP transports (long-polling, SSE) answer requests on the app's server too: only without them is it untouched.
    const sb = new Switchboard(http, { serveClient: false, transports: ['websocket'] });
    assert.deepEqual(http.listeners('request'), [app]);
    assert.equal(sb.clientPaths, undefined);
    const base = await listen(http);
    try {
      const res = await fetch(`${base}/switchboard/client.js`);
      assert.equal(res.status, 404);
      assert.equal(await res.text(), 'app: no route GET /switchboard/client.js');
    } finally {
      await sb.close();
      await closeServer(http);
    }
  });
});

test('a server Switchboard created on a port serves the client too, next to its 426 and 404', async () => {
  const sb = new Switchboard(0);
  await sb.ready();
  const base = `http://127.0.0.1:${sb.port}`;
  try {
    const res = await fetch(`${base}/switchboard/client.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const etag = res.headers.get('etag') as string;
    assert.ok(etag);
    assert.equal((await fetch(`${base}/switchboard/client.js`, { headers: { 'If-None-Match': etag } })).status, 304);
    assert.equal((await fetch(`${base}/switchboard/client-${version}.js`)).headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${base}/switchboard/client.js`, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(`${base}/ws`)).status, 426);
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
  } finally {
    await sb.close();
  }
});

describe('when the build is missing or stale', () => {
  /** A ClientBundle in front of the app on a plain server. */
  async function serve(bundle: ClientBundle): Promise<{ base: string; close: () => Promise<void> }> {
    const http = createServer(app);
    const restore = interceptRequests(http, (req: IncomingMessage, res: ServerResponse) => bundle.handle(req, res));
    const base = await listen(http);
    return {
      base,
      close: async () => {
        restore();
        await closeServer(http);
      },
    };
  }

  test('a missing file is a 500 that says to run npm run build:client, reported once; the server keeps working', async () => {
    const warnings: string[] = [];
    const bundle = new ClientBundle({ file: new URL('file:///nonexistent/switchboard-client.js'), version: '1.2.3', warn: (m) => warnings.push(m) });
    const { base, close } = await serve(bundle);
    try {
      for (const path of ['/switchboard/client.js', '/switchboard/client-1.2.3.js', '/switchboard/client.js.map']) {
        const res = await fetch(`${base}${path}`);
        assert.equal(res.status, 500, path);
        const text = await res.text();
        assert.match(text, /not built: switchboard-client\.js is missing\. Run `npm run build:client`/);
        assert.ok(!text.includes('/nonexistent'), 'the answer does not reveal server paths');
      }
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] as string, /npm run build:client.*File: \/nonexistent\/switchboard-client\.js \(ENOENT/);
      assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello from the app');
    } finally {
      await close();
    }
  });

  test('a build appearing later is picked up; a build of another version is refused (it would be cached for a year)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-bundle-'));
    const file = pathToFileURL(join(dir, 'switchboard-client.js'));
    const { base, close } = await serve(new ClientBundle({ file, version: '2.0.0' }));
    try {
      assert.equal((await fetch(`${base}/switchboard/client-2.0.0.js`)).status, 500);
      await writeFile(file, '/* switchboard client 1.9.0 — protocol switchboard.v1 */\nexport const x = 1;\n');
      const stale = await fetch(`${base}/switchboard/client-2.0.0.js`);
      assert.equal(stale.status, 500);
      assert.match(await stale.text(), /built for version 1\.9\.0, but this is 2\.0\.0\. Run `npm run build:client`/);
      await writeFile(file, '/* switchboard client 2.0.0 — protocol switchboard.v1 */\nexport const x = 2;\n');
      const fresh = await fetch(`${base}/switchboard/client-2.0.0.js`);
      assert.equal(fresh.status, 200);
      assert.match(await fresh.text(), /export const x = 2;/);
      const map = await fetch(`${base}/switchboard/client-2.0.0.js.map`);
      assert.equal(map.status, 500, 'no map was built');
      await map.text();
    } finally {
      await close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test('the bundle is as small as README.md and docs/API.md say (about N KB gzipped, M KB with brotli; the fallback chunk adds about K KB gzipped)', async () => {
  const js = await readFile(BUNDLE).catch(() => assert.fail('dist/browser/switchboard-client.js is missing: run `npm run build:client`'));
  const chunk = await readFile(new URL(await fallbackChunk(), BUNDLE));
  // Compressed as the server compresses it.
  const gzipped = (bytes: Buffer): number => gzipSync(bytes, { level: 9 }).length;
  const brotli = (bytes: Buffer): number =>
    brotliCompressSync(bytes, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length;
  const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
  /** "About N KB" holds from N - 1 (a figure much above the build is stale too) up to N.5 KB (1 KB = 1024 bytes). */
  const holds = (bytes: number, claim: string | undefined): boolean => bytes > (Number(claim) - 1) * 1024 && bytes <= (Number(claim) + 0.5) * 1024;
  for (const doc of ['README.md', 'docs/API.md']) {
    const text = await readFile(new URL(`../../${doc}`, import.meta.url), 'utf8');
    const lineOf = (index: number): number => text.slice(0, index).split('\n').length;
    const claims = [...text.matchAll(/about (\d+) KB gzipped, (\d+) KB with brotli/g)];
    assert.equal(claims.length, 1, `${doc} states the browser client's size once, as "about N KB gzipped, M KB with brotli"`);
    const [claim] = claims as [RegExpExecArray];
    const line = lineOf(claim.index);
    assert.ok(holds(gzipped(js), claim[1]), `${doc}:${line} says about ${claim[1]} KB gzipped; the build is ${kb(gzipped(js))} KB`);
    assert.ok(holds(brotli(js), claim[2]), `${doc}:${line} says about ${claim[2]} KB with brotli; the build is ${kb(brotli(js))} KB`);
    const chunkClaims = [...text.matchAll(/fallback transports add about (\d+) KB gzipped/g)];
    assert.equal(chunkClaims.length, 1, `${doc} states what the fallback chunk adds once, as "the fallback transports add about K KB gzipped"`);
    const [chunkClaim] = chunkClaims as [RegExpExecArray];
    assert.ok(
      holds(gzipped(chunk), chunkClaim[1]),
      `${doc}:${lineOf(chunkClaim.index)} says the fallback transports add about ${chunkClaim[1]} KB gzipped; the chunk is ${kb(gzipped(chunk))} KB`,
    );
  }
});
