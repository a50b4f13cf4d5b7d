import { fileURLToPath } from 'node:url';
import type { ServerName } from '../load/dialects.js';
import { ServerProcess } from '../server-process.js';

/** The clusters compared, each node its own process. */
export type SetupName = 'switchboard-1' | 'switchboard-redis-1' | 'switchboard-redis-3' | 'socket.io-redis-3' | 'socket.io-redis-1';

export interface Setup {
  name: SetupName;
  label: string;
  nodes: number;
  /** Server file in this folder. */
  file: string;
  /** On the Redis adapter (else Switchboard's in-memory adapter). */
  redis: boolean;
  /** What the load generator speaks (../load/dialects.ts). */
  dialect: ServerName;
}

export const SETUPS: Record<SetupName, Setup> = {
  'switchboard-1': { name: 'switchboard-1', label: 'Switchboard, 1 node (memory adapter)', nodes: 1, file: 'switchboard-node.ts', redis: false, dialect: 'switchboard' },
  'switchboard-redis-1': { name: 'switchboard-redis-1', label: 'Switchboard, 1 node + RedisAdapter', nodes: 1, file: 'switchboard-node.ts', redis: true, dialect: 'switchboard' },
  'switchboard-redis-3': { name: 'switchboard-redis-3', label: 'Switchboard, 3 nodes + RedisAdapter', nodes: 3, file: 'switchboard-node.ts', redis: true, dialect: 'switchboard' },
  'socket.io-redis-3': { name: 'socket.io-redis-3', label: 'Socket.IO, 3 nodes + redis-adapter', nodes: 3, file: 'socketio-node.ts', redis: true, dialect: 'socket.io' },
  'socket.io-redis-1': { name: 'socket.io-redis-1', label: 'Socket.IO, 1 node + redis-adapter', nodes: 1, file: 'socketio-node.ts', redis: true, dialect: 'socket.io' },
};

/** Run by default, in this order; the others only when named with --setups=. */
export const DEFAULT_SETUPS: readonly SetupName[] = ['switchboard-1', 'switchboard-redis-1', 'switchboard-redis-3', 'socket.io-redis-3'];

/** The running nodes of one setup; node 0 publishes. */
export class BenchCluster {
  private constructor(
    readonly setup: Setup,
    readonly nodes: ServerProcess<string>[],
  ) {}

  /** Start the nodes one after another (each is subscribed once it says it is ready). */
  static async start(setup: Setup, redisUrl: string, prefix: string): Promise<BenchCluster> {
    const env: Record<string, string> = setup.redis ? { BENCH_REDIS_URL: redisUrl, BENCH_PREFIX: prefix } : {};
    const nodes: ServerProcess<string>[] = [];
    try {
      for (let i = 0; i < setup.nodes; i++) nodes.push(await ServerProcess.startFile(`${setup.name} node ${i}`, fileURLToPath(new URL(setup.file, import.meta.url)), env));
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw err;
    }
    return new BenchCluster(setup, nodes);
  }

  get publisher(): ServerProcess<string> {
    return this.nodes[0] as ServerProcess<string>;
  }

  cpuSeconds(): number[] {
    return this.nodes.map((n) => n.cpuSeconds());
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
