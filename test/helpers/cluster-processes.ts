import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_FIXTURE = fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url));
const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface NodeOptions {
  name: string;
  redisUrl: string;
  prefix: string;
  /** Short presence liveness for crash tests (the adapter's presence.nodeTtl / renewInterval). */
  presence?: { nodeTtl: number; renewInterval: number };
  /** The Switchboard option `socketIo` (JSON-able): the node serves Socket.IO clients too. */
  socketIo?: Record<string, unknown>;
}

/** A free loopback port (closed again: a short race with other processes is acceptable in tests). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolve with the first stdout line matching `pattern`; reject if the process ends first or after `ms`. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string, ms: number, output: () => string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => finish(new Error(`${what}: no line matching ${pattern} within ${ms} ms; output:\n${output()}`)), ms);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const match = buffered.match(pattern);
      if (match) finish(undefined, match);
    };
    const onExit = (code: number | null, signal: string | null): void => finish(new Error(`${what} exited (${code ?? signal}) before ready; output:\n${output()}`));
    const finish = (err?: Error, match?: RegExpMatchArray): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(match as RegExpMatchArray);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** A Switchboard node in its own process (test/fixtures/cluster-node.ts). */
export class ClusterProcess {
  /** Everything the process wrote, for failure messages (and REDIS/ERROR lines the tests may check). */
  output = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  static async start(options: NodeOptions): Promise<ClusterProcess> {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', REDIS_URL: options.redisUrl, PREFIX: options.prefix, NODE_NAME: options.name };
    if (options.presence) {
      env.PRESENCE_TTL_MS = String(options.presence.nodeTtl);
      env.PRESENCE_RENEW_MS = String(options.presence.renewInterval);
    }
    if (options.socketIo) env.SOCKETIO = JSON.stringify(options.socketIo);
    const child = spawn(process.execPath, ['--import', 'tsx', NODE_FIXTURE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const record = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout.on('data', record);
    child.stderr.on('data', record);
    try {
      const [, port] = await waitForLine(child, /READY (\d+)/, `cluster node ${options.name}`, 20_000, () => output);
      const node = new ClusterProcess(options.name, child, Number(port));
      child.stdout.off('data', record);
      child.stderr.off('data', record);
      node.output = output;
      child.stdout.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
      return node;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  url(path = '/ws'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A crash: no cleanup, no goodbye to Redis or to the clients. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** A clean shutdown (SIGTERM: the node closes its server and leaves the cluster). */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Start `names.length` nodes of one cluster, in parallel. */
export function startNodes(names: readonly string[], options: Omit<NodeOptions, 'name'>): Promise<ClusterProcess[]> {
  return Promise.all(names.map((name) => ClusterProcess.start({ ...options, name })));
}

/**
 * A redis-server of a test's own, on a free port with its data in a temp dir, that the test
 * may stop and start again (same port, same dir). Append-only with fsync on every write, so
 * what Redis acknowledged survives a restart.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    /** Append-only file with `appendfsync always`; without, a restart starts empty. */
    readonly persistent: boolean,
  ) {}

  static async start(options: { persistent?: boolean } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'sb-redis-')), options.persistent ?? true);
    await redis.startAgain();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Start (again) on the same port and dir; resolves once it accepts connections. */
  async startAgain(): Promise<void> {
    if (this.child) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...(this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']), '--save', '', '--daemonize', 'no'];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await waitForLine(child, /Ready to accept connections/, `redis-server on ${this.port}`, 10_000, () => this.output);
    this.child = child;
  }

  /** SIGTERM, as an orderly restart does; resolves once the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }

  /** Stop for good and remove its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
