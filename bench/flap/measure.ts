import type { ReportedGap } from '../../test/helpers/delivery-tally.js';
import { type FlapProfile, type FlapStats, LinkFlapper, profile as withChanges } from '../../test/helpers/link-flap.js';
import { ServerProcess } from '../server-process.js';
import type { FlapClient } from './clients.js';
import { flapHeartbeat } from './heartbeat.js';
import type { FlapSystem, SystemName } from './systems.js';

export interface FlapPlan {
  seed: number;
  profile: FlapProfile;
  clients: number;
  /** Messages per second to the room. */
  rate: number;
  messages: number;
  /** How long clients get, after the last outage, to come back and receive what they are owed. */
  settleMs: number;
  /** The memory phase: sessions held away while messages flow. */
  memory: { sessions: number; messages: number };
}

/** What one system delivered to the handlers of `clients` clients on flapping links. */
export interface FlapFigures {
  system: SystemName;
  clients: number;
  published: number;
  lost: number;
  lostPct: number;
  duplicated: number;
  reordered: number;
  reconnects: number;
  /** Reconnects that got the session back (Socket.IO: `socket.recovered`; Switchboard: `resumed: true`). */
  resumed: number;
  /** Reconnects that started over: a new socket id or session. */
  fresh: number;
  /** Switchboard durable rooms: `recovered: false` events, and the missing numbers inside them. */
  gaps: number;
  lostInGaps: number;
  /**
   * Switchboard durable rooms: per client with missing numbers outside every reported gap,
   * those runs of numbers, its gaps and its sessions, to find out why (a silent loss breaks the promise).
   */
  silent: { client: number; missing: string[]; gaps: ReportedGap[]; resumed: number; fresh: number; connected: boolean; errors: string[] }[];
  /** Clients not connected when the run was counted. */
  away: number;
  flap: FlapStats;
  seconds: number;
}

/** Server memory per session held for resume: the delta with `sessions` clients away while `messages` flowed, divided by `sessions`. */
export interface HeldMemory {
  system: SystemName;
  sessions: number;
  messages: number;
  heapPerSessionBytes: number;
  rssPerSessionBytes: number;
  before: { rss: number; heapUsed: number };
  after: { rss: number; heapUsed: number };
}

const ROOM = 'room';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
type Log = (line: string) => void;

async function openClients(system: FlapSystem, flapper: LinkFlapper): Promise<FlapClient[]> {
  const clients: FlapClient[] = [];
  // One at a time: a burst of handshakes is not what this measures.
  for (const link of flapper.links) clients.push(await system.open(link, ROOM));
  return clients;
}

/** The headline scenario for one system: numbered messages at `rate` while every client's link flaps. */
export async function runFlap(system: FlapSystem, plan: FlapPlan, log: Log): Promise<FlapFigures> {
  const started = Date.now();
  const server = await ServerProcess.startFile(system.name, system.file, system.env);
  const durationMs = Math.round((plan.messages / plan.rate) * 1000);
  const flapper = await LinkFlapper.open(plan.clients, server.port, plan.profile, plan.seed, durationMs);
  const clients = await openClients(system, flapper);
  try {
    log(`${system.name}: ${plan.clients} clients in the room; ${plan.messages} messages at ${plan.rate}/s`);
    flapper.start();
    const { published } = await server.command<{ published: number }>('paced', { room: ROOM, rate: plan.rate, durationMs }, durationMs + 60_000);
    await flapper.done;
    // Settled: every client connected and holding the last number, or connected and quiet
    // since its last connect for longer than a heartbeat needs to notice a dead link (one may
    // sit on a blackholed connection, or have just come back with its rejoin still on the way),
    // or the deadline.
    const { interval, timeout } = flapHeartbeat();
    const quietMs = interval + timeout + 3000;
    const deadline = Date.now() + plan.settleMs;
    const settled = (c: FlapClient): boolean => c.connected() && (c.tally.has(published - 1) || Date.now() - c.lastActivity > quietMs);
    while (Date.now() < deadline && !clients.every(settled)) await sleep(250);
    return count(system, clients, published, flapper.totals(), (Date.now() - started) / 1000);
  } finally {
    for (const c of clients) c.close();
    await flapper.close();
    await server.stop();
  }
}

function count(system: FlapSystem, clients: FlapClient[], published: number, flap: FlapStats, seconds: number): FlapFigures {
  const sum = (f: (c: FlapClient) => number): number => clients.reduce((s, c) => s + f(c), 0);
  const missing = clients.map((c) => c.tally.missing(published));
  const lost = missing.reduce((s, m) => s + m.length, 0);
  // Single publisher, fresh in-memory stream: number s is at offset s + 1.
  const inGap = (s: number, gaps: ReportedGap[]): boolean => gaps.some((g) => s + 1 > g.fromOffset && s + 1 <= g.toOffset);
  return {
    system: system.name,
    clients: clients.length,
    published,
    lost,
    lostPct: published > 0 ? (100 * lost) / (published * clients.length) : 0,
    duplicated: sum((c) => c.tally.duplicates),
    reordered: sum((c) => c.tally.reordered),
    reconnects: sum((c) => c.sessions.reconnects),
    resumed: sum((c) => c.sessions.resumed),
    fresh: sum((c) => c.sessions.fresh + c.sessions.restored),
    gaps: sum((c) => c.gaps.length),
    lostInGaps: clients.reduce((s, c, i) => s + (missing[i] as number[]).filter((n) => inGap(n, c.gaps)).length, 0),
    silent: system.reportsGaps
      ? clients.flatMap((c, i) => {
          const outside = (missing[i] as number[]).filter((n) => !inGap(n, c.gaps));
          if (outside.length === 0) return [];
          const { resumed, fresh } = c.sessions;
          return [{ client: i, missing: runs(outside), gaps: c.gaps, resumed, fresh, connected: c.connected(), errors: c.errors }];
        })
      : [],
    away: sum((c) => (c.connected() ? 0 : 1)),
    flap,
    seconds: Math.round(seconds),
  };
}

/** Sorted numbers as runs: [1, 2, 3, 7] → ['1-3', '7']. */
function runs(numbers: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && (numbers[j + 1] as number) === (numbers[j] as number) + 1) j++;
    out.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return out;
}

/**
 * Memory a server spends to let sessions come back. A few clients connect and leave on
 * purpose first (so what the first connections allocate once is not counted), then the
 * settled memory (after full GCs) is the baseline; `sessions` clients join, their links go
 * down with an RST (the server sees the loss at once and starts holding), `messages` flow
 * to their room, and the settled memory again, minus the baseline, is what the held
 * sessions cost, with the messages kept for them.
 */
export async function runHeldMemory(system: FlapSystem, plan: FlapPlan, log: Log): Promise<HeldMemory> {
  const { sessions, messages } = plan.memory;
  const server = await ServerProcess.startFile(system.name, system.file, system.env);
  // No outages of their own: the links are taken down on purpose below.
  const steady = withChanges({ latencyMs: 0, jitterMs: 0 });
  const warm = await LinkFlapper.open(Math.min(20, sessions), server.port, steady, plan.seed, 0, 'warm-up');
  const warmClients = await openClients(system, warm);
  for (const c of warmClients) c.close();
  await sleep(1000);
  await warm.close();
  const flapper = await LinkFlapper.open(sessions, server.port, steady, plan.seed, 0);
  let clients: FlapClient[] = [];
  try {
    const before = await server.command<{ rss: number; heapUsed: number }>('memory');
    clients = await openClients(system, flapper);
    for (const link of flapper.links) link.down('reset');
    await sleep(1000);
    log(`${system.name}: ${sessions} sessions away, ${messages} messages to their room`);
    await server.command('paced', { room: ROOM, rate: plan.rate, durationMs: Math.round((messages / plan.rate) * 1000) });
    const after = await server.command<{ rss: number; heapUsed: number }>('memory');
    return {
      system: system.name,
      sessions,
      messages,
      heapPerSessionBytes: Math.round((after.heapUsed - before.heapUsed) / sessions),
      rssPerSessionBytes: Math.round((after.rss - before.rss) / sessions),
      before: { rss: before.rss, heapUsed: before.heapUsed },
      after: { rss: after.rss, heapUsed: after.heapUsed },
    };
  } finally {
    for (const c of clients) c.close();
    await flapper.close();
    await server.stop();
  }
}
