import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { StreamPosition } from '../../protocol/frames.js';
import type { AppendOptions, HistoryLimits, StreamEntry, StreamRead, StreamStore } from '../../delivery/stream-store.js';

/** Where an append is announced to the cluster: a pub/sub channel and a header the subscribers recognise (no newline). */
export interface StreamAnnounce {
  channel: string;
  header: string;
}

/** An announcement decoded: `${header}\n${epoch}\n${offset}\n${payload}`. */
export interface StreamAnnouncement {
  header: string;
  position: StreamPosition;
  payload: string;
}

/** An append's options in Redis: the exclusions, and where to announce it. */
export interface RedisAppendOptions extends AppendOptions {
  announce?: StreamAnnounce;
}

export interface RedisStreamStoreOptions {
  /** First part of every key. Default 'sb'. */
  prefix?: string;
  /** How long a stream's epoch outlives its last use (never shorter than its maxAge). Default 7 days. */
  metaTtl?: number;
}

const DEFAULT_META_TTL_MS = 7 * 24 * 60 * 60_000;

// Helpers shared by the scripts below. Every time stored or compared is Redis TIME, so all
// nodes agree on what is "older than maxAge" whatever their own clocks say.
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function id(offset)
  return string.format('%d-0', offset)
end

-- The stream's epoch and offset. No meta hash means the stream never existed or was lost
-- (deleted, expired, Redis restarted without persistence): start a new epoch, and drop any
-- entries left from the old one so entry ids and meta always agree.
local function open_meta(stream, meta, candidate, ttl)
  local m = redis.call('HMGET', meta, 'epoch', 'offset')
  if m[1] then
    -- GT: a read never shortens the life an append with a longer maxAge gave the epoch.
    redis.call('PEXPIRE', meta, ttl, 'GT')
    return m[1], tonumber(m[2]) or 0
  end
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'epoch', candidate, 'offset', 0)
  redis.call('PEXPIRE', meta, ttl)
  return candidate, 0
end
`;

/**
 * Append one publication. Guarantees, atomically: the next offset of the epoch (contiguous
 * from 1), an entry with id "<offset>-0" holding Redis time and payload, exact MAXLEN trim,
 * TTLs (an idle stream past maxAge has nothing recoverable; the meta outlives it), and —
 * when asked — a PUBLISH from inside the script, so the channel carries the appends in offset
 * order cluster-wide. The entry keeps the publication's exclusions (field x, JSON) when it has
 * any, so a node that fills a gap from the stream leaves out the same members.
 * KEYS: stream, meta. ARGV: epoch candidate, payload, maxMessages, maxAge (both '0' = unbounded),
 * meta ttl, exclusions ('' = none)[, channel, header].
 */
const APPEND_LUA = `${PRELUDE}
local epoch = open_meta(KEYS[1], KEYS[2], ARGV[1], ARGV[5])
local offset = redis.call('HINCRBY', KEYS[2], 'offset', 1)
local t = string.format('%d', now_ms())
local add = {'XADD', KEYS[1]}
if ARGV[3] ~= '0' then
  add[#add + 1] = 'MAXLEN'
  add[#add + 1] = ARGV[3]
end
for _, v in ipairs({id(offset), 't', t, 'p', ARGV[2]}) do add[#add + 1] = v end
if ARGV[6] ~= '' then
  add[#add + 1] = 'x'
  add[#add + 1] = ARGV[6]
end
redis.call(unpack(add))
-- No age limit: the entries live as long as the epoch.
if ARGV[4] == '0' then redis.call('PEXPIRE', KEYS[1], ARGV[5]) else redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if ARGV[7] then
  redis.call('PUBLISH', ARGV[7], ARGV[8] .. '\\n' .. epoch .. '\\n' .. string.format('%d', offset) .. '\\n' .. ARGV[2])
end
return {epoch, offset}
`;

/**
 * Read a stream against its limits, with one consistent view of meta and entries. The entries
 * still in history run contiguously from the first live offset to the meta offset: older ones
 * are trimmed by MAXLEN (or lie beyond a now smaller maxMessages) or older than maxAge by
 * Redis time. Times grow with offsets, so the first live one is found by binary search.
 * KEYS: stream, meta. ARGV: epoch candidate, maxMessages, maxAge (both '0' = unbounded), meta ttl,
 * has since ('1'|'0'),
 * since epoch, since offset, limit (0 = none).
 * Returns {epoch, offset, ok (1|0), {id, payload, exclusions ('' = none), id, payload, ...}}.
 */
const READ_LUA = `${PRELUDE}
local function entry_time(stream, offset)
  local e = redis.call('XRANGE', stream, id(offset), id(offset))
  if #e == 0 then return -1 end
  local fields = e[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 't' then return tonumber(fields[i + 1]) end
  end
  return -1
end

local function first_live(stream, offset, max_messages, cutoff)
  local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #head == 0 then return offset + 1 end
  local lo = tonumber(string.match(head[1][1], '^%d+'))
  if max_messages > 0 then lo = math.max(lo, offset - max_messages + 1) end
  if cutoff == nil then return lo end
  local hi = offset + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if entry_time(stream, mid) >= cutoff then hi = mid else lo = mid + 1 end
  end
  return lo
end

local epoch, offset = open_meta(KEYS[1], KEYS[2], ARGV[1], ARGV[4])
local cutoff = nil
if ARGV[3] ~= '0' then cutoff = now_ms() - tonumber(ARGV[3]) end
local live = first_live(KEYS[1], offset, tonumber(ARGV[2]), cutoff)
local limit = tonumber(ARGV[8])
local from
if ARGV[5] == '1' then
  local since = tonumber(ARGV[7])
  -- Recoverable only if every publication after since is still here.
  if ARGV[6] ~= epoch or since > offset or since < live - 1 then return {epoch, offset, 0, {}} end
  from = since + 1
else
  from = live
  if limit > 0 then from = math.max(live, offset - limit + 1) end
end
if from > offset then return {epoch, offset, 1, {}} end
local range
if limit > 0 then
  range = redis.call('XRANGE', KEYS[1], id(from), '+', 'COUNT', limit)
else
  range = redis.call('XRANGE', KEYS[1], id(from), '+')
end
local out = {}
for _, e in ipairs(range) do
  local fields = e[2]
  local payload, except = nil, ''
  for i = 1, #fields, 2 do
    if fields[i] == 'p' then payload = fields[i + 1] elseif fields[i] == 'x' then except = fields[i + 1] end
  end
  if payload then
    out[#out + 1] = e[1]
    out[#out + 1] = payload
    out[#out + 1] = except
  end
end
return {epoch, offset, 1, out}
`;

/**
 * The current position, creating the epoch of an unknown stream (offset 0) so a client that
 * joined an empty room holds an epoch later appends keep.
 * KEYS: stream, meta. ARGV: epoch candidate, meta ttl.
 */
const POSITION_LUA = `${PRELUDE}
local epoch, offset = open_meta(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return {epoch, offset}
`;

/** The scripts as ioredis defines them on the connection (see defineCommand). */
interface StreamScripts {
  sbStreamAppend(stream: string, meta: string, ...args: string[]): Promise<[string, number]>;
  sbStreamRead(stream: string, meta: string, ...args: string[]): Promise<[string, number, number, string[]]>;
  sbStreamPosition(stream: string, meta: string, ...args: string[]): Promise<[string, number]>;
}

/**
 * Durable rooms' streams in Redis Streams, so positions are cluster-wide: every node appending
 * to a room shares one epoch and one run of offsets. Each operation is one Lua script.
 * Keys: `${prefix}:stream:${stream}` (the entries) and `${prefix}:stream-meta:${stream}` (epoch,
 * offset). Needs a connection not in subscriber mode.
 */
export class RedisStreamStore implements StreamStore {
  private readonly prefix: string;
  private readonly metaTtlMs: number;
  private readonly scripts: StreamScripts;

  constructor(redis: Redis, options: RedisStreamStoreOptions = {}) {
    this.prefix = options.prefix ?? 'sb';
    this.metaTtlMs = wholeMs(options.metaTtl ?? DEFAULT_META_TTL_MS);
    // Defining again on a shared connection replaces a script with the same text: harmless.
    redis.defineCommand('sbStreamAppend', { numberOfKeys: 2, lua: APPEND_LUA });
    redis.defineCommand('sbStreamRead', { numberOfKeys: 2, lua: READ_LUA });
    redis.defineCommand('sbStreamPosition', { numberOfKeys: 2, lua: POSITION_LUA });
    this.scripts = redis as unknown as StreamScripts;
  }

  /** Append a publication; with `announce`, also PUBLISH it, in offset order, as `${header}\n${epoch}\n${offset}\n${payload}`. */
  async append(stream: string, payload: string, limits: HistoryLimits, options: RedisAppendOptions = {}): Promise<StreamPosition> {
    const { announce, except } = options;
    const args = [newEpoch(), payload, ...limitArgs(limits), String(this.metaTtl(limits)), except?.length ? JSON.stringify(except) : ''];
    if (announce) {
      if (announce.header.includes('\n')) throw new RangeError(`a stream announce header cannot contain a newline: ${JSON.stringify(announce.header)}`);
      args.push(announce.channel, announce.header);
    }
    const [epoch, offset] = await this.scripts.sbStreamAppend(...this.keys(stream), ...args);
    return { epoch, offset };
  }

  async read(stream: string, options: { since?: StreamPosition; limit?: number }, limits: HistoryLimits): Promise<StreamRead> {
    const { since, limit } = options;
    // A position no append ever gave cannot be in history; Lua must never see it as a number.
    if (since && !Number.isSafeInteger(since.offset)) return { ok: false, position: await this.position(stream) };
    const [epoch, offset, ok, flat] = await this.scripts.sbStreamRead(
      ...this.keys(stream),
      newEpoch(),
      ...limitArgs(limits),
      String(this.metaTtl(limits)),
      since ? '1' : '0',
      since ? String(since.epoch) : '',
      since ? String(since.offset) : '0',
      String(limit === undefined ? 0 : Math.max(1, Math.floor(limit))),
    );
    const position = { epoch, offset };
    if (ok !== 1) return { ok: false, position };
    const entries: StreamEntry[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const entry: StreamEntry = { position: { epoch, offset: Number.parseInt(flat[i] as string, 10) }, payload: flat[i + 1] as string };
      const except = decodeExcept(flat[i + 2] as string);
      if (except) entry.except = except;
      entries.push(entry);
    }
    return { ok: true, entries, position };
  }

  async position(stream: string): Promise<StreamPosition> {
    const [epoch, offset] = await this.scripts.sbStreamPosition(...this.keys(stream), newEpoch(), String(this.metaTtlMs));
    return { epoch, offset };
  }

  /** The stream's keys: entries, then meta. `stream` is already a safe key part (streamKey()). */
  private keys(stream: string): [string, string] {
    return [`${this.prefix}:stream:${stream}`, `${this.prefix}:stream-meta:${stream}`];
  }

  /** The epoch must outlive the entries, or a live stream would restart under a new epoch. */
  private metaTtl(limits: HistoryLimits): number {
    return Number.isFinite(limits.maxAge) ? Math.max(this.metaTtlMs, wholeMs(limits.maxAge)) : this.metaTtlMs;
  }
}

/** Decode a message published by `append(..., announce)`; undefined when it is not one. */
export function decodeStreamAnnouncement(message: string): StreamAnnouncement | undefined {
  const a = message.indexOf('\n');
  const b = message.indexOf('\n', a + 1);
  const c = message.indexOf('\n', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const offset = Number(message.slice(b + 1, c));
  if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
  return { header: message.slice(0, a), position: { epoch: message.slice(a + 1, b), offset }, payload: message.slice(c + 1) };
}

/** An entry's stored exclusions; anything but a JSON list of names is none. */
function decodeExcept(stored: string): string[] | undefined {
  if (stored === '') return undefined;
  try {
    const value: unknown = JSON.parse(stored);
    return Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A candidate epoch; the script keeps it only when the stream has none. */
function newEpoch(): string {
  return randomBytes(8).toString('base64url');
}

/** maxMessages and maxAge as the scripts take them: '0' for an unbounded (Infinity) limit. */
function limitArgs(limits: HistoryLimits): [string, string] {
  const messages = Number.isFinite(limits.maxMessages) ? Math.max(1, Math.floor(limits.maxMessages)) : 0;
  const age = Number.isFinite(limits.maxAge) ? wholeMs(limits.maxAge) : 0;
  return [String(messages), String(age)];
}

/** Redis wants whole, positive milliseconds for PEXPIRE. */
function wholeMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
