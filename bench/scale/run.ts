/**
 * `npm run bench:scale`: as many concurrent idle connections to one Switchboard server
 * process as this machine allows (50,000 asked for), then the memory they cost and proof
 * that heartbeats reach every one of them. Not part of `npm test`.
 *
 *   npm run bench:scale -- [--connections 50000] [--clients N] [--addresses 8]
 *                          [--interval 5000] [--timeout 10000] [--window 3]
 *                          [--concurrency 100] [--no-pin] [--no-emfile] [--ports-demo]
 *                          [--json out.json]
 *
 * Steps: try to raise the open-files limit (prlimit, then ulimit) to what the target
 * needs; start the server (pinned to CPU 0) and the client processes (pinned to CPU 1),
 * each client process under its own open-files limit and spreading its connections over
 * the loopback source addresses 127.0.0.2, 127.0.0.3, ... (`localAddress`); open the
 * connections in two halves, measuring the server's memory after GC at 0, N/2 and N; let
 * one heartbeat pass, then count the heartbeats each connection receives in a window of
 * `--window` intervals while measuring the server's CPU; finally push one client process
 * past the server's open-files limit to show what stops the run there.
 *
 * --ports-demo first fills the ephemeral ports of one loopback address (port-range.py,
 * about 30 s of kernel time) to show why the connections are spread over several.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FromClient, FromServer, MemorySample, OpenResult, ServerStatus, ToClient, ToServer } from './messages.js';

const { values: opts } = parseArgs({
  options: {
    connections: { type: 'string', default: '50000' },
    clients: { type: 'string' },
    addresses: { type: 'string', default: '8' },
    interval: { type: 'string', default: '5000' },
    timeout: { type: 'string', default: '10000' },
    window: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '100' },
    'no-pin': { type: 'boolean', default: false },
    'no-emfile': { type: 'boolean', default: false },
    'ports-demo': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const target = Number(opts.connections);
const addressCount = Number(opts.addresses);
const interval = Number(opts.interval);
const hbTimeout = Number(opts.timeout);
const windowIntervals = Number(opts.window);
const concurrency = Number(opts.concurrency);
/** Connections per client process at most: well under its own open-files limit. */
const PER_CLIENT = 5000;
/** File descriptors a client process needs beyond its connections. */
const CLIENT_FD_SPARE = 100;
/** File descriptors left free in the server beyond those it had at startup. */
const FD_RESERVE = 20;

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const KiB = 1024;
const MiB = 1024 * 1024;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const log = (line: string): void => console.log(`[scale] ${line}`);

// --- environment ------------------------------------------------------------------------------

function noFileLimits(pid: number | 'self'): { soft: number; hard: number } {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/);
  const num = (s: string | undefined): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(soft), hard: num(hard) };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    return `(unreadable: ${(err as NodeJS.ErrnoException).code})`;
  }
}

function capSysResource(): boolean | undefined {
  const line = readText('/proc/self/status').split('\n').find((l) => l.startsWith('CapEff:'));
  if (!line) return undefined;
  const caps = BigInt(`0x${line.split(/\s+/)[1]}`);
  return ((caps >> 24n) & 1n) === 1n; // CAP_SYS_RESOURCE
}

function sockstat(): { inuse: number; memPages: number } | undefined {
  const tcp = readText('/proc/net/sockstat').split('\n').find((l) => l.startsWith('TCP:'));
  const m = tcp?.match(/inuse (\d+).* mem (\d+)/);
  return m ? { inuse: Number(m[1]), memPages: Number(m[2]) } : undefined;
}

/** Kernel slab memory in use (active objects × object size), in all caches and in those a TCP socket takes. */
const SOCKET_CACHES = ['TCP', 'sock_inode_cache', 'filp', 'dentry', 'eventpoll_epi', 'tcp_bind_bucket', 'tcp_bind2_bucket', 'skbuff_head_cache', 'selinux_file_security'];
function slab(): { total: number; socket: number } | undefined {
  const text = readText('/proc/slabinfo');
  if (!text.startsWith('slabinfo')) return undefined;
  let total = 0;
  let socket = 0;
  for (const line of text.split('\n').slice(2)) {
    const [name, active, , size] = line.split(/\s+/);
    const bytes = Number(active) * Number(size);
    if (!Number.isFinite(bytes)) continue;
    total += bytes;
    if (SOCKET_CACHES.includes(name ?? '')) socket += bytes;
  }
  return { total, socket };
}

const hasTool = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

// --- raising the open-files limit: the documented ways, with their exact outcome ---------------

const wanted = target + 1000;
const before = noFileLimits('self');
const attempts: { method: string; ok: boolean; output: string }[] = [];
/** Prepended to the server's and the clients' command lines: runs them under the raised limit. */
let limitPrefix: string[] = [];
/** The open-files limit the server and clients will run under. */
let limit = before.soft;

function tryLimit(n: number): boolean {
  if (hasTool('prlimit')) {
    const r = spawnSync('prlimit', [`--nofile=${n}:${n}`, 'true'], { encoding: 'utf8' });
    const ok = r.status === 0;
    attempts.push({ method: `prlimit --nofile=${n}:${n} <command>`, ok, output: (r.stderr || r.stdout || `exit ${r.status}`).trim() });
    if (ok) {
      limitPrefix = ['prlimit', `--nofile=${n}:${n}`];
      return true;
    }
  }
  const r = spawnSync('sh', ['-c', `ulimit -n ${n} && ulimit -n`], { encoding: 'utf8' });
  const ok = r.status === 0;
  attempts.push({ method: `sh -c 'ulimit -n ${n}'`, ok, output: (r.stderr || r.stdout || `exit ${r.status}`).trim() });
  if (ok) limitPrefix = ['sh', '-c', `ulimit -n ${n} && exec "$0" "$@"`];
  return ok;
}

if (before.soft < wanted) {
  if (tryLimit(wanted)) limit = wanted;
  // Without privileges the soft limit can still go up to the hard one.
  else if (before.soft < before.hard && tryLimit(before.hard)) limit = before.hard;
}

const cpus = availableParallelism();
const pin = !opts['no-pin'] && cpus >= 2 && hasTool('taskset');
const portRange = readText('/proc/sys/net/ipv4/ip_local_port_range').split(/\s+/).map(Number) as [number, number];
const portsPerAddress = portRange[1] - portRange[0] + 1;

log(`node ${process.version}, ${cpus} CPUs, ${fmt(totalmem() / 2 ** 30, 1)} GiB; open files here: soft ${before.soft}, hard ${before.hard}`);
for (const a of attempts) log(`raise the limit: ${a.method} -> ${a.ok ? 'ok' : 'FAILED'}: ${a.output}`);

// --- ephemeral ports of one source address (--ports-demo) -------------------------------------

/**
 * Node's connect with `localAddress` binds (address, port 0) first: the kernel then picks
 * a port that address has free. One process binds as many as its open-files limit allows
 * comfortably and holds them; a second binds on the same address until bind fails, then
 * once on another address.
 */
async function portsDemo(): Promise<Record<string, unknown> | undefined> {
  if (!hasTool('python3')) return undefined;
  const script = here('./port-range.py');
  const hold = Math.min(15_000, before.soft - 100);
  const holder = spawn('python3', [script, 'hold', '127.0.0.250', String(hold)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const held = await new Promise<string>((resolve) => holder.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const t0 = Date.now();
  const fill = spawnSync('python3', [script, 'fill', '127.0.0.250', '127.0.0.251'], { encoding: 'utf8', timeout: 300_000 });
  holder.stdin.end();
  const out = fill.stdout.trim();
  const filled = Number(/filled (\d+)/.exec(out)?.[1] ?? NaN);
  return { held, fill: out, ms: Date.now() - t0, total: hold + filled };
}

// --- processes --------------------------------------------------------------------------------

interface Proc {
  child: ChildProcess;
  name: string;
}

function start(name: string, cpu: number | undefined, nodeArgs: string[], script: string, args: string[], prefix: string[] = []): Proc {
  const command = [...(pin && cpu !== undefined ? ['taskset', '-c', String(cpu)] : []), ...prefix, process.execPath, ...nodeArgs, '--import', 'tsx', script, ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`[scale] ${name} exited early (code ${code}, signal ${signal})`);
      process.exitCode = 1;
    }
  });
  return { child, name };
}

let shuttingDown = false;

function next<T extends { type: string }>(proc: Proc, type: T['type'], timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.child.off('message', onMessage);
      reject(new Error(`${proc.name}: no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (msg: T): void => {
      if (msg.type !== type) return;
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      resolve(msg);
    };
    proc.child.on('message', onMessage);
  });
}

function ask<R extends FromServer | FromClient>(proc: Proc, msg: ToServer | ToClient, replyType: R['type'], timeoutMs?: number): Promise<R> {
  const reply = next<R>(proc, replyType, timeoutMs);
  proc.child.send(msg);
  return reply;
}

function stopAll(procs: Proc[]): void {
  shuttingDown = true;
  for (const p of procs) if (p.child.connected) p.child.send({ type: 'exit' });
}

// --- the run ----------------------------------------------------------------------------------

type Ready = Extract<FromServer, { type: 'ready' }>;
type MemoryReply = Extract<FromServer, { type: 'memory' }>;
type WindowReply = Extract<FromServer, { type: 'window' }>;
type SourcesReply = Extract<FromServer, { type: 'sources' }>;
type ClientReport = Extract<FromClient, { type: 'report' }>;
type Opened = Extract<FromClient, { type: 'opened' }>;

function merge(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

function histStats(h: Record<string, number>): { min: number; max: number; zero: number; total: number } {
  const keys = Object.keys(h).map(Number);
  return {
    min: keys.length ? Math.min(...keys) : NaN,
    max: keys.length ? Math.max(...keys) : NaN,
    zero: h['0'] ?? 0,
    total: Object.values(h).reduce((a, b) => a + b, 0),
  };
}

async function openAll(clients: Proc[], shares: number[]): Promise<{ ms: number; opened: number; failed: Record<string, number> }> {
  const t0 = Date.now();
  const results = await Promise.all(clients.map((c, i) => ask<Opened>(c, { type: 'open', count: shares[i] ?? 0, concurrency }, 'opened')));
  const failed: Record<string, number> = {};
  for (const r of results) merge(failed, r.failed);
  return { ms: Date.now() - t0, opened: results.reduce((a, r: OpenResult) => a + r.opened, 0), failed };
}

/** The 1-minute load average before the run: CPU and timing figures only mean something on an otherwise idle machine. */
const load0 = loadavg();

async function main(): Promise<void> {
  let ports: Record<string, unknown> | undefined;
  if (opts['ports-demo']) {
    log('ports demo: binding one loopback address until its ephemeral ports run out...');
    ports = await portsDemo();
    log(`ports demo: ${JSON.stringify(ports)}`);
  }
  const procs: Proc[] = [];
  process.env.SCALE_HEARTBEAT_INTERVAL = String(interval);
  process.env.SCALE_HEARTBEAT_TIMEOUT = String(hbTimeout);
  const server = start(
    'server',
    0,
    ['--expose-gc', '--max-old-space-size=8192'],
    here('./server.ts'),
    [],
    limitPrefix,
  );
  procs.push(server);
  const serverEnvNote = `heartbeat interval ${interval} ms, timeout ${hbTimeout} ms`;
  const ready = await next<Ready>(server, 'ready', 60_000);
  const serverLimit = noFileLimits(ready.pid);
  const baseFds = typeof ready.fds === 'number' ? ready.fds : 0;
  const capacity = serverLimit.soft - baseFds - FD_RESERVE;
  const n = Math.min(target, capacity);
  log(`server pid ${ready.pid} on port ${ready.port} (${serverEnvNote}, sweep tick ${ready.heartbeat.tickMs} ms); open files: limit ${serverLimit.soft}/${serverLimit.hard}, ${baseFds} open at start`);
  log(`target ${fmt(target)} connections; this server process can hold ${fmt(serverLimit.soft - baseFds)} sockets -> running ${fmt(n)}${n < target ? ' (capped by the open-files limit)' : ''}`);

  const perClient = Math.max(1, Math.min(PER_CLIENT, limit - CLIENT_FD_SPARE));
  const clientCount = Math.max(1, Number(opts.clients ?? Math.ceil(n / perClient)));
  const addresses = Array.from({ length: addressCount }, (_, i) => `127.0.0.${2 + i}`);
  const url = `ws://127.0.0.1:${ready.port}/ws`;
  const clients: Proc[] = [];
  const base = Math.floor(n / clientCount);
  const shares = Array.from({ length: clientCount }, (_, i) => base + (i < n % clientCount ? 1 : 0));
  let first = 0;
  for (let i = 0; i < clientCount; i++) {
    const c = start(`client ${i}`, 1, ['--max-old-space-size=4096'], here('./client.ts'), [url, addresses.join(','), String(first)], limitPrefix);
    first += shares[i] ?? 0;
    clients.push(c);
    procs.push(c);
  }
  await Promise.all(clients.map((c) => next(c, 'ready', 60_000)));
  const clientLimit = noFileLimits(clients[0]!.child.pid!);
  log(`${clientCount} client processes (open files ${clientLimit.soft} each), ${fmt(base)}+ connections each, source addresses ${addresses[0]}–${addresses[addresses.length - 1]}`);

  const sock0 = sockstat();
  const slab0 = slab();
  // Half, then the rest: the memory slope between N/2 and N leaves out one-time costs.
  const half = shares.map((s) => Math.floor(s / 2));
  const rest = shares.map((s, i) => s - (half[i] ?? 0));
  const a = await openAll(clients, half);
  // Each measurement after one heartbeat has reached every connection (and been acked).
  const settle = interval + 2 * ready.heartbeat.tickMs;
  await sleep(settle);
  const mid = await ask<MemoryReply>(server, { type: 'memory' }, 'memory');
  log(`opened ${fmt(a.opened)} in ${fmt(a.ms / 1000, 1)} s; server ${mid.status.connections} connections, RSS ${fmt(mid.memory.rss / MiB, 1)} MiB`);
  await ask(server, { type: 'mark' }, 'marked');
  const b = await openAll(clients, rest);
  const openCpu = await ask<WindowReply>(server, { type: 'window' }, 'window');
  const afterOpen = await ask<ServerStatus>(server, { type: 'status' }, 'status');
  const openedTotal = a.opened + b.opened;
  const failedOpen = merge(merge({}, a.failed), b.failed);
  log(`opened ${fmt(openedTotal)} in ${fmt((a.ms + b.ms) / 1000, 1)} s; server: ${fmt(afterOpen.connections)} connections, ${afterOpen.fds} fds${Object.keys(failedOpen).length ? `; failed: ${JSON.stringify(failedOpen)}` : ''}`);

  await sleep(settle);
  const full = await ask<MemoryReply>(server, { type: 'memory' }, 'memory');
  const sock1 = sockstat();
  const slab1 = slab();
  log(`after the first heartbeat: RSS ${fmt(full.memory.rss / MiB, 1)} MiB, heap ${fmt(full.memory.heapUsed / MiB, 1)} MiB`);

  // The observation window: heartbeats per connection, and the server's CPU meanwhile.
  const windowMs = windowIntervals * interval;
  await Promise.all([ask(server, { type: 'mark' }, 'marked'), ...clients.map((c) => ask(c, { type: 'reset' }, 'reset'))]);
  log(`counting heartbeats for ${windowIntervals} intervals (${windowMs / 1000} s)...`);
  await sleep(windowMs);
  const win = await ask<WindowReply>(server, { type: 'window' }, 'window');
  const reports = await Promise.all(clients.map((c) => ask<ClientReport>(c, { type: 'report' }, 'report')));
  const steady = await ask<MemoryReply>(server, { type: 'memory' }, 'memory');
  const sources = await ask<SourcesReply>(server, { type: 'sources' }, 'sources');

  const appPings: Record<string, number> = {};
  const wsPings: Record<string, number> = {};
  const closes: Record<string, number> = {};
  let open = 0;
  let otherFrames = 0;
  for (const r of reports) {
    merge(appPings, r.appPings);
    merge(wsPings, r.wsPings);
    merge(closes, r.closes);
    open += r.open;
    otherFrames += r.otherFrames;
  }

  // What stops the target here: one client pushes past the server's open-files limit.
  let emfile: Record<string, unknown> | undefined;
  if (!opts['no-emfile'] && n < target) {
    const fdsNow = typeof steady.status.fds === 'number' ? steady.status.fds : NaN;
    const free = serverLimit.soft - fdsNow;
    const extra = free + 10;
    log(`limit demo: the server holds ${fdsNow} of ${serverLimit.soft} fds; opening ${extra} more connections one at a time...`);
    // strace shows what the server's accept(2) returns: libuv swallows the EMFILE (it
    // accepts and closes the connection with a spare descriptor), so Node emits no error.
    const traceFile = join(tmpdir(), `switchboard-scale-accept-${ready.pid}.txt`);
    const tracer = hasTool('strace') ? spawn('strace', ['-qq', '-f', '-e', 'trace=accept4,accept', '-o', traceFile, '-p', String(ready.pid)], { stdio: 'ignore' }) : undefined;
    if (tracer) await sleep(1500);
    const r = await ask<Opened>(clients[0]!, { type: 'open', count: extra, concurrency: 1 }, 'opened');
    await sleep(1000);
    let accepts: { ok: number; emfile: number; sample: string | undefined } | undefined;
    if (tracer) {
      tracer.kill('SIGINT');
      await new Promise((resolve) => tracer.once('exit', resolve));
      const lines = readText(traceFile).split('\n').filter((l) => l.includes('accept'));
      accepts = {
        ok: lines.filter((l) => /= \d+$/.test(l.trim())).length,
        emfile: lines.filter((l) => l.includes('EMFILE')).length,
        sample: lines.find((l) => l.includes('EMFILE'))?.trim(),
      };
      rmSync(traceFile, { force: true });
    }
    const st = await ask<ServerStatus>(server, { type: 'status' }, 'status');
    const rep = await Promise.all(clients.map((c) => ask<ClientReport>(c, { type: 'report' }, 'report')));
    emfile = {
      fdsBefore: fdsNow,
      freeBefore: free,
      attempted: extra,
      opened: r.opened,
      failed: r.failed,
      serverAfter: st,
      acceptSyscalls: accepts,
      stillOpenOfFirstN: rep.reduce((s, x) => s + x.open, 0) - r.opened,
    };
    log(`limit demo: ${r.opened} opened, failed ${JSON.stringify(r.failed)}; server now: ${st.connections} connections, reading /proc/self/fd gives ${st.fds}, 'error' events ${JSON.stringify(st.acceptErrors)}`);
    if (accepts) log(`limit demo: strace of the server: ${accepts.ok} accept4 calls returned a socket, ${accepts.emfile} returned EMFILE, e.g. ${accepts.sample}`);
  }

  stopAll(procs);

  // --- the report -----------------------------------------------------------------------------
  const base0: MemorySample = ready.memory;
  const per = (m: MemorySample, k: keyof MemorySample, count: number, from: MemorySample = base0): number => (m[k] - from[k]) / count;
  const nHalf = mid.status.connections;
  const nFull = steady.status.connections;
  const rssPer = per(steady.memory, 'rss', nFull);
  const heapPer = per(steady.memory, 'heapUsed', nFull);
  const extPer = per(steady.memory, 'external', nFull);
  const rssSlope = per(full.memory, 'rss', nFull - nHalf, mid.memory);
  const heapSlope = per(full.memory, 'heapUsed', nFull - nHalf, mid.memory);
  const cpuMs = win.cpuUserMs + win.cpuSystemMs;
  const app = histStats(appPings);
  const wsh = histStats(wsPings);
  const maxPerAddress = Math.max(...Object.values(sources.bySource));
  const kernelPerPair = sock0 && sock1 ? ((sock1.memPages - sock0.memPages) * 4096) / nFull : undefined;
  // Both ends of every connection are on this machine: 2 sockets per connection.
  const slabPerSocket = slab0 && slab1 ? { total: (slab1.total - slab0.total) / (2 * nFull), socket: (slab1.socket - slab0.socket) / (2 * nFull) } : undefined;
  const pingsSent = Object.entries(appPings).reduce((sum, [k, v]) => sum + Number(k) * v, 0);

  const report = {
    machine: { node: process.version, cpus, totalMemGiB: totalmem() / 2 ** 30, pinned: pin, loadAverageBefore: load0, loadAverageAfter: loadavg() },
    fdLimit: {
      orchestrator: before,
      server: serverLimit,
      client: clientLimit,
      capSysResource: capSysResource(),
      attempts,
      serverFdsAtStart: baseFds,
    },
    target,
    connections: nFull,
    clients: clientCount,
    open: {
      ms: a.ms + b.ms,
      perSecond: (openedTotal / (a.ms + b.ms)) * 1000,
      failed: failedOpen,
      serverCpuSecondHalf: { wallMs: openCpu.wallMs, percentOfOneCore: ((openCpu.cpuUserMs + openCpu.cpuSystemMs) / openCpu.wallMs) * 100 },
    },
    memory: {
      baseline: base0,
      half: { connections: nHalf, ...mid.memory },
      afterFirstHeartbeat: { connections: full.status.connections, ...full.memory },
      afterWindow: { connections: nFull, ...steady.memory },
      perConnection: { rss: rssPer, heapUsed: heapPer, external: extPer },
      slopeHalfToFull: { rss: rssSlope, heapUsed: heapSlope },
      kernelTcpBuffersPerConnectionPair: kernelPerPair,
      kernelSlabPerSocket: slabPerSocket,
      extrapolated50k: { rss: base0.rss + 50_000 * rssPer, heapUsed: base0.heapUsed + 50_000 * heapPer },
    },
    heartbeat: {
      interval,
      timeout: hbTimeout,
      tickMs: ready.heartbeat.tickMs,
      windowMs: win.wallMs,
      openAtEnd: open,
      closesAfterWelcome: closes,
      appPings: appPings,
      wsPings: wsPings,
      otherFrames,
      serverLost: win.status.lost,
    },
    cpu: {
      windowMs: win.wallMs,
      userMs: win.cpuUserMs,
      systemMs: win.cpuSystemMs,
      percentOfOneCore: (cpuMs / win.wallMs) * 100,
      eventLoopUtilization: win.eventLoopUtilization,
      sweeps: win.sweeps,
      pingsReceived: pingsSent,
      writeSyscalls: win.writeSyscalls,
      readSyscalls: win.readSyscalls,
      sweepMsPerPing: win.sweeps.totalMs / pingsSent,
    },
    ports: { range: portRange, perSourceAddress: portsPerAddress, bySource: sources.bySource, demo: ports },
    emfile,
  };

  console.log('');
  console.log(`Scale run: ${fmt(nFull)} idle connections to one Switchboard server process (target ${fmt(target)})`);
  console.log('');
  console.log(`  load average          ${fmt(load0[0] ?? 0, 2)} before, ${fmt(loadavg()[0] ?? 0, 2)} after (1 min, ${cpus} CPUs; the run itself adds about 1–2: higher means other work shared the CPUs and the CPU and timing figures are inflated)`);
  console.log(`  open-files limit      server ${serverLimit.soft} soft / ${serverLimit.hard} hard; ${baseFds} fds in use at start; CAP_SYS_RESOURCE: ${capSysResource() ? 'yes' : 'no'}`);
  for (const at of attempts) console.log(`  raise attempt         ${at.method}: ${at.ok ? 'ok' : at.output}`);
  console.log(`  clients               ${clientCount} processes × ≤${fmt(Math.max(...shares))} connections, ${addressCount} source addresses${pin ? '; server on CPU 0, clients on CPU 1' : ''}`);
  console.log(`  open                  ${fmt(openedTotal)} in ${fmt((a.ms + b.ms) / 1000, 1)} s = ${fmt(report.open.perSecond)} connections/s (TCP + upgrade + hello → welcome, ${concurrency} in flight per client process); server CPU meanwhile ${fmt(report.open.serverCpuSecondHalf.percentOfOneCore)} % of one core${Object.keys(failedOpen).length ? `; failed ${JSON.stringify(failedOpen)}` : ''}`);
  console.log(`  memory (after GC)     baseline RSS ${fmt(base0.rss / MiB, 1)} MiB, heap ${fmt(base0.heapUsed / MiB, 1)} MiB → ${fmt(steady.memory.rss / MiB, 1)} MiB, ${fmt(steady.memory.heapUsed / MiB, 1)} MiB with ${fmt(nFull)}`);
  console.log(`  per connection        RSS ${fmt(rssPer / KiB, 2)} KiB, heap ${fmt(heapPer / KiB, 2)} KiB, external ${fmt(extPer / KiB, 2)} KiB (baseline subtracted)`);
  console.log(`  slope N/2 → N         RSS ${fmt(rssSlope / KiB, 2)} KiB, heap ${fmt(heapSlope / KiB, 2)} KiB per connection`);
  if (kernelPerPair !== undefined) console.log(`  kernel (not in RSS)   TCP buffers ${fmt(kernelPerPair, 0)} bytes per connection (/proc/net/sockstat: idle sockets hold none)`);
  if (slabPerSocket) console.log(`                        slab ${fmt(slabPerSocket.total / KiB, 2)} KiB per socket, of which socket caches ${fmt(slabPerSocket.socket / KiB, 2)} KiB (/proc/slabinfo, whole machine ÷ 2 sockets per connection)`);
  console.log(`  heartbeats            ${windowIntervals} intervals of ${interval} ms (${fmt(win.wallMs / 1000, 1)} s): {"type":"ping"} frames per connection min ${app.min}, max ${app.max}; ${app.zero} of ${fmt(app.total)} connections got none`);
  console.log(`                        WebSocket pings per connection min ${wsh.min}, max ${wsh.max}; ${wsh.zero} got none; histogram ${JSON.stringify(appPings)}`);
  console.log(`  connections lost      ${fmt(nFull - open)} (client-side closes ${JSON.stringify(closes)}, lost by the server ${win.status.lost})`);
  console.log(`  server CPU, idle      ${fmt(report.cpu.percentOfOneCore, 2)} % of one core (user ${fmt(win.cpuUserMs)} ms + system ${fmt(win.cpuSystemMs)} ms in ${fmt(win.wallMs / 1000, 1)} s); event loop ${fmt(win.eventLoopUtilization * 100, 2)} % busy`);
  console.log(`  heartbeat sweeps      ${win.sweeps.count} ticks of ${ready.heartbeat.tickMs} ms, mean ${fmt(win.sweeps.totalMs / Math.max(1, win.sweeps.count), 2)} ms, max ${fmt(win.sweeps.maxMs, 2)} ms; ${fmt((win.sweeps.totalMs / pingsSent) * 1000, 1)} µs and ${fmt(win.writeSyscalls / pingsSent, 2)} write syscalls per heartbeat per connection (${fmt(win.writeSyscalls)} writes, ${fmt(pingsSent)} heartbeats)`);
  console.log(`  ephemeral ports       ${portRange[0]}–${portRange[1]} = ${fmt(portsPerAddress)} per source address; most on one address here ${fmt(maxPerAddress)}; by source ${JSON.stringify(sources.bySource)}`);
  if (ports) console.log(`  one address, filled   ${ports.total} sockets bound on 127.0.0.250 before bind failed: ${String(ports.fill)}`);
  console.log(`  50k (EXTRAPOLATED)    RSS ≈ ${fmt(report.memory.extrapolated50k.rss / MiB)} MiB, heap ≈ ${fmt(report.memory.extrapolated50k.heapUsed / MiB)} MiB = baseline + 50,000 × per-connection figure above; not measured`);
  if (emfile) {
    const after = emfile.serverAfter as ServerStatus;
    const acc = emfile.acceptSyscalls as { ok: number; emfile: number; sample: string | undefined } | undefined;
    console.log(`  what stops 50k        the open-files limit of the server process (${serverLimit.soft}; raising it failed, see above): with ${emfile.fdsBefore} fds in use`);
    console.log(`                        (${baseFds} + ${fmt(nFull)} sockets), ${emfile.attempted} more connections: ${emfile.opened} opened, ${JSON.stringify(emfile.failed)};`);
    console.log(`                        the server then holds ${fmt(after.connections)} connections = ${serverLimit.soft} − ${baseFds}, and reading /proc/self/fd in it fails with ${after.fds}`);
    if (acc) console.log(`                        strace of the server: ${acc.ok} accept4 → socket, ${acc.emfile} accept4 → EMFILE (${acc.sample ?? 'none'}); no 'error' event (libuv accepts and closes with its spare fd)`);
    console.log(`                        the ${fmt(nFull)} connections opened before are all still open: ${emfile.stillOpenOfFirstN === nFull ? 'yes' : `no (${emfile.stillOpenOfFirstN})`}`);
  }
  console.log('');
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${opts.json}`);
  }
  if (!existsSync('/proc/self/limits')) log('note: /proc not available; fd figures are missing');
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
