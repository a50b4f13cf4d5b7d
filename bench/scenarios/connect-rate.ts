import type { LoadConnection } from '../load/connection.js';
import { DIALECTS, type ServerName } from '../load/dialects.js';
import { closeAll, openConnections } from '../load/open-many.js';
import { ServerProcess } from '../server-process.js';
import { monotonicUs, sleep, spread, type Spread } from '../stats.js';
import { OtherCpuWatch, pct, undisturbed, type Undisturbed } from './undisturbed.js';

export interface ConnectRatePlan {
  connections: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  runs: number;
}

export interface ConnectRateRun extends Undisturbed {
  perSec: number;
  serverCpu: number;
  loaderCpu: number;
}

export interface ConnectRateResult {
  server: ServerName;
  connections: number;
  concurrency: number;
  runs: ConnectRateRun[];
  perSec: Spread;
  serverCpu: Spread;
}

const WARMUP_RUNS = 2;

/**
 * (d) Connections opened per second: N connections as fast as the server takes them,
 * `concurrency` in flight, each counted once its handshake is complete (ws: the 101;
 * Switchboard: the welcome; Socket.IO: the namespace's connect packet). All are closed
 * and the server is back at zero connections before the next run.
 */
export async function runConnectRate(name: ServerName, plan: ConnectRatePlan, log: (line: string) => void): Promise<ConnectRateResult> {
  const dialect = DIALECTS[name];
  const runs: ConnectRateRun[] = [];
  const server = await ServerProcess.start(name);
  try {
    // Unmeasured runs first: the server's handshake paths get compiled by the JIT (one
    // run was not enough: the first measured run still came out slower).
    for (let w = 0; w < WARMUP_RUNS; w++) {
      closeAll(await openConnections({ port: server.port, dialect, count: plan.connections, concurrency: plan.concurrency }));
      await untilNoConnections(server);
    }
    for (let r = 0; r < plan.runs; r++) {
      const run = await undisturbed(`run ${r + 1}`, () => openAndClose(server, plan), log);
      runs.push(run);
      log(`  ${name} open ${plan.connections} run ${r + 1}: ${Math.round(run.perSec).toLocaleString('en')} connections/s, server CPU ${pct(run.serverCpu)}, loader ${pct(run.loaderCpu)}`);
    }
  } finally {
    await server.stop();
  }
  return {
    server: name,
    connections: plan.connections,
    concurrency: plan.concurrency,
    runs,
    perSec: spread(runs.map((r) => r.perSec)),
    serverCpu: spread(runs.map((r) => r.serverCpu)),
  };
}

async function openAndClose(server: ServerProcess, plan: ConnectRatePlan): Promise<Omit<ConnectRateRun, 'attempts' | 'quietWaitMs'>> {
  const others = new OtherCpuWatch(server.pid);
  others.start();
  const t0 = monotonicUs();
  const cpu0 = server.cpuSeconds();
  const loader0 = process.cpuUsage();
  let conns: LoadConnection[] = [];
  try {
    conns = await openConnections({ port: server.port, dialect: DIALECTS[server.name], count: plan.connections, concurrency: plan.concurrency });
    const seconds = (monotonicUs() - t0) / 1e6;
    const loader = process.cpuUsage(loader0);
    return {
      perSec: plan.connections / seconds,
      serverCpu: (server.cpuSeconds() - cpu0) / seconds,
      loaderCpu: (loader.user + loader.system) / 1e6 / seconds,
      ...others.stop(),
    };
  } finally {
    closeAll(conns);
    await untilNoConnections(server);
  }
}

export async function untilNoConnections(server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const { connections } = await server.command<{ connections: number }>('stats');
    if (connections === 0) return;
    await sleep(100);
  }
  throw new Error(`${server.name} still has connections ${timeoutMs} ms after they were closed`);
}
