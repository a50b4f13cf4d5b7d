/**
 * One run of the delivery audit: Switchboard nodes (one with the memory adapter, or several
 * on Redis behind a balancer), SDK clients each behind its own flapping link, numbered
 * messages published to an ordinary and a durable room, and reliable publishes from
 * clients, every transport at once. It counts what reached the handlers; the test decides
 * what must hold.
 */
import type { Redis } from 'ioredis';
import { connect, type SwitchboardClient, type TransportKind } from '../../src/client/node.js';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { Balancer } from './balancer.js';
import { type CaseFigures, NumberTally, type ReportedGap, SessionLog, unreportedLoss } from './delivery-tally.js';
import { type FlapProfile, type FlapStats, LinkFlapper } from './link-flap.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from './redis.js';
import { deriveSeed } from './seeded-random.js';
import { startServer } from './server.js';

export type Mechanism = 'ordinary' | 'durable' | 'reliable';

export interface AuditPlan {
  nodes: number;
  seed: number;
  profile: FlapProfile;
  transports: readonly TransportKind[];
  mechanisms: readonly Mechanism[];
  clientsPerCase: number;
  /** How long messages flow and links flap. */
  trafficMs: number;
  /** Room messages per second, per room. */
  rate: number;
  /** Reliable publishes per second, per client. */
  reliableRate: number;
  /** How long, after the last outage, clients get to catch up before the audit counts. */
  settleMs: number;
}

/** What one client saw and went through. */
export interface AuditClient {
  readonly client: SwitchboardClient;
  readonly tally: NumberTally;
  readonly sessions: SessionLog;
  readonly gaps: ReportedGap[];
  lastOffset: number;
  fenced: boolean;
  /** What the SDK's `error` event reported (a room refused on rejoin, say), as `code: message`. */
  errors: string[];
  /** Reliable publishes: how each one ended (index k = the k-th publish). */
  outcomes: ('pending' | 'ok' | string)[];
}

export interface AuditCase {
  readonly name: string;
  readonly mechanism: Mechanism;
  readonly transport: TransportKind;
  readonly room: string;
  readonly clients: AuditClient[];
  readonly flapper: LinkFlapper;
  /** Durable: the offset of each number, from publish(). */
  readonly offsets: Map<number, number>;
  /** Reliable: per client, the k of each handler run, in the order the server ran them. */
  readonly handled: Map<number, number[]>;
  published: number;
  /** Durable: numbers whose publish() rejected: sent to nobody and reported to the publisher, so owed to no client. */
  readonly failed: Set<number>;
}

/** The server side of one audit: nodes, and what the clients reach them by. */
interface Deployment {
  servers: Switchboard[];
  entryPort: number;
  close(): Promise<void>;
}

/**
 * Heartbeats of 2.5 s + 2.5 s instead of 25 s + 20 s: a blackholed connection is noticed
 * (by the SDK's watchdog and by the server) within 5 s, so a run of seconds sees many
 * outages end and resume instead of a few clients silent to the end. Nothing the documents
 * promise depends on the heartbeat's period.
 */
const HEARTBEAT = { interval: 2500, timeout: 2500 };

async function deploy(nodes: number, label: string): Promise<Deployment> {
  if (nodes === 1) {
    const { sb } = await startServer({ heartbeat: HEARTBEAT });
    return { servers: [sb], entryPort: sb.port, close: () => sb.close() };
  }
  const redis: Redis = await connectRedis(); // a missing Redis fails here, loudly
  const prefix = testPrefix(`flap-${label}`);
  const servers: Switchboard[] = [];
  for (let i = 0; i < nodes; i++) servers.push((await startServer({ heartbeat: HEARTBEAT, adapter: new RedisAdapter(REDIS_URL, { prefix }) })).sb);
  const balancer = await Balancer.start(servers.map((sb) => sb.port));
  return {
    servers,
    entryPort: balancer.port,
    close: async () => {
      await balancer.close();
      await Promise.all(servers.map((sb) => sb.close()));
      await dropKeys(redis, prefix);
      redis.disconnect();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function watch(client: SwitchboardClient): AuditClient {
  const audit: AuditClient = { client, tally: new NumberTally(), sessions: new SessionLog(), gaps: [], lastOffset: 0, fenced: false, errors: [], outcomes: [] };
  client.on('connect', (info) => audit.sessions.connected(info?.resumed === true, client.id));
  client.on('disconnect', () => audit.sessions.disconnected());
  client.on('n', (data: { n: number }, meta) => {
    audit.tally.record(data.n);
    if (meta.position) audit.lastOffset = meta.position.offset;
  });
  client.on('fence', () => {
    audit.fenced = true;
  });
  client.on('recovery', (info) => {
    // Fired before the room's next live event: lastOffset is still the last one seen before the gap.
    if (!info.recovered) audit.gaps.push({ fromOffset: audit.lastOffset, toOffset: info.position.offset });
    audit.lastOffset = info.position.offset;
  });
  client.on('error', (err: Error & { code?: string }) => audit.errors.push(`${err.code ?? 'error'}: ${err.message}`));
  return audit;
}

async function openCase(d: Deployment, plan: AuditPlan, transport: TransportKind, mechanism: Mechanism): Promise<AuditCase> {
  const name = `${plan.nodes} node${plan.nodes > 1 ? 's' : ''} · ${transport} · ${mechanism}`;
  const room = `${mechanism === 'durable' ? 'feed' : 'plain'}-${transport}-${mechanism}`;
  const flapper = await LinkFlapper.open(plan.clientsPerCase, d.entryPort, plan.profile, deriveSeed(plan.seed, name), plan.trafficMs);
  const clients = flapper.links.map((link) =>
    // connectTimeout 5 s: an attempt whose link went silent mid-handshake is retried within the run.
    watch(connect(link.url(), { transports: [transport], connectTimeout: 5000, network: false })),
  );
  await Promise.all(
    clients.map(async ({ client }) => {
      if (mechanism !== 'reliable') await client.join(room);
      else if (!client.connected) await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    }),
  );
  return { name, mechanism, transport, room, clients, flapper, offsets: new Map(), handled: new Map(), published: 0, failed: new Set() };
}

/** Publish room messages and reliable publishes at their rates for `ms`. */
async function traffic(d: Deployment, plan: AuditPlan, cases: AuditCase[]): Promise<void> {
  const publisher = d.servers[0] as Switchboard; // one publisher: its events keep their order on every node
  const start = Date.now();
  const reliableSent = new Map<AuditClient, number>();
  while (Date.now() - start < plan.trafficMs) {
    const elapsed = Date.now() - start;
    for (const c of cases) {
      if (c.mechanism === 'reliable') {
        const due = Math.floor((elapsed * plan.reliableRate) / 1000) + 1;
        c.clients.forEach((audit, index) => {
          for (let k = reliableSent.get(audit) ?? 0; k < due; k++) {
            reliableSent.set(audit, k + 1);
            audit.outcomes[k] = 'pending';
            try {
              audit.client.reliable.emit('pub', { x: cases.indexOf(c), c: index, k }).then(
                () => (audit.outcomes[k] = 'ok'),
                (err: { code?: string }) => (audit.outcomes[k] = err.code ?? 'error'),
              );
            } catch (err) {
              audit.outcomes[k] = (err as { code?: string }).code ?? 'error';
            }
          }
        });
        continue;
      }
      const due = Math.floor((elapsed * plan.rate) / 1000) + 1;
      for (; c.published < due; c.published++) {
        const n = c.published;
        if (c.mechanism === 'ordinary') publisher.to(c.room).emit('n', { n });
        else
          publisher
            .to(c.room)
            .publish('n', { n })
            .then(
              (position) => c.offsets.set(n, position.offset),
              () => c.failed.add(n),
            );
      }
    }
    await sleep(10);
  }
}

/** After the links are up for good: bring every client back and wait until each has everything it will get. */
async function settle(d: Deployment, plan: AuditPlan, cases: AuditCase[]): Promise<void> {
  await Promise.all(cases.map((c) => c.flapper.done));
  const deadline = Date.now() + plan.settleMs;
  const publisher = d.servers[0] as Switchboard;
  const settled = (c: AuditCase): boolean =>
    c.mechanism === 'reliable' ? c.clients.every((a) => !a.outcomes.includes('pending')) : c.clients.every((a) => a.fenced);
  while (Date.now() < deadline && !cases.every(settled)) {
    for (const c of cases) {
      // A client still waiting out its backoff is asked to try now: the run measures the outages, not the tail.
      for (const a of c.clients) if (!a.client.connected) a.client.reconnectNow();
      if (c.mechanism === 'reliable' || settled(c)) continue;
      // A fence after the last message: a client that got one has had every earlier frame it will ever get.
      if (c.mechanism === 'ordinary') publisher.to(c.room).emit('fence', null);
      else publisher.to(c.room).publish('fence', null).catch(() => {});
    }
    await sleep(500);
  }
}

/** The audit's figures of one case. */
export function figures(c: AuditCase): CaseFigures & { unsettled: number; rejections: Record<string, number> } {
  const sum = (f: (a: AuditClient) => number): number => c.clients.reduce((s, a) => s + f(a), 0);
  const flap: FlapStats = c.flapper.totals();
  const base = {
    case: c.name,
    clients: c.clients.length,
    reconnects: sum((a) => a.sessions.reconnects),
    resumed: sum((a) => a.sessions.resumed),
    restored: sum((a) => a.sessions.restored),
    fresh: sum((a) => a.sessions.fresh),
    cuts: flap.blackholed + flap.resets + flap.fins,
  };
  if (c.mechanism === 'reliable') {
    const rejections: Record<string, number> = {};
    let expected = 0;
    let lost = 0;
    let duplicated = 0;
    let reordered = 0;
    let unsettled = 0;
    let silent = 0;
    c.clients.forEach((a, index) => {
      const runs = new Map<number, number>();
      const order = c.handled.get(index) ?? [];
      let max = -1;
      for (const k of order) {
        runs.set(k, (runs.get(k) ?? 0) + 1);
        if (k < max) reordered++;
        max = Math.max(max, k);
      }
      a.outcomes.forEach((outcome, k) => {
        if (outcome === 'buffer_full') {
          rejections[outcome] = (rejections[outcome] ?? 0) + 1;
          return; // refused at the call, never sent: not owed to the server
        }
        expected++;
        const count = runs.get(k) ?? 0;
        if (count === 0) lost++;
        if (count > 1) duplicated += count - 1;
        if (outcome === 'pending') unsettled++;
        else if (outcome !== 'ok') rejections[outcome] = (rejections[outcome] ?? 0) + 1;
        if (outcome === 'ok' && count !== 1) silent++;
      });
    });
    const gaps = Object.entries(rejections).reduce((s, [code, n]) => s + (code === 'buffer_full' ? 0 : n), 0);
    return { ...base, expected, lost, duplicated, reordered, gaps, silent, unsettled, rejections };
  }
  const missing = c.clients.map((a) => a.tally.missing(c.published).filter((n) => !c.failed.has(n)));
  const lost = missing.reduce((s, m) => s + m.length, 0);
  const silent =
    c.mechanism === 'durable'
      ? c.clients.reduce((s, a, i) => s + unreportedLoss(missing[i] as number[], (n) => c.offsets.get(n), a.gaps).length, 0)
      : c.clients.reduce((s, a, i) => s + (a.sessions.allResumed ? (missing[i] as number[]).length : 0), 0);
  return {
    ...base,
    expected: (c.published - c.failed.size) * c.clients.length,
    lost,
    duplicated: sum((a) => a.tally.duplicates),
    reordered: sum((a) => a.tally.reordered),
    gaps: sum((a) => a.gaps.length),
    silent,
    unsettled: sum((a) => (a.fenced ? 0 : 1)),
    rejections: {},
  };
}

/** Run every case of the plan at once on one deployment and return them, counted and closed. */
export async function runAudit(plan: AuditPlan): Promise<AuditCase[]> {
  const d = await deploy(plan.nodes, `${plan.nodes}`);
  const cases: AuditCase[] = [];
  try {
    for (const sb of d.servers) {
      sb.durable(/^feed-/);
      sb.on('connection', (socket) => {
        // data.x names the case, data.c the client in it, data.k the publish: the handler runs are counted per client.
        socket.on('pub', (data: { x: number; c: number; k: number }) => {
          const handled = cases[data.x]?.handled;
          if (!handled) return { ok: false };
          const runs = handled.get(data.c) ?? [];
          handled.set(data.c, runs);
          runs.push(data.k);
          return { ok: true };
        });
      });
    }
    for (const transport of plan.transports) for (const mechanism of plan.mechanisms) cases.push(await openCase(d, plan, transport, mechanism));
    for (const c of cases) c.flapper.start();
    await traffic(d, plan, cases);
    await settle(d, plan, cases);
    return cases;
  } finally {
    for (const c of cases) for (const a of c.clients) a.client.close();
    await Promise.all(cases.map((c) => c.flapper.close()));
    await d.close();
  }
}
