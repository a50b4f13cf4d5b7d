/**
 * socket.io-client's browser bundles under the front door's path, as socket.io's
 * `serveClient` serves them: `{path}socket.io.js`, `socket.io.min.js`,
 * `socket.io.esm.min.js` and their source maps, from the installed `socket.io-client`
 * package (an optional peer: when it is not installed the answer says how to install it).
 * The msgpack bundle is left out: it speaks a parser this server does not.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Cors } from '../../server/cors.js';

/** The files served, as socket.io names them. */
export const SOCKET_IO_CLIENT_FILES: readonly string[] = [
  'socket.io.js',
  'socket.io.js.map',
  'socket.io.min.js',
  'socket.io.min.js.map',
  'socket.io.esm.min.js',
  'socket.io.esm.min.js.map',
];

const METHODS = ['GET', 'HEAD'] as const;

/** Where the installed socket.io-client is: its dist folder and version; undefined when it is not installed. */
export interface SocketIoClientPackage {
  dist: string;
  version: string;
}

/** The installed `socket.io-client`, found as this module would import it. */
export function findSocketIoClient(): SocketIoClientPackage | undefined {
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve('socket.io-client/package.json');
    const { version } = require(manifest) as { version?: unknown };
    return { dist: join(dirname(manifest), 'dist'), version: typeof version === 'string' ? version : 'unknown' };
  } catch {
    return undefined;
  }
}

interface File {
  body: Buffer;
  etag: string;
}

export interface SocketIoClientBundleOptions {
  /** The front door's path, with its trailing slash. */
  path: string;
  /** Which pages on other origins may load the bundles. */
  cors: Cors;
  /** Finds the package; default findSocketIoClient (tests pass another). */
  find?: () => SocketIoClientPackage | undefined;
}

export class SocketIoClientBundle {
  private readonly names = new Map<string, string>();
  private readonly files = new Map<string, Promise<File>>();
  private readonly find: () => SocketIoClientPackage | undefined;

  constructor(private readonly options: SocketIoClientBundleOptions) {
    for (const name of SOCKET_IO_CLIENT_FILES) this.names.set(`${options.path}${name}`, name);
    this.find = options.find ?? findSocketIoClient;
  }

  /** Answer `req` if it asks for a bundle; false (and `res` untouched) otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const pathname = (req.url ?? '/').split('?', 1)[0] as string;
    const name = this.names.get(pathname);
    if (name === undefined) return false;
    if (this.options.cors.handle(req, res, METHODS)) return true;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, `${pathname} only answers GET and HEAD.`, { Allow: METHODS.join(', ') });
      return true;
    }
    const found = this.find();
    if (found === undefined) {
      sendText(res, 404, `${pathname} comes from the socket.io-client package, which is not installed: run \`npm install socket.io-client\` beside this server.`);
      return true;
    }
    this.file(found, name)
      .then((file) => send(req, res, file, name.endsWith('.map')))
      .catch(() => {
        this.files.delete(`${found.dist}/${name}`);
        sendText(res, 404, `${pathname} is missing from the installed socket.io-client ${found.version}; reinstall it with \`npm install socket.io-client\`.`);
      })
      .catch(() => res.destroy());
    return true;
  }

  /** Read once per installed version: its ETag is the version, as socket.io's is. */
  private file(found: SocketIoClientPackage, name: string): Promise<File> {
    const key = `${found.dist}/${name}`;
    let file = this.files.get(key);
    if (!file) {
      file = readFile(join(found.dist, name)).then((body) => ({ body, etag: `"${found.version}"` }));
      this.files.set(key, file);
    }
    return file;
  }
}

function send(req: IncomingMessage, res: ServerResponse, file: File, isMap: boolean): void {
  const headers = { ETag: file.etag, 'Cache-Control': 'public, max-age=0', 'X-Content-Type-Options': 'nosniff' };
  const match = req.headers['if-none-match'];
  if (match !== undefined && match.split(',').some((tag) => [file.etag, `W/${file.etag}`].includes(tag.trim()))) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const type = isMap ? 'application/json; charset=utf-8' : 'application/javascript; charset=utf-8';
  res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': file.body.length });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}
