/**
 * The server process of the scale run (`npm run bench:scale`): one Switchboard on an HTTP
 * server of its own, driven over IPC by run.ts. It never receives application traffic;
 * it measures what idle connections cost it and what its heartbeat costs.
 *
 * Started as `node --expose-gc --import tsx bench/scale/server.ts` with an IPC channel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HeartbeatSweeper } from '../../src/server/heartbeat.js';
import { Switchboard } from '../../src/server/index.js';
import type { FromServer, MemorySample, ServerStatus, ToServer } from './messages.js';

const interval = Number(process.env.SCALE_HEARTBEAT_INTERVAL ?? 5000);
const timeout = Number(process.env.SCALE_HEARTBEAT_TIMEOUT ?? 10000);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('start the scale server with --expose-gc');

function send(msg: FromServer): void {
  process.send?.(msg);
}

/** Open file descriptors, or the error that reading /proc/self/fd ran into (EMFILE at the limit). */
function openFds(): number | string {
  try {
    // Less the descriptor of the directory being read.
    return readdirSync('/proc/self/fd').length - 1;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** Write and read system calls so far (/proc/self/io). */
function syscalls(): { writes: number; reads: number } {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    return { writes: Number(/syscw: (\d+)/.exec(io)?.[1] ?? NaN), reads: Number(/syscr: (\d+)/.exec(io)?.[1] ?? NaN) };
  } catch {
    return { writes: NaN, reads: NaN };
  }
}

function memory(): MemorySample {
  // Several full collections: weak references and finalizers settle over more than one.
  for (let i = 0; i < 4; i++) gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

// --- the sweep's own cost: wrap the one shared heartbeat timer's tick (harness only) ----------
const sweeps = { count: 0, totalMs: 0, maxMs: 0 };
const originalSweep = HeartbeatSweeper.prototype.sweep;
HeartbeatSweeper.prototype.sweep = function (this: HeartbeatSweeper, now: number): void {
  const t0 = performance.now();
  originalSweep.call(this, now);
  const ms = performance.now() - t0;
  sweeps.count++;
  sweeps.totalMs += ms;
  if (ms > sweeps.maxMs) sweeps.maxMs = ms;
};

// --- the server ------------------------------------------------------------------------------
const http: Server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (_req, res) => {
  res.writeHead(404).end();
});
// An accept error (EMFILE, ENFILE) is emitted here; without a listener it would crash the process.
const acceptErrors: Record<string, number> = {};
http.on('error', (err: NodeJS.ErrnoException) => {
  const key = `${err.syscall ?? '?'} ${err.code ?? err.message}`;
  acceptErrors[key] = (acceptErrors[key] ?? 0) + 1;
});

/**
 * TCP connections accepted, by source address. Nothing is kept per connection: a listener
 * on each socket (or on each Switchboard socket's disconnect) would add its closure to the
 * per-connection memory this run measures.
 */
let tcpAccepted = 0;
const bySource = new Map<string, number>();
http.on('connection', (socket: NetSocket) => {
  tcpAccepted++;
  const addr = socket.remoteAddress ?? '?';
  bySource.set(addr, (bySource.get(addr) ?? 0) + 1);
});

const sb = new Switchboard(http, {
  heartbeat: { interval, timeout },
  // The defaults protect a public server from one client IP; here 4 processes on a handful
  // of loopback addresses open tens of thousands of connections, so they are turned off.
  maxConnections: Infinity,
  maxConnectionsPerIp: Infinity,
  handshakeRate: false,
  // frameRate stays at its default: idle clients only send pong and ack, which it does not count.
  serveClient: false,
});
/** Connections that completed the handshake; those that left since are the difference with connectionCount. */
let welcomed = 0;
sb.on('connection', () => {
  welcomed++;
});
sb.on('error', (err) => {
  console.error('[scale server] error', err);
});

let cpuMark = process.cpuUsage();
let wallMark = performance.now();
let eluMark = performance.eventLoopUtilization();
let ioMark = syscalls();

async function status(): Promise<ServerStatus> {
  const tcpOpen = await new Promise<number>((resolve) => http.getConnections((_err, count) => resolve(count)));
  const connections = sb.connectionCount;
  return {
    type: 'status',
    connections,
    sessions: sb.sessionCount,
    tcpOpen,
    tcpAccepted,
    fds: openFds(),
    welcomed,
    lost: welcomed - connections,
    acceptErrors: { ...acceptErrors },
  };
}

process.on('message', async (msg: ToServer) => {
  switch (msg.type) {
    case 'status':
      send(await status());
      break;
    case 'memory':
      send({ type: 'memory', memory: memory(), status: await status() });
      break;
    case 'mark':
      // Start of an observation window: CPU, event-loop utilization and sweep timings from now.
      cpuMark = process.cpuUsage();
      wallMark = performance.now();
      eluMark = performance.eventLoopUtilization();
      ioMark = syscalls();
      sweeps.count = 0;
      sweeps.totalMs = 0;
      sweeps.maxMs = 0;
      send({ type: 'marked' });
      break;
    case 'window': {
      const cpu = process.cpuUsage(cpuMark);
      const wallMs = performance.now() - wallMark;
      const elu = performance.eventLoopUtilization(eluMark);
      const io = syscalls();
      send({
        writeSyscalls: io.writes - ioMark.writes,
        readSyscalls: io.reads - ioMark.reads,
        type: 'window',
        wallMs,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        eventLoopUtilization: elu.utilization,
        sweeps: { ...sweeps },
        status: await status(),
      });
      break;
    }
    case 'sources':
      send({ type: 'sources', bySource: Object.fromEntries([...bySource].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) });
      break;
    case 'exit':
      // No graceful close: tens of thousands of close handshakes say nothing about this run.
      process.exit(0);
  }
});

http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  // Let startup settle (module loading, JIT) before the baseline.
  setTimeout(() => {
    send({ type: 'ready', port, pid: process.pid, heartbeat: { interval, timeout, tickMs: Math.max(5, Math.floor(Math.min(interval, timeout) / 4)) }, memory: memory(), fds: openFds() });
  }, 500);
});
