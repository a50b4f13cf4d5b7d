import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLOCK_TICKS } from '../cpu.js';
import { SERVER_CORE } from '../server-process.js';

/**
 * One node of a bench cluster as a child process, like ../server-process.ts's
 * ServerProcess (which only starts the single-server files it knows): `taskset -c 1 node
 * --import tsx <file>`, commands over IPC, CPU time from /proc. Every node of a cluster
 * shares core 1; the load generator keeps core 0.
 */
export class NodeProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Record<string, unknown>) => void>();
  private exited = false;

  private constructor(
    readonly name: string,
    readonly port: number,
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

  /** Start `file` (relative to this folder) with `env` added, once it announced its port. */
  static async start(name: string, file: string, env: Record<string, string>): Promise<NodeProcess> {
    const path = fileURLToPath(new URL(file, import.meta.url));
    // BENCH_SERVER_FLAGS adds Node flags, as for ../server-process.ts (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof').
    const extra = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
    const child = spawn('taskset', ['-c', String(SERVER_CORE), process.execPath, '--expose-gc', ...extra, '--import', 'tsx', path], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production', ...env },
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
      child.on('message', (msg: { type?: string; port?: number }) => {
        if (msg.type !== 'ready') return;
        clearTimeout(timer);
        resolve(msg.port as number);
      });
    });
    return new NodeProcess(name, port, child);
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

  /** CPU seconds (user + system, all threads) used so far. */
  cpuSeconds(): number {
    return processCpuSeconds(this.pid);
  }

  /** Close the IPC channel, on which the node exits (harness.ts); SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

/** CPU seconds of any process from /proc/<pid>/stat; NaN when it cannot be read. */
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
