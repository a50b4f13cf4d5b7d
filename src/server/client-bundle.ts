import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { Cors } from './cors.js';

/** Where pages import the browser client from: `import { connect } from '/switchboard/client.js'`. */
export const CLIENT_PATH = '/switchboard/client.js';
/**
 * Where the client's lazily loaded chunks are (the fallback transports): `./chunks/` from
 * either client path, as the bundle imports them. Their names carry a hash of their content.
 */
const CHUNKS_PATH = '/switchboard/chunks/';
/** A chunk's file name, or its source map's, as the build names them: no path, nothing else. */
const CHUNK_NAME = /^[\w-]+\.js(?:\.map)?$/;

// Relative to this module, which is src/server/ when run from source and dist/server/ when built.
const BUNDLE_URL = new URL('../../dist/browser/switchboard-client.js', import.meta.url);
const PACKAGE_URL = new URL('../../package.json', import.meta.url);

const REVALIDATE = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const JS_TYPE = 'text/javascript; charset=utf-8';
const MAP_TYPE = 'application/json; charset=utf-8';
const METHODS = ['GET', 'HEAD'] as const;

/** Something to send: its bytes, their ETag and the headers of a 200. */
interface Asset {
  body: Buffer;
  etag: string;
  type: string;
  /** The same bytes compressed, made on the first request that accepts each encoding. */
  encoded: Map<ContentCoding, Promise<Buffer>>;
}

/** The compressions served, best first: brotli is ~10% smaller than gzip on the bundle. */
type ContentCoding = 'br' | 'gzip';
const CODINGS: readonly ContentCoding[] = ['br', 'gzip'];
const compressors: Record<ContentCoding, (body: Buffer) => Promise<Buffer>> = {
  // Once per process and file, off the event loop: the best compression is worth its ~150 ms.
  br: (body) => promisify(brotliCompress)(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
  gzip: (body) => promisify(gzip)(body, { level: 9 }),
};

/** The built bundle as read from disk, once. */
interface Build {
  js: string;
  map: Buffer | undefined;
  /** The files of the chunks/ directory beside it (chunks and their source maps), by name. */
  chunks: Map<string, Buffer>;
}

/** One of the served paths: which file, and whether its URL names a version or a content hash (and so never changes). */
interface Route {
  kind: 'js' | 'map' | 'chunk';
  immutable: boolean;
}

const CHUNK_ROUTE: Route = { kind: 'chunk', immutable: true };

export interface ClientBundleOptions {
  /** The built bundle; its source map is the same path + `.map`, its chunks in `chunks/` beside it. Default dist/browser/switchboard-client.js of this package. */
  file?: URL;
  /** The version in the immutable path. Default: this package's version. */
  version?: string;
  /** Told once per failure streak when the bundle cannot be served (missing build, unreadable file). */
  warn?: (message: string) => void;
  /** Which pages on other origins may load the client. Default: any (`Access-Control-Allow-Origin: *`). */
  cors?: Cors;
}

/**
 * Serves the browser build of the client SDK, so a page can import it with no build step:
 * `/switchboard/client.js` (revalidated through its ETag, so a deploy is picked up at once)
 * and `/switchboard/client-<version>.js` (cached for a year: the URL changes with the
 * version), each with its source map, and the chunks the client loads when it needs them
 * (`/switchboard/chunks/<name>-<hash>.js`, cached for a year: the name changes with the
 * content). The files are read on the first request and kept, all together, so the client
 * and its chunks always come from the same build.
 */
export class ClientBundle {
  readonly version: string | undefined;
  private readonly file: URL;
  private readonly warn: (message: string) => void;
  private readonly routes = new Map<string, Route>();
  private build: Promise<Build> | undefined;
  private readonly assets = new Map<string, Asset>();
  private failing = false;
  private readonly cors: Cors;

  constructor(options: ClientBundleOptions = {}) {
    this.file = options.file ?? BUNDLE_URL;
    this.version = options.version ?? packageVersion();
    this.warn = options.warn ?? (() => {});
    this.cors = options.cors ?? Cors.anyOrigin();
    this.routes.set(CLIENT_PATH, { kind: 'js', immutable: false });
    this.routes.set(`${CLIENT_PATH}.map`, { kind: 'map', immutable: false });
    if (this.version !== undefined) {
      this.routes.set(this.versionedPath as string, { kind: 'js', immutable: true });
      this.routes.set(`${this.versionedPath}.map`, { kind: 'map', immutable: true });
    }
  }

  /** How HTTP answers name the file: relative to the package, so they do not reveal the server's directories. */
  private get label(): string {
    return this.file.href === BUNDLE_URL.href ? 'dist/browser/switchboard-client.js' : basename(fileURLToPath(this.file));
  }

  /** The path that is cached for good: `/switchboard/client-<version>.js`. */
  get versionedPath(): string | undefined {
    return this.version === undefined ? undefined : `/switchboard/client-${this.version}.js`;
  }

  /** Answer `req` if it asks for the bundle; false (and `res` untouched) for any other path. Compressed when Accept-Encoding allows. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const pathname = (req.url ?? '/').split('?', 1)[0] as string;
    const route = this.routes.get(pathname) ?? (pathname.startsWith(CHUNKS_PATH) && CHUNK_NAME.test(pathname.slice(CHUNKS_PATH.length)) ? CHUNK_ROUTE : undefined);
    if (!route) return false;
    // A module script on another origin is fetched in CORS mode: only allowed origins may import it.
    if (this.cors.handle(req, res, METHODS)) return true;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, `${pathname} only answers GET and HEAD.`, { Allow: METHODS.join(', ') });
      return true;
    }
    this.asset(pathname, route)
      .then(
        (asset) => send(req, res, asset, route.immutable ? IMMUTABLE : REVALIDATE),
        (error: Error) =>
          error instanceof BundleError ? sendText(res, error.status, error.message) : sendText(res, 500, 'The Switchboard browser client cannot be served.'),
      )
      .catch(() => res.destroy()); // the response could not be written: never an unhandled rejection
    return true;
  }

  private async asset(pathname: string, route: Route): Promise<Asset> {
    const cached = this.assets.get(pathname);
    if (cached) return cached;
    const build = await this.load();
    let asset: Asset;
    if (route.kind === 'chunk') {
      const name = pathname.slice(CHUNKS_PATH.length);
      const chunk = build.chunks.get(name);
      if (!chunk) throw new BundleError(`${pathname} is not part of this build of the Switchboard browser client.`, new URL(`chunks/${name}`, this.file), undefined, 404);
      asset = toAsset(chunk, name.endsWith('.map') ? MAP_TYPE : JS_TYPE);
    } else if (route.kind === 'js') {
      // The build points at switchboard-client.js.map; each path gets the map beside it, with the same caching.
      const mapName = `${pathname.slice(pathname.lastIndexOf('/') + 1)}.map`;
      const js = build.map ? build.js.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${mapName}\n`) : build.js;
      asset = toAsset(Buffer.from(js), JS_TYPE);
    } else if (build.map) {
      asset = toAsset(build.map, MAP_TYPE);
    } else {
      throw new BundleError(`The source map ${this.label}.map is missing. Run \`npm run build:client\` in the switchboard package.`, new URL(`${this.file.href}.map`));
    }
    this.assets.set(pathname, asset);
    return asset;
  }

  /** Read the build once. A failure is not kept: the next request tries again, so building while the server runs fixes it. */
  private load(): Promise<Build> {
    this.build ??= this.read().then(
      (build) => {
        this.failing = false;
        return build;
      },
      (error: BundleError) => {
        this.build = undefined;
        if (!this.failing) this.warn(error.detail);
        this.failing = true;
        throw error;
      },
    );
    return this.build;
  }

  private async read(): Promise<Build> {
    let js: string;
    try {
      js = await readFile(this.file, 'utf8');
    } catch (cause) {
      const why = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'cannot be read';
      throw new BundleError(`The Switchboard browser client is not built: ${this.label} ${why}. Run \`npm run build:client\` in the switchboard package.`, this.file, cause);
    }
    const map = await readFile(new URL(`${this.file.href}.map`)).catch(() => undefined);
    // The build script's banner names the version it was built from.
    const builtVersion = /^\/\* switchboard client (\S+) /.exec(js)?.[1];
    if (builtVersion !== undefined && this.version !== undefined && builtVersion !== this.version) {
      // Serving it would put old code under the new version's immutable URL, cached for a year.
      throw new BundleError(
        `The Switchboard browser client ${this.label} was built for version ${builtVersion}, but this is ${this.version}. Run \`npm run build:client\`.`,
        this.file,
      );
    }
    return { js, map, chunks: await readChunks(new URL('chunks/', this.file)) };
  }
}

/**
 * Put `answer` in front of the app's `request` listeners on a server the app owns, as
 * Socket.IO does: it answers its own paths, and every other request goes to the app's
 * listeners, in their order, exactly as before. Returns a function that puts them back.
 */
export function interceptRequests(server: HttpServer, answer: (req: IncomingMessage, res: ServerResponse) => boolean): () => void {
  type Listener = (this: HttpServer, req: IncomingMessage, res: ServerResponse) => void;
  const appListeners = server.rawListeners('request') as Listener[];
  let active = true;
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    if (active && answer(req, res)) return;
    for (const listener of appListeners) listener.call(server, req, res);
  };
  // Another library that takes over the same way (Socket.IO, a second Switchboard) removes
  // this dispatcher and calls it from its own: then the chain is theirs to keep.
  const onTop = (): boolean => server.rawListeners('request').includes(dispatch);
  // A listener the app adds later would answer our paths a second time: move it behind the
  // dispatcher. A microtask runs before the server can dispatch another request.
  const adoptLate = (): void => {
    if (!onTop()) return;
    for (const listener of server.rawListeners('request') as Listener[]) {
      if (listener === dispatch) continue;
      server.removeListener('request', listener);
      appListeners.push(listener);
    }
  };
  const onNewListener = (event: string | symbol): void => {
    if (event === 'request') queueMicrotask(adoptLate);
  };
  server.removeAllListeners('request');
  server.on('request', dispatch);
  server.on('newListener', onNewListener);
  return () => {
    server.off('newListener', onNewListener);
    active = false;
    // Wrapped by a later taker-over: it still calls the dispatcher, which now passes everything on.
    if (!onTop()) return;
    const added = (server.rawListeners('request') as Listener[]).filter((listener) => listener !== dispatch);
    server.removeAllListeners('request');
    for (const listener of [...appListeners, ...added]) server.on('request', listener);
  };
}

/** The chunks a build made, by file name; none when the directory is missing (a build without chunks). */
async function readChunks(dir: URL): Promise<Map<string, Buffer>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const chunks = new Map<string, Buffer>();
  for (const name of names.filter((n) => CHUNK_NAME.test(n))) chunks.set(name, await readFile(new URL(name, dir)));
  return chunks;
}

/** A bundle that cannot be served. `message` is for the HTTP answer; `detail` (with the full path and cause) for the server's log. */
class BundleError extends Error {
  readonly detail: string;

  constructor(
    message: string,
    file: URL,
    cause?: unknown,
    readonly status = 500,
  ) {
    super(message, { cause });
    const why = cause instanceof Error ? ` (${cause.message})` : '';
    this.detail = `${message} File: ${fileURLToPath(file)}${why}`;
  }
}

function toAsset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, encoded: new Map() };
}

/** One form of an asset: its bytes as sent, their coding (none: as is) and their ETag. */
interface Representation {
  body: Buffer;
  coding: ContentCoding | undefined;
  etag: string;
}

/** The asset as `req` accepts it: brotli or gzip when Accept-Encoding allows (and compressing worked), else as is. */
async function representation(req: IncomingMessage, asset: Asset): Promise<Representation> {
  const coding = preferredCoding(req.headers['accept-encoding']);
  if (coding !== undefined) {
    let encoded = asset.encoded.get(coding);
    if (!encoded) {
      encoded = compressors[coding](asset.body);
      asset.encoded.set(coding, encoded);
    }
    const body = await encoded.catch(() => undefined);
    if (body) return { body, coding, etag: variantTag(asset.etag, coding) };
  }
  return { body: asset.body, coding: undefined, etag: asset.etag };
}

/** A compressed form is another representation (RFC 9110 8.8.3): it gets its own strong ETag. */
function variantTag(etag: string, coding: ContentCoding): string {
  return `${etag.slice(0, -1)}-${coding}"`;
}

async function send(req: IncomingMessage, res: ServerResponse, asset: Asset, cacheControl: string): Promise<void> {
  const sent = await representation(req, asset);
  const headers = {
    ETag: sent.etag,
    'Cache-Control': cacheControl,
    // The answer depends on Accept-Encoding (as on Origin, which CORS put there): a shared
    // cache must not give brotli to a client without it.
    Vary: varyAlso(res, 'Accept-Encoding'),
    'X-Content-Type-Options': 'nosniff',
  };
  // Any form of the same bytes is still fresh: the client keeps whichever it has.
  if (etagMatches(req.headers['if-none-match'], [asset.etag, ...CODINGS.map((coding) => variantTag(asset.etag, coding))])) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const coding = sent.coding === undefined ? {} : { 'Content-Encoding': sent.coding };
  res.writeHead(200, { ...headers, ...coding, 'Content-Type': asset.type, 'Content-Length': sent.body.length });
  res.end(req.method === 'HEAD' ? undefined : sent.body);
}

/** The Vary already set on `res` with `header` added: headers given to writeHead replace those set before. */
function varyAlso(res: ServerResponse, header: string): string {
  const earlier = res.getHeader('Vary');
  const names = earlier === undefined ? [] : String(earlier).split(',').map((name) => name.trim());
  return [...names.filter((name) => name !== '' && name.toLowerCase() !== header.toLowerCase()), header].join(', ');
}

/**
 * The best coding an Accept-Encoding header accepts (RFC 9110 12.5.3), brotli before gzip
 * at equal weight: `q=0` refuses a coding, `*` stands for any coding not named.
 */
function preferredCoding(header: string | undefined): ContentCoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.toLowerCase().split(';').map((piece) => piece.trim());
    const q = params.find((param) => param.startsWith('q='));
    weights.set(name, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  let best: ContentCoding | undefined;
  let bestWeight = 0;
  for (const coding of CODINGS) {
    const weight = weights.get(coding) ?? weights.get('*') ?? 0;
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }
  return best;
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/` is ignored, `*` matches anything. */
function etagMatches(header: string | undefined, etags: readonly string[]): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || etags.includes(t.startsWith('W/') ? t.slice(2) : t);
  });
}

function packageVersion(): string | undefined {
  try {
    const { version } = JSON.parse(readFileSync(PACKAGE_URL, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}
