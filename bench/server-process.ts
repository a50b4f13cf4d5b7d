import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLOCK_TICKS } from './cpu.js';
import type { ServerName } from './load/dialects.js';

const SERVER_FILES: Record<ServerName, string> = {
  switchboard: 'servers/switchboard.ts',
  'switchboard-noresume': 'servers/switchboard-noresume.ts',
  'ws-naive': 'servers/ws-naive.ts',
  'ws-coalesced': 'servers/ws-coalesced.ts',
  'socket.io': 'servers/socketio.ts',
  'switchboard-socketio': 'servers/switchboard-socketio.ts',
};

/** The core servers run on; the load generator (this process) keeps core 0. */
export const SERVER_CORE = 1;
export const LOADER_CORE = 0;


/**
 * One server under test as a child process: `taskset -c 1 node --expose-gc --import tsx
 * bench/servers/<name>.ts` (taskset execs node, so the pid is the server's). Commands go
 * over IPC; CPU time is read from /proc.
 */
export class ServerProcess<N extends string = ServerName> {
  port = 0;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Record<string, unknown>) => void>();
  private exited = false;

  private constructor(
    readonly name: N,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (msg: { id?: number } & Record<string, unknown>) => {
      if (msg.id === undefined) return;
      this.pending.get(msg.id)?.(msg);
      this.pending.delete(msg.id);
    });
    child.on('exit', () => {
      this.exited = true;
    });
  }

  static start(name: ServerName): Promise<ServerProcess<ServerName>> {
    return ServerProcess.startFile(name, fileURLToPath(new URL(SERVER_FILES[name], import.meta.url)));
  }

  /**
   * Any server file that speaks the harness's IPC (`ready` with its port, then commands):
   * the servers above, or the nodes of a bench cluster (bench/cluster/), with `env` added.
   */
  static async startFile<N extends string>(name: N, file: string, env: Record<string, string> = {}): Promise<ServerProcess<N>> {
    // BENCH_SERVER_FLAGS adds Node flags to the servers, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile them.
    const extra = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
    const child = spawn('taskset', ['-c', String(SERVER_CORE), process.execPath, '--expose-gc', ...extra, '--import', 'tsx', file], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production', ...env },
    });
    const server = new ServerProcess(name, child);
    server.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
      child.on('message', (msg: { type?: string; port?: number }) => {
        if (msg.type !== 'ready') return;
        clearTimeout(timer);
        resolve(msg.port as number);
      });
    });
    return server;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  command<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply as T);
      });
      this.child.send({ id, cmd, ...args });
    });
  }

  /** CPU seconds (user + system, all threads) the server has used so far. */
  cpuSeconds(): number {
    return processCpuSeconds(this.pid);
  }

  /** Close the IPC channel, on which the server exits by itself (writing a profile if asked to); SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

/** CPU seconds (user + system) of any process, from /proc/<pid>/stat; NaN when it cannot be read. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
