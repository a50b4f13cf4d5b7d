import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's nginx (packages `nginx` or `nginx-light`); `npm test` installs it on a fresh machine (scripts/test-prerequisites.mjs). */
export const NGINX_BINARY = process.env.NGINX_BINARY ?? '/usr/sbin/nginx';

/** How long nginx may take to accept connections, and to exit when stopped. */
const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 3000;

export interface NginxOptions {
  /**
   * The `http { }` context: maps, upstreams, servers. Called with the loopback port this
   * nginx must listen on (each `listen` names it: `listen 127.0.0.1:${port}`).
   */
  http: (port: number) => string;
}

/**
 * A real nginx on a free loopback port, run in the foreground as a child of the test, as
 * the current user: its config, pid, logs and temp files live in a fresh directory, so it
 * never touches /etc/nginx, /var/log or /var/lib, and never runs as a system service.
 */
export class Nginx {
  private readonly exited: Promise<void>;
  private constructor(
    private readonly child: ChildProcess,
    /** The temp directory: nginx.conf, logs, pid and temp paths. */
    readonly prefix: string,
    readonly port: number,
    private readonly stderr: () => string,
  ) {
    this.exited = new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  }

  /** Start nginx with the given http context; rejects with nginx's own complaint when the config is wrong. */
  static async start(options: NginxOptions): Promise<Nginx> {
    assertInstalled();
    // A free port found here may be taken before nginx binds it: try a few.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freeLoopbackPort();
      try {
        return await Nginx.startOn(port, options);
      } catch (err) {
        lastError = err;
        if (!String((err as Error).message).includes('Address already in use')) throw err;
      }
    }
    throw lastError;
  }

  private static async startOn(port: number, options: NginxOptions): Promise<Nginx> {
    const prefix = mkdtempSync(join(tmpdir(), 'switchboard-nginx-'));
    const confFile = join(prefix, 'nginx.conf');
    writeFileSync(confFile, mainConfig(prefix, options.http(port)));
    // Its own process group: workers outlive a killed master, so a kill must reach the whole group.
    const child = spawn(NGINX_BINARY, ['-p', `${prefix}/`, '-c', confFile, '-e', join(prefix, 'error.log'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    const nginx = new Nginx(child, prefix, port, () => stderr);
    live.set(child, prefix);
    try {
      await nginx.acceptingConnections();
    } catch (err) {
      await nginx.stop();
      throw err;
    }
    return nginx;
  }

  /** The `access_log` lines so far (format of this helper: `$request $status $upstream_status`). */
  accessLog(): string[] {
    return readOr(join(this.prefix, 'access.log'))
      .split('\n')
      .filter((line) => line !== '');
  }

  /** nginx's error log so far (upstream timeouts, refused upgrades, config warnings). */
  errorLog(): string {
    return readOr(join(this.prefix, 'error.log'));
  }

  /** Fast shutdown (SIGTERM), SIGKILL if it hangs; removes the temp directory. Safe to call twice. */
  async stop(): Promise<void> {
    live.delete(this.child);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(this.child), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.prefix, { recursive: true, force: true });
  }

  private async acceptingConnections(): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`nginx exited at start (code ${this.child.exitCode ?? this.child.signalCode}): ${this.complaint()}`);
      }
      if (await canConnect(this.port)) return;
      if (Date.now() - started > START_TIMEOUT_MS) {
        throw new Error(`nginx did not accept connections on 127.0.0.1:${this.port} within ${START_TIMEOUT_MS} ms: ${this.complaint()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private complaint(): string {
    return (this.stderr() + this.errorLog()).trim() || '(nothing on stderr or in the error log)';
  }
}

/** nginx masters of this test process and their directories, cleaned up if it exits without stopping them (a crash). */
const live = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, prefix] of live) {
    killGroup(child);
    rmSync(prefix, { recursive: true, force: true });
  }
});

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * The main context around the app's http block: everything nginx would write under /var
 * goes to the prefix. As root the master would hand workers to `nobody`, who cannot write
 * the temp directory, so workers stay the current user.
 */
function mainConfig(prefix: string, http: string): string {
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  return `# Generated by test/helpers/nginx.ts
${user}worker_processes 1;
pid ${prefix}/nginx.pid;
lock_file ${prefix}/nginx.lock;
error_log ${prefix}/error.log info;

events {
    worker_connections 256;
}

http {
    default_type application/octet-stream;
    log_format switchboard '$request $status $upstream_status';
    access_log ${prefix}/access.log switchboard;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;

${http}
}
`;
}

function assertInstalled(): void {
  try {
    accessSync(NGINX_BINARY, constants.X_OK);
  } catch {
    throw new Error(
      `The nginx proxy tests need a real nginx at ${NGINX_BINARY} and there is none. ` +
        'Install Debian\'s package: apt-get install nginx (or nginx-light) — npm test does this as root — ' +
        'or point NGINX_BINARY at an nginx binary.',
    );
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** docs/DEPLOYMENT.md, whose nginx blocks the proxy tests run as written. */
const DEPLOYMENT_MD = new URL('../../docs/DEPLOYMENT.md', import.meta.url);

/** The ```nginx block of docs/DEPLOYMENT.md that follows `marker` (a comment naming the test that runs it). */
export function documentedNginxBlock(marker: string): string {
  const doc = readFileSync(DEPLOYMENT_MD, 'utf8');
  const at = doc.indexOf(marker);
  if (at === -1) throw new Error(`docs/DEPLOYMENT.md lost its marker comment "${marker}"`);
  const block = /```nginx\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!block) throw new Error(`docs/DEPLOYMENT.md has no \`\`\`nginx block after "${marker}"`);
  return block[1] as string;
}

/** Replace every line whose text (trimmed) is `line` or matches it, keeping its indent; there must be one. */
export function replaceLines(text: string, line: string | RegExp, replacement: string[]): string {
  let found = false;
  const out = text.split('\n').flatMap((current) => {
    const trimmed = current.trim();
    if (typeof line === 'string' ? trimmed !== line : !line.test(trimmed)) return [current];
    found = true;
    const indent = current.slice(0, current.length - current.trimStart().length);
    return replacement.map((r) => indent + r);
  });
  if (!found) throw new Error(`the nginx configuration in docs/DEPLOYMENT.md has no line ${String(line)}: the doc changed, update the test with it`);
  return out.join('\n');
}

