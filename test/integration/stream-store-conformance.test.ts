/**
 * One conformance suite, run against every StreamStore: the same positions, gaps and limits
 * whether the streams live in this process (MemoryStreamStore) or in Redis, where they are
 * shared by every node (RedisStreamStore). Redis-only tests then cover what only a shared
 * store can do: two nodes appending to one stream, and appends announced in offset order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { MemoryStreamStore } from '../../src/delivery/memory-stream-store.js';
import type { HistoryLimits, StreamRead, StreamStore } from '../../src/delivery/stream-store.js';
import type { StreamPosition } from '../../src/protocol/frames.js';
import { decodeStreamAnnouncement, RedisStreamStore, type StreamAnnouncement } from '../../src/cluster/redis/redis-stream-store.js';
import { connectRedis, dropKeys, testPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/server.js';

const LIMITS: HistoryLimits = { maxMessages: 1000, maxAge: 60_000 };

/** Payloads a store must return byte-identical: newlines, quotes, backslashes, non-ASCII, empty. */
const AWKWARD_PAYLOADS = [
  '{"event":"n","data":1}',
  'line one\nline two\r\n\nend',
  `"quoted" 'single' \\backslash\\ \t tab`,
  'ünïcødé — 日本語 — emoji 🚀👩‍👩‍👧',
  '',
];

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the suite needs from a backend. */
interface Backend {
  /** The store under test; lose() may replace it. */
  store(): StreamStore;
  /** Lose a stream the way this backend can (process restart, keys gone). */
  lose(stream: string): Promise<void>;
}

let streamCount = 0;
/** A stream name no other test uses. */
const fresh = (): string => `9:/confroom${++streamCount}`;

function entriesOf(read: StreamRead): { offset: number; payload: string }[] {
  assert.equal(read.ok, true, `expected a recoverable read, got ${JSON.stringify(read)}`);
  if (!read.ok) return [];
  for (const e of read.entries) assert.equal(e.position.epoch, read.position.epoch, 'entries carry the current epoch');
  return read.entries.map((e) => ({ offset: e.position.offset, payload: e.payload }));
}

const offsets = (read: StreamRead): number[] => entriesOf(read).map((e) => e.offset);

async function appendMany(store: StreamStore, stream: string, count: number, limits = LIMITS): Promise<StreamPosition[]> {
  const positions: StreamPosition[] = [];
  for (let i = 1; i <= count; i++) positions.push(await store.append(stream, `payload ${i}`, limits));
  return positions;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function streamStoreConformance(backend: Backend): void {
  const store = (): StreamStore => backend.store();

  test('offsets are contiguous from 1 under one stable epoch; position() is the last one', async () => {
    const stream = fresh();
    const positions = await appendMany(store(), stream, 5);
    assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3, 4, 5]);
    const epoch = positions[0]?.epoch;
    assert.ok(typeof epoch === 'string' && epoch.length > 0);
    for (const p of positions) assert.equal(p.epoch, epoch);
    assert.deepEqual(await store().position(stream), { epoch, offset: 5 });
  });

  test('payloads come back byte-identical', async () => {
    const stream = fresh();
    for (const payload of AWKWARD_PAYLOADS) await store().append(stream, payload, LIMITS);
    const read = await store().read(stream, {}, LIMITS);
    assert.deepEqual(entriesOf(read).map((e) => e.payload), AWKWARD_PAYLOADS);
  });

  test('an entry keeps the exclusions it was appended with (a gap filled from the store leaves out the same members)', async () => {
    const stream = fresh();
    await store().append(stream, 'to all', LIMITS);
    await store().append(stream, 'not to two rooms', LIMITS, { except: ['sid-1', 'room "b"'] });
    await store().append(stream, 'empty list', LIMITS, { except: [] });
    const read = await store().read(stream, { since: { epoch: (await store().position(stream)).epoch, offset: 0 } }, LIMITS);
    assert.equal(read.ok, true);
    if (!read.ok) return;
    assert.deepEqual(read.entries.map((e) => e.except), [undefined, ['sid-1', 'room "b"'], undefined]);
  });

  test('read since a position returns exactly the gap, oldest first', async () => {
    const stream = fresh();
    const positions = await appendMany(store(), stream, 10);
    const read = await store().read(stream, { since: positions[3] }, LIMITS);
    assert.deepEqual(entriesOf(read), range(5, 10).map((n) => ({ offset: n, payload: `payload ${n}` })));
    assert.deepEqual(read.position, positions[9]);
  });

  test('since the head: recoverable and empty; since offset 0 of the epoch: everything', async () => {
    const stream = fresh();
    const positions = await appendMany(store(), stream, 3);
    const head = positions[2] as StreamPosition;
    const atHead = await store().read(stream, { since: head }, LIMITS);
    assert.deepEqual(entriesOf(atHead), []);
    assert.deepEqual(atHead.position, head);
    assert.deepEqual(offsets(await store().read(stream, { since: { epoch: head.epoch, offset: 0 } }, LIMITS)), [1, 2, 3]);
  });

  test('since ahead of the stream, or of another epoch: not recoverable, with the current position', async () => {
    const stream = fresh();
    const positions = await appendMany(store(), stream, 3);
    const head = positions[2] as StreamPosition;
    const ahead = await store().read(stream, { since: { epoch: head.epoch, offset: 4 } }, LIMITS);
    assert.deepEqual(ahead, { ok: false, position: head });
    const otherEpoch = await store().read(stream, { since: { epoch: 'another-epoch', offset: 1 } }, LIMITS);
    assert.deepEqual(otherEpoch, { ok: false, position: head });
  });

  test('trimmed by maxMessages: a since before the kept ones is not recoverable, a recent one is', async () => {
    const stream = fresh();
    const limits = { ...LIMITS, maxMessages: 3 };
    const positions = await appendMany(store(), stream, 6, limits);
    const head = positions[5] as StreamPosition;
    // 4, 5, 6 are kept: since 2 needs 3, which is gone; since 3 needs only 4..6.
    assert.deepEqual(await store().read(stream, { since: positions[1] }, limits), { ok: false, position: head });
    assert.deepEqual(offsets(await store().read(stream, { since: positions[2] }, limits)), [4, 5, 6]);
    assert.deepEqual(offsets(await store().read(stream, {}, limits)), [4, 5, 6]);
  });

  test('a stream kept at its bound through thousands of appends keeps exactly the latest, readable from any kept position', async () => {
    const stream = fresh();
    const limits = { ...LIMITS, maxMessages: 50 };
    // Far past the bound: a store that lets trimmed entries go in batches must still show exactly the last 50.
    const positions = await appendMany(store(), stream, 2600, limits);
    const at = (offset: number): StreamPosition => positions[offset - 1] as StreamPosition;
    assert.deepEqual(offsets(await store().read(stream, {}, limits)), range(2551, 2600));
    assert.deepEqual(offsets(await store().read(stream, { since: at(2550) }, limits)), range(2551, 2600));
    assert.equal((await store().read(stream, { since: at(2549) }, limits)).ok, false);
    assert.deepEqual(offsets(await store().read(stream, { since: at(2590), limit: 3 }, limits)), [2591, 2592, 2593]);
    assert.deepEqual(offsets(await store().read(stream, { limit: 2 }, limits)), [2599, 2600]);
    await store().append(stream, 'one more', limits);
    assert.deepEqual(offsets(await store().read(stream, {}, limits)), range(2552, 2601));
  });

  test('a smaller maxMessages than the stream was written with applies to reads at once', async () => {
    const stream = fresh();
    const positions = await appendMany(store(), stream, 6);
    const smaller = { ...LIMITS, maxMessages: 2 };
    assert.deepEqual(offsets(await store().read(stream, {}, smaller)), [5, 6]);
    assert.equal((await store().read(stream, { since: positions[2] }, smaller)).ok, false);
    assert.deepEqual(offsets(await store().read(stream, { since: positions[3] }, smaller)), [5, 6]);
  });

  test('past the age limit: since is not recoverable and a read without since is empty; offsets go on', async () => {
    const stream = fresh();
    const limits = { ...LIMITS, maxAge: 50 };
    const positions = await appendMany(store(), stream, 3, limits);
    await delay(80);
    const head = positions[2] as StreamPosition;
    assert.deepEqual(await store().read(stream, { since: positions[0] }, limits), { ok: false, position: head });
    const latest = await store().read(stream, {}, limits);
    assert.deepEqual(entriesOf(latest), []);
    assert.deepEqual(latest.position, head);
    // Nothing was missed after the head, so the head stays recoverable, and the epoch goes on.
    assert.deepEqual(entriesOf(await store().read(stream, { since: head }, limits)), []);
    assert.deepEqual(await store().append(stream, 'after', limits), { epoch: head.epoch, offset: 4 });
  });

  test('the age limit drops only the old entries of a stream that is still being written', async () => {
    const stream = fresh();
    // Appends keep the stream alive while its first entries age out. Generous margins: the
    // middle entry must still be young when read back, however slow the machine.
    const limits = { ...LIMITS, maxAge: 600 };
    const old = await appendMany(store(), stream, 2, limits);
    await delay(400);
    await store().append(stream, 'middle', limits);
    await delay(400);
    const recent = await store().append(stream, 'recent', limits);
    const young = [
      { offset: 3, payload: 'middle' },
      { offset: 4, payload: 'recent' },
    ];
    assert.deepEqual(entriesOf(await store().read(stream, {}, limits)), young);
    assert.equal((await store().read(stream, { since: old[0] }, limits)).ok, false);
    assert.deepEqual(entriesOf(await store().read(stream, { since: old[1] }, limits)), young);
    assert.deepEqual((await store().read(stream, {}, limits)).position, recent);
  });

  test('unbounded limits (Infinity) keep everything', async () => {
    const stream = fresh();
    const unbounded = { maxMessages: Number.POSITIVE_INFINITY, maxAge: Number.POSITIVE_INFINITY };
    const positions = await appendMany(store(), stream, 4, unbounded);
    assert.deepEqual(offsets(await store().read(stream, {}, unbounded)), [1, 2, 3, 4]);
    assert.deepEqual(offsets(await store().read(stream, { since: positions[0] }, unbounded)), [2, 3, 4]);
  });

  test('limit: the last N without since, the first N after since', async () => {
    const stream = fresh();
    const positions = await appendMany(store(), stream, 10);
    assert.deepEqual(offsets(await store().read(stream, { limit: 3 }, LIMITS)), [8, 9, 10]);
    assert.deepEqual(offsets(await store().read(stream, { since: positions[1], limit: 3 }, LIMITS)), [3, 4, 5]);
    assert.deepEqual(offsets(await store().read(stream, { limit: 50 }, LIMITS)), range(1, 10));
    const limited = await store().read(stream, { since: positions[1], limit: 3 }, LIMITS);
    assert.deepEqual(limited.position, positions[9], 'the position is the head even when the entries stop short');
  });

  test('an unknown stream is at offset 0 of an epoch that later appends keep', async () => {
    const stream = fresh();
    const start = await store().position(stream);
    assert.equal(start.offset, 0);
    assert.deepEqual(await store().position(stream), start, 'the epoch of an empty stream is stable');
    const empty = await store().read(stream, { since: start }, LIMITS);
    assert.deepEqual(entriesOf(empty), []);
    assert.deepEqual(empty.position, start);
    assert.deepEqual(await store().append(stream, 'first', LIMITS), { epoch: start.epoch, offset: 1 });
    assert.deepEqual(entriesOf(await store().read(stream, { since: start }, LIMITS)), [{ offset: 1, payload: 'first' }]);
  });

  test('a read of an unknown stream gives an empty history and an epoch later appends keep', async () => {
    const stream = fresh();
    const read = await store().read(stream, {}, LIMITS);
    assert.deepEqual(entriesOf(read), []);
    assert.equal(read.position.offset, 0);
    assert.deepEqual(await store().append(stream, 'first', LIMITS), { epoch: read.position.epoch, offset: 1 });
  });

  test('streams are independent', async () => {
    const a = fresh();
    const b = fresh();
    const pa1 = await store().append(a, 'a1', LIMITS);
    const pb1 = await store().append(b, 'b1', LIMITS);
    const pa2 = await store().append(a, 'a2', LIMITS);
    assert.deepEqual([pa1.offset, pb1.offset, pa2.offset], [1, 1, 2]);
    assert.notEqual(pa1.epoch, pb1.epoch, 'each stream has an epoch of its own');
    assert.deepEqual(entriesOf(await store().read(a, {}, LIMITS)).map((e) => e.payload), ['a1', 'a2']);
    assert.deepEqual(entriesOf(await store().read(b, {}, LIMITS)).map((e) => e.payload), ['b1']);
    assert.equal((await store().read(b, { since: pa2 }, LIMITS)).ok, false, 'a position of one stream means nothing in another');
  });

  test('a lost stream starts a new epoch from offset 1; positions from before are not recoverable', async () => {
    const stream = fresh();
    const before = await appendMany(store(), stream, 3);
    await backend.lose(stream);
    const after = await store().append(stream, 'reborn', LIMITS);
    assert.equal(after.offset, 1);
    assert.notEqual(after.epoch, before[0]?.epoch);
    assert.deepEqual(await store().read(stream, { since: before[2] }, LIMITS), { ok: false, position: after });
    assert.deepEqual(entriesOf(await store().read(stream, {}, LIMITS)), [{ offset: 1, payload: 'reborn' }]);
  });
}

describe('stream store conformance: memory', () => {
  let store = new MemoryStreamStore();
  streamStoreConformance({
    store: () => store,
    // A new process: the memory store keeps nothing across it.
    lose: async () => {
      store = new MemoryStreamStore();
    },
  });
});

describe('stream store conformance: redis', { timeout: 60_000 }, () => {
  const prefix = testPrefix('stream-store');
  let redis: Redis;
  let store: RedisStreamStore;

  before(async () => {
    redis = await connectRedis();
    store = new RedisStreamStore(redis, { prefix });
  });

  after(async () => {
    await dropKeys(redis, prefix);
    redis.disconnect();
  });

  streamStoreConformance({
    store: () => store,
    lose: async (stream) => {
      assert.equal(await redis.del(`${prefix}:stream:${stream}`, `${prefix}:stream-meta:${stream}`), 2, 'both keys existed');
    },
  });
});

describe('redis stream store: cluster-wide streams', { timeout: 60_000 }, () => {
  const prefix = testPrefix('stream-store-cluster');
  const connections: Redis[] = [];
  let redis: Redis;

  before(async () => {
    redis = await connectRedis();
    connections.push(redis);
  });

  after(async () => {
    await dropKeys(redis, prefix);
    for (const c of connections) c.disconnect();
  });

  async function node(options: ConstructorParameters<typeof RedisStreamStore>[1] = {}): Promise<RedisStreamStore> {
    const connection = await connectRedis();
    connections.push(connection);
    return new RedisStreamStore(connection, { prefix, ...options });
  }

  test('two nodes appending concurrently share one run of offsets, announced in offset order', async () => {
    const stream = '9:/confroom-shared';
    const channel = `${prefix}:announce`;
    const header = 'sb1 /chat room';
    const [a, b] = [await node(), await node()];

    const subscriber = await connectRedis();
    connections.push(subscriber);
    const heard: string[] = [];
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) heard.push(message);
    });
    await subscriber.subscribe(channel);

    const awkward = (who: string, i: number): string => `${who}#${i}\n${AWKWARD_PAYLOADS[i % AWKWARD_PAYLOADS.length]}\n`;
    const appends = (who: string, store: RedisStreamStore): Promise<{ position: StreamPosition; payload: string }[]> =>
      Promise.all(
        range(1, 200).map(async (i) => {
          const payload = awkward(who, i);
          return { position: await store.append(stream, payload, LIMITS, { announce: { channel, header } }), payload };
        }),
      );
    const [fromA, fromB] = await Promise.all([appends('A', a), appends('B', b)]);
    const all = [...fromA, ...fromB];

    const epoch = all[0]?.position.epoch;
    for (const { position } of all) assert.equal(position.epoch, epoch, 'one epoch across both nodes');
    assert.deepEqual(
      all.map(({ position }) => position.offset).sort((x, y) => x - y),
      range(1, 400),
      'offsets 1..400, each exactly once',
    );
    const payloadAt = new Map(all.map(({ position, payload }) => [position.offset, payload]));

    await eventually(() => heard.length >= 400, '400 announcements', 10_000);
    await delay(50);
    assert.equal(heard.length, 400, 'exactly one announcement per append');
    const decoded = heard.map((m) => decodeStreamAnnouncement(m) as StreamAnnouncement);
    assert.deepEqual(
      decoded.map((d) => d.position.offset),
      range(1, 400),
      'announced in offset order',
    );
    decoded.forEach((d, i) => {
      assert.equal(d.header, header);
      assert.equal(d.position.epoch, epoch);
      assert.equal(d.payload, payloadAt.get(i + 1), `payload of offset ${i + 1} intact`);
      assert.equal(heard[i], `${header}\n${epoch}\n${i + 1}\n${payloadAt.get(i + 1)}`, 'the documented format');
    });

    // Either node reads the same history.
    const read = await a.read(stream, { since: { epoch: epoch as string, offset: 0 } }, LIMITS);
    assert.deepEqual(
      entriesOf(read),
      range(1, 400).map((n) => ({ offset: n, payload: payloadAt.get(n) })),
    );
    assert.deepEqual(await b.read(stream, { since: { epoch: epoch as string, offset: 0 } }, LIMITS), read);
  });

  test('a stream whose meta is gone restarts under a new epoch without the old entries', async () => {
    const store = await node();
    const stream = '9:/confroom-meta';
    const before = await appendMany(store, stream, 3);
    await redis.del(`${prefix}:stream-meta:${stream}`);
    const after = await store.append(stream, 'reborn', LIMITS);
    assert.equal(after.offset, 1);
    assert.notEqual(after.epoch, before[0]?.epoch);
    assert.deepEqual(entriesOf(await store.read(stream, {}, LIMITS)), [{ offset: 1, payload: 'reborn' }]);
    assert.deepEqual(await redis.xlen(`${prefix}:stream:${stream}`), 1);
  });

  test('the stream itself holds at most maxMessages entries', async () => {
    const store = await node();
    const stream = '9:/confroom-maxlen';
    await appendMany(store, stream, 7, { ...LIMITS, maxMessages: 3 });
    assert.equal(await redis.xlen(`${prefix}:stream:${stream}`), 3);
  });

  test('keys expire: an idle stream after maxAge, its epoch after metaTtl', async () => {
    const store = await node({ metaTtl: 150 });
    const stream = '9:/confroom-ttl';
    const limits = { ...LIMITS, maxAge: 50 };
    const first = await store.append(stream, 'x', limits);
    const streamTtl = await redis.pttl(`${prefix}:stream:${stream}`);
    const metaTtl = await redis.pttl(`${prefix}:stream-meta:${stream}`);
    assert.ok(streamTtl > 0 && streamTtl <= 50, `stream ttl ${streamTtl}`);
    assert.ok(metaTtl > 50 && metaTtl <= 150, `meta ttl ${metaTtl}`);
    await delay(250);
    assert.equal(await redis.exists(`${prefix}:stream:${stream}`, `${prefix}:stream-meta:${stream}`), 0, 'nothing left of an idle stream');
    const later = await store.position(stream);
    assert.equal(later.offset, 0);
    assert.notEqual(later.epoch, first.epoch);
  });

  test('the epoch outlives the entries even when metaTtl is shorter than maxAge', async () => {
    const store = await node({ metaTtl: 10 });
    const stream = '9:/confroom-ttl2';
    await store.append(stream, 'x', { ...LIMITS, maxAge: 5_000 });
    const metaTtl = await redis.pttl(`${prefix}:stream-meta:${stream}`);
    assert.ok(metaTtl > 1_000, `meta ttl ${metaTtl}`);
  });

  test('an announce header with a newline is refused before anything is stored', async () => {
    const store = await node();
    const stream = '9:/confroom-header';
    await assert.rejects(store.append(stream, 'x', LIMITS, { announce: { channel: `${prefix}:announce`, header: 'a\nb' } }), RangeError);
    assert.equal((await store.position(stream)).offset, 0);
  });
});

describe('decodeStreamAnnouncement', () => {
  test('splits on the first three newlines only; refuses what is not an announcement', () => {
    assert.deepEqual(decodeStreamAnnouncement('h\nE\n7\na\nb\n'), { header: 'h', position: { epoch: 'E', offset: 7 }, payload: 'a\nb\n' });
    assert.deepEqual(decodeStreamAnnouncement('h\nE\n1\n'), { header: 'h', position: { epoch: 'E', offset: 1 }, payload: '' });
    assert.equal(decodeStreamAnnouncement('h\nE\n7'), undefined);
    assert.equal(decodeStreamAnnouncement('h\nE\nx\np'), undefined);
    assert.equal(decodeStreamAnnouncement('h\nE\n0\np'), undefined);
  });
});
