import type { LoadConnection } from '../load/connection.js';
import { DIALECTS, type ServerName } from '../load/dialects.js';
import { closeAll, openConnections } from '../load/open-many.js';
import { ServerProcess } from '../server-process.js';
import { sleep, spread, type Spread } from '../stats.js';

export interface MemoryPlan {
  connections: number;
  runs: number;
}

export interface MemoryRun {
  rssPerConnection: number;
  heapPerConnection: number;
  baselineRss: number;
  baselineHeap: number;
}

export interface MemoryResult {
  server: ServerName;
  connections: number;
  runs: MemoryRun[];
  rssPerConnection: Spread;
  heapPerConnection: Spread;
}

interface Memory {
  rss: number;
  heapUsed: number;
}

const SETTLE_MS = 1_000;

/**
 * (b) Idle memory per connection: a fresh server process per run; RSS and heap used
 * after forced collections with no connection, then with N idle connections (each past
 * its handshake: Switchboard's welcome, Socket.IO's namespace connect); the difference
 * divided by N.
 */
export async function runMemory(name: ServerName, plan: MemoryPlan, log: (line: string) => void): Promise<MemoryResult> {
  const dialect = DIALECTS[name];
  const runs: MemoryRun[] = [];
  for (let r = 0; r < plan.runs; r++) {
    const server = await ServerProcess.start(name);
    let conns: LoadConnection[] = [];
    try {
      await sleep(SETTLE_MS);
      const base = await server.command<Memory>('memory');
      conns = await openConnections({ port: server.port, dialect, count: plan.connections, concurrency: 200 });
      await sleep(SETTLE_MS);
      const { connections } = await server.command<{ connections: number }>('stats');
      if (connections !== plan.connections) throw new Error(`${name}: ${connections} connections open, expected ${plan.connections}`);
      const loaded = await server.command<Memory>('memory');
      const run = {
        rssPerConnection: (loaded.rss - base.rss) / plan.connections,
        heapPerConnection: (loaded.heapUsed - base.heapUsed) / plan.connections,
        baselineRss: base.rss,
        baselineHeap: base.heapUsed,
      };
      runs.push(run);
      log(`  ${name} ${plan.connections} idle connections run ${r + 1}: ${kib(run.rssPerConnection)} RSS, ${kib(run.heapPerConnection)} heap per connection`);
    } finally {
      closeAll(conns);
      await server.stop();
    }
  }
  return {
    server: name,
    connections: plan.connections,
    runs,
    rssPerConnection: spread(runs.map((r) => r.rssPerConnection)),
    heapPerConnection: spread(runs.map((r) => r.heapPerConnection)),
  };
}

export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
