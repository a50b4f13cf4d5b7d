/**
 * The runner's side of the load processes (editors.ts): started pinned to the load core,
 * given their share of the editors, and driven through each step together.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOADER_CORE, processCpuSeconds } from '../server-process.js';
import type { EditorKind } from './editor-clients.js';
import { monotonicUs } from './workload.js';

const EDITORS_FILE = fileURLToPath(new URL('editors.ts', import.meta.url));

type Reply = Record<string, unknown> & { error?: string };

class LoadProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: Reply & { id?: number }) => {
      if (msg.id === undefined) return;
      const waiter = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) waiter?.reject(new Error(`load process ${child.pid}: ${msg.error}`));
      else waiter?.resolve(msg);
    });
    child.on('exit', (code) => {
      for (const w of this.pending.values()) w.reject(new Error(`load process ${child.pid} exited with ${code}`));
      this.pending.clear();
    });
  }

  static async start(): Promise<LoadProcess> {
    // BENCH_LOAD_FLAGS adds Node flags to the load processes, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
    const extra = (process.env.BENCH_LOAD_FLAGS ?? '').split(' ').filter(Boolean);
    const child = spawn('taskset', ['-c', String(LOADER_CORE), process.execPath, ...extra, '--import', 'tsx', EDITORS_FILE], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, NODE_ENV: 'production' },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('a load process did not start within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`a load process exited with ${code} before it was ready`)));
      child.on('message', (msg: { type?: string }) => {
        if (msg.type !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
    });
    return new LoadProcess(child);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  command<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T & Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: Reply) => void, reject });
      this.child.send({ id, cmd, ...args });
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    return gone.finally(() => clearTimeout(timer));
  }
}

export interface StepPlan {
  /** Edits per second per editor. */
  rate: number;
  warmupMs: number;
  measureMs: number;
  tailMs: number;
}

export interface StepOutcome {
  sentBy: number[];
  lateP99Us: number;
  lateMaxUs: number;
  inWindow: number;
  updatesInWindow: number;
  received: number;
  missing: number;
  drainMs: number;
  latenciesUs: Float64Array;
}

/** The editors of one system, spread over the load processes. */
export class EditorLoad {
  private constructor(
    private readonly processes: LoadProcess[],
    readonly editors: number,
  ) {}

  static async open(kind: EditorKind, port: number, editors: number, processes: number): Promise<EditorLoad> {
    const started: LoadProcess[] = [];
    try {
      for (let i = 0; i < processes; i++) started.push(await LoadProcess.start());
      let first = 0;
      for (let i = 0; i < processes; i++) {
        const count = Math.floor(editors / processes) + (i < editors % processes ? 1 : 0);
        await (started[i] as LoadProcess).command('open', { kind, port, count, first, total: editors });
        first += count;
      }
    } catch (err) {
      await Promise.all(started.map((p) => p.stop()));
      throw err;
    }
    return new EditorLoad(started, editors);
  }

  get pids(): number[] {
    return this.processes.map((p) => p.pid);
  }

  cpuSeconds(): number {
    return this.processes.reduce((s, p) => s + processCpuSeconds(p.pid), 0);
  }

  /**
   * The stamps are only comparable if every load process reads the runner's clock: each
   * reading must fall between the runner's readings before and after asking.
   */
  async checkClock(): Promise<void> {
    for (const p of this.processes) {
      const before = monotonicUs();
      const { us } = await p.command<{ us: number }>('clock');
      const after = monotonicUs();
      if (us < before || us > after) throw new Error(`load process ${p.pid} reads another monotonic clock (${us} not within ${before}…${after})`);
    }
  }

  /** Every process starts the step at `startUs`; resolves once they have all stopped editing. */
  async step(startUs: number, plan: StepPlan): Promise<Omit<StepOutcome, 'inWindow' | 'updatesInWindow' | 'received' | 'missing' | 'drainMs' | 'latenciesUs'>> {
    const replies = await Promise.all(this.processes.map((p) => p.command<{ sent: number[]; lateP99Us: number; lateMaxUs: number }>('step', { startUs, ...plan })));
    return {
      sentBy: replies.flatMap((r) => r.sent),
      lateP99Us: Math.max(...replies.map((r) => r.lateP99Us)),
      lateMaxUs: Math.max(...replies.map((r) => r.lateMaxUs)),
    };
  }

  async drain(sentBy: number[]): Promise<Pick<StepOutcome, 'inWindow' | 'updatesInWindow' | 'received' | 'missing' | 'drainMs' | 'latenciesUs'>> {
    const replies = await Promise.all(
      this.processes.map((p) => p.command<{ inWindow: number; updatesInWindow: number; received: number; missing: number; drainMs: number; latenciesUs: Float64Array }>('drain', { sentBy })),
    );
    const latenciesUs = new Float64Array(replies.reduce((s, r) => s + r.latenciesUs.length, 0));
    let at = 0;
    for (const r of replies) {
      latenciesUs.set(r.latenciesUs, at);
      at += r.latenciesUs.length;
    }
    return {
      inWindow: replies.reduce((s, r) => s + r.inWindow, 0),
      updatesInWindow: replies.reduce((s, r) => s + r.updatesInWindow, 0),
      received: replies.reduce((s, r) => s + r.received, 0),
      missing: replies.reduce((s, r) => s + r.missing, 0),
      drainMs: Math.max(...replies.map((r) => r.drainMs)),
      latenciesUs,
    };
  }

  /** Whether every editor holds the same text, and its length. */
  async converged(): Promise<{ converged: boolean; length: number; distinct: number }> {
    const replies = await Promise.all(this.processes.map((p) => p.command<{ lengths: number[]; hashes: string[] }>('digest')));
    const hashes = new Set(replies.flatMap((r) => r.hashes));
    const lengths = replies.flatMap((r) => r.lengths);
    return { converged: hashes.size === 1, length: Math.max(...lengths), distinct: hashes.size };
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
  }
}
