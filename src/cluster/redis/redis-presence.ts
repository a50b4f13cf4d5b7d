import type { Redis } from 'ioredis';
import { byUser, encodeInfo, type PresenceChange, type PresenceEntry, type PresenceStore } from '../presence-store.js';

export interface RedisPresenceOptions {
  /** This node's id, unique among live nodes; a restarted process may reuse it (what the old one left is dropped first). */
  nodeId: string;
  /** Key prefix. Default 'sb'. */
  prefix?: string;
  /** How long a node counts as alive after its last renewal. Default 15000. */
  nodeTtl?: number;
  /** How often a node renews itself and sweeps for dead nodes. Default 5000. */
  renewInterval?: number;
  /** Errors of the background renewal; the next renewal retries. Default: ignored. */
  onError?: (err: Error) => void;
}

/*
 * Keys (P = prefix):
 *   P:presence-nodes          ZSET node → expiry (Redis ms time); a node renews its score.
 *   P:presence-reaping        ZSET dead node → end of the claim lease of the node cleaning it.
 *   P:presence-node:<node>    SET of the node's entries, JSON [room, conn].
 *   P:presence:<room>:conns   HASH JSON [node, conn] → user.
 *   P:presence:<room>:users   HASH user → "<connections>|<info JSON>" (info kept byte-identical).
 * Empty hashes and sets vanish in Redis, so an idle room costs nothing.
 */

/** The TIME of the Redis server in ms: the one clock every node agrees on. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Renew this node (ARGV[1]) for ARGV[2] ms and claim dead nodes: those past their expiry,
 * and those whose cleaner's lease (ARGV[3] ms) ran out. Atomic, so each dead node has one
 * claimer at a time. Returns { 1 if this node was not listed (new, or presumed dead), claimed }.
 */
const RENEW = `${NOW}
local fresh = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local claimed = {}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[4]))
for _, node in ipairs(dead) do
  redis.call('ZREM', KEYS[1], node)
  claimed[#claimed + 1] = node
end
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[4]))
for _, node in ipairs(stale) do claimed[#claimed + 1] = node end
for _, node in ipairs(claimed) do redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), node) end
return { fresh, claimed }`;

/**
 * Enter a connection: KEYS nodes, node set, room conns, room users; ARGV node, ttl, member,
 * field, user, info. Registers the node too, so an entry never sits under an unlisted node
 * that nobody would clean. Returns { fresh, 1 if the user's first connection in the room }.
 * The HSETNX makes it idempotent per (room, conn).
 */
const ADD = `${NOW}
local fresh = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('HSETNX', KEYS[3], ARGV[4], ARGV[5]) == 0 then return { fresh, 0 } end
redis.call('SADD', KEYS[2], ARGV[3])
local present = redis.call('HGET', KEYS[4], ARGV[5])
if present then
  local sep = string.find(present, '|', 1, true)
  redis.call('HSET', KEYS[4], ARGV[5], (tonumber(string.sub(present, 1, sep - 1)) + 1) .. string.sub(present, sep))
  return { fresh, 0 }
end
redis.call('HSET', KEYS[4], ARGV[5], '1|' .. ARGV[6])
return { fresh, 1 }`;

/**
 * Take a connection out: KEYS nodes, node set, room conns, room users; ARGV node, member,
 * field, and '1' when a cleaner does it for a dead node — then it is refused ('alive') once
 * that node is listed again, so a node that came back keeps its entries. Returns
 * { 'leave', user, info } for the user's last connection in the room.
 */
const LEAVE = `if ARGV[4] == '1' and redis.call('ZSCORE', KEYS[1], ARGV[1]) then return { 'alive' } end
redis.call('SREM', KEYS[2], ARGV[2])
local user = redis.call('HGET', KEYS[3], ARGV[3])
if not user then return { 'unknown' } end
redis.call('HDEL', KEYS[3], ARGV[3])
local present = redis.call('HGET', KEYS[4], user)
if not present then return { 'unknown' } end
local sep = string.find(present, '|', 1, true)
local n = tonumber(string.sub(present, 1, sep - 1)) - 1
if n > 0 then
  redis.call('HSET', KEYS[4], user, n .. string.sub(present, sep))
  return { 'stay' }
end
redis.call('HDEL', KEYS[4], user)
return { 'leave', user, string.sub(present, sep + 1) }`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

/** How many dead nodes one renewal claims, and how many entries go to Redis at once. */
const BATCH = 100;
const CHUNK = 500;

/**
 * Presence shared by every node through Redis. Each node renews its liveness every `renewInterval`;
 * a node that stops (crash) is claimed by one live node and its entries removed, the leaves
 * reported once through onExpired: a crashed node's users are gone within nodeTtl +
 * renewInterval. Renewal starts in the constructor; its timer does not keep the process alive.
 * close() does not quit the Redis client (the caller owns it).
 */
export class RedisPresence implements PresenceStore {
  private readonly nodeId: string;
  private readonly prefix: string;
  private readonly nodeTtl: number;
  private readonly renewInterval: number;
  private readonly onError: (err: Error) => void;
  private readonly scripts: { renew: Script; add: Script; leave: Script };
  private readonly listeners: ((changes: PresenceChange[]) => void)[] = [];
  /** This node's entries (member → entry), to restore them if the cluster wrongly dropped them. */
  private readonly own = new Map<string, { room: string; user: string; conn: string; info: string }>();
  private timer: NodeJS.Timeout | undefined;
  private tickRun: Promise<void> | undefined;
  /** Settles once the entries of a previous process with this node id are gone. */
  private leftovers: Promise<void> | undefined;
  /** add() calls under way, which close() lets finish so it can take their entries out too. */
  private readonly adding = new Set<Promise<unknown>>();
  private restoreDue = false;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    options: RedisPresenceOptions,
  ) {
    this.nodeId = options.nodeId;
    this.prefix = options.prefix ?? 'sb';
    this.nodeTtl = options.nodeTtl ?? 15_000;
    this.renewInterval = options.renewInterval ?? 5_000;
    this.onError = options.onError ?? (() => {});
    if (!(this.renewInterval > 0) || !(this.nodeTtl > this.renewInterval)) {
      throw new RangeError(`presence needs 0 < renewInterval < nodeTtl, got renewInterval ${this.renewInterval}, nodeTtl ${this.nodeTtl}`);
    }
    this.scripts = {
      renew: command(redis, 'sbPresenceRenew', 2, RENEW),
      add: command(redis, 'sbPresenceAdd', 4, ADD),
      leave: command(redis, 'sbPresenceLeave', 4, LEAVE),
    };
    this.start();
  }

  async add(room: string, user: string, conn: string, info: unknown): Promise<PresenceChange | undefined> {
    if (this.closed) throw new Error('RedisPresence.add() after close()');
    const adding = this.dropLeftovers().then(() => this.enter(room, user, conn, info));
    this.adding.add(adding);
    try {
      return await adding;
    } finally {
      this.adding.delete(adding);
    }
  }

  async remove(room: string, conn: string): Promise<PresenceChange | undefined> {
    const member = JSON.stringify([room, conn]);
    this.own.delete(member);
    const change = await this.leave(this.nodeId, room, conn, false);
    return change === 'alive' ? undefined : change;
  }

  async list(room: string): Promise<PresenceEntry[]> {
    const users = await this.redis.hgetall(`${this.roomKey(room)}:users`);
    return Object.entries(users)
      .map(([user, value]) => ({ user, info: JSON.parse(value.slice(value.indexOf('|') + 1)) as unknown }))
      .sort(byUser);
  }

  async count(room: string): Promise<number> {
    return this.redis.hlen(`${this.roomKey(room)}:users`);
  }

  onExpired(listener: (changes: PresenceChange[]) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<PresenceChange[]> {
    if (this.closed) return [];
    this.closed = true;
    this.stopRenewing();
    await Promise.allSettled([this.tickRun, ...this.adding]);
    const leaves = await this.leaveAll(this.nodeId, false);
    // Unlisted last: were we to stop halfway, the entries left would still be cleaned as a dead node's.
    await this.redis.zrem(this.key('presence-nodes'), this.nodeId);
    this.own.clear();
    return leaves;
  }

  /** Start renewing (the constructor does); a no-op while renewing. */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.tick(), this.renewInterval);
    this.timer.unref();
    void this.tick();
  }

  /** @internal Stop renewing without cleanup, as a crash would: tests only. */
  stopRenewing(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async enter(room: string, user: string, conn: string, info: unknown): Promise<PresenceChange | undefined> {
    const member = JSON.stringify([room, conn]);
    const encoded = encodeInfo(info);
    const known = this.own.has(member);
    if (!known) this.own.set(member, { room, user, conn, info: encoded });
    try {
      const [fresh, joined] = (await this.scripts.add(...this.entryKeys(room, this.nodeId), this.nodeId, this.nodeTtl, member, this.field(this.nodeId, conn), user, encoded)) as [number, number];
      if (fresh === 1) this.restoreDue = true;
      return joined === 1 ? { room, user, kind: 'join', info: JSON.parse(encoded) as unknown } : undefined;
    } catch (err) {
      if (!known) this.own.delete(member);
      throw err;
    }
  }

  private tick(): Promise<void> {
    // One renewal at a time: a slow Redis must not pile them up.
    this.tickRun ??= this.renew()
      .catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))))
      .finally(() => (this.tickRun = undefined));
    return this.tickRun;
  }

  private async renew(): Promise<void> {
    const [fresh, claimed] = (await this.scripts.renew(this.key('presence-nodes'), this.key('presence-reaping'), this.nodeId, this.nodeTtl, this.nodeTtl, BATCH)) as [number, string[]];
    await this.dropLeftovers();
    if (fresh === 1 || this.restoreDue) {
      this.restoreDue = false;
      await this.restore();
    }
    for (const node of claimed) {
      const leaves = await this.leaveAll(node, true);
      await this.redis.zrem(this.key('presence-reaping'), node);
      this.report(leaves);
    }
  }

  /**
   * Remove what a previous process with this node id left behind (restarted before anyone
   * cleaned it), before this one adds anything: its connection ids may be reused.
   */
  private dropLeftovers(): Promise<void> {
    this.leftovers ??= this.leaveAll(this.nodeId, false).then(
      (leaves) => this.report(leaves),
      (err: unknown) => {
        this.leftovers = undefined; // retried by the next add or renewal
        throw err;
      },
    );
    return this.leftovers;
  }

  /** This node was unlisted (presumed dead, its entries cleaned) yet is alive: put its entries back. */
  private async restore(): Promise<void> {
    const joins: PresenceChange[] = [];
    const members = [...this.own.keys()];
    for (let i = 0; i < members.length; i += CHUNK) {
      // Looked up per chunk: a connection removed meanwhile must not come back.
      const entries = members.slice(i, i + CHUNK).flatMap((m) => this.own.get(m) ?? []);
      const changes = await Promise.all(entries.map((e) => this.enter(e.room, e.user, e.conn, JSON.parse(e.info))));
      for (const c of changes) if (c) joins.push(c);
    }
    this.report(joins);
  }

  /** Remove every entry of `node`; a cleaner (`dead`) stops as soon as the node is listed again. */
  private async leaveAll(node: string, dead: boolean): Promise<PresenceChange[]> {
    const members = await this.redis.smembers(this.key(`presence-node:${node}`));
    return this.leaveMembers(node, members, dead);
  }

  private async leaveMembers(node: string, members: string[], dead: boolean): Promise<PresenceChange[]> {
    const leaves: PresenceChange[] = [];
    for (let i = 0; i < members.length; i += CHUNK) {
      const results = await Promise.all(
        members.slice(i, i + CHUNK).map((m) => {
          const [room, conn] = JSON.parse(m) as [string, string];
          return this.leave(node, room, conn, dead);
        }),
      );
      for (const r of results) if (r && r !== 'alive') leaves.push(r);
      if (results.includes('alive')) break;
    }
    return leaves;
  }

  private async leave(node: string, room: string, conn: string, dead: boolean): Promise<PresenceChange | 'alive' | undefined> {
    const member = JSON.stringify([room, conn]);
    const [outcome, user, info] = (await this.scripts.leave(...this.entryKeys(room, node), node, member, this.field(node, conn), dead ? '1' : '0')) as string[];
    if (outcome === 'alive') return 'alive';
    if (outcome !== 'leave' || user === undefined || info === undefined) return undefined;
    return { room, user, kind: 'leave', info: JSON.parse(info) as unknown };
  }

  private report(changes: PresenceChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) listener(changes);
  }

  private entryKeys(room: string, node: string): [string, string, string, string] {
    const roomKey = this.roomKey(room);
    return [this.key('presence-nodes'), this.key(`presence-node:${node}`), `${roomKey}:conns`, `${roomKey}:users`];
  }

  private field(node: string, conn: string): string {
    return JSON.stringify([node, conn]);
  }

  private roomKey(room: string): string {
    return this.key(`presence:${room}`);
  }

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }
}

/** A Lua script as a command of this client (EVALSHA, loaded on first use). */
function command(redis: Redis, name: string, numberOfKeys: number, lua: string): Script {
  redis.defineCommand(name, { numberOfKeys, lua });
  const fn = (redis as unknown as Record<string, Script | undefined>)[name];
  if (!fn) throw new Error(`ioredis did not define ${name}`);
  return fn.bind(redis);
}
