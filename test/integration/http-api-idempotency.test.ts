/**
 * Idempotency keys of the HTTP API: a backend's retries deliver once — sequential,
 * concurrent, and across two nodes sharing Redis (RedisIdempotencyStore) — while a key
 * reused for another body is a conflict. Both stores pass the same store checks.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { RedisAdapter, RedisIdempotencyStore } from '../../src/cluster/redis/index.js';
import { MemoryStreamStore } from '../../src/delivery/memory-stream-store.js';
import type { HistoryLimits } from '../../src/delivery/stream-store.js';
import type { StreamPosition } from '../../src/protocol/frames.js';
import { MemoryIdempotencyStore, type IdempotencyStore } from '../../src/http-api/index.js';
import { parsePublication, publicationFingerprint } from '../../src/http-api/publication.js';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { BareClient } from '../helpers/bare-client.js';
import { type ApiNode, callApi, startApiNode } from '../helpers/http-api.js';
import { eventually } from '../helpers/server.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';

const KEY = 'idem-test-key-83hf0a';
const OTHER_KEY = 'idem-test-key-other-2kd9';

async function member(url: string, room: string): Promise<BareClient> {
  const c = await BareClient.open(url);
  await c.hello();
  c.send({ type: 'join', ref: 1, room });
  assert.equal((await c.next({ type: 'reply', ref: 1 })).error, undefined);
  return c;
}

/** The events named `event` a member got before `end` (published after every retry was answered): same-room publications arrive in order. */
async function deliveredBefore(c: BareClient, publishEnd: () => Promise<unknown>, event: string): Promise<Record<string, unknown>[]> {
  await publishEnd();
  await c.next({ event: 'end' });
  return c.frames.filter((f) => f.event === event);
}

describe('HTTP API idempotency on one node', () => {
  let node: ApiNode;
  before(async () => {
    node = await startApiNode({ keys: [KEY, OTHER_KEY] });
    node.sb.durable(/^orders:/);
  });
  after(() => node.close());

  test('the same key retried five times delivers once; each retry gets the first answer, marked as a replay', async () => {
    const c = await member(node.url, 'news');
    const body = { room: 'news', event: 'order', data: { id: 1 }, idempotencyKey: 'order-1' };
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await callApi(node.base, '/publish', { token: KEY, body }));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    assert.deepEqual(answers.map((a) => a.headers.get('idempotent-replayed')), [null, 'true', 'true', 'true', 'true']);
    const got = await deliveredBefore(c, () => callApi(node.base, '/publish', { token: KEY, body: { room: 'news', event: 'end' } }), 'order');
    assert.equal(got.length, 1);
    c.close();
  });

  test('the Idempotency-Key header works like the body field', async () => {
    const c = await member(node.url, 'orders:h');
    const body = { room: 'orders:h', event: 'order', data: 2 };
    const first = await callApi(node.base, '/publish', { token: KEY, body, headers: { 'idempotency-key': 'hdr-1' } });
    const again = await callApi(node.base, '/publish', { token: KEY, body: { ...body, idempotencyKey: 'hdr-1' } });
    assert.deepEqual(again.json, first.json, 'the same position');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const differ = await callApi(node.base, '/publish', { token: KEY, body: { ...body, idempotencyKey: 'a' }, headers: { 'idempotency-key': 'b' } });
    assert.deepEqual([differ.status, differ.json.code], [400, 'bad_request']);
    const got = await deliveredBefore(c, () => callApi(node.base, '/publish', { token: KEY, body: { room: 'orders:h', event: 'end' } }), 'order');
    assert.equal(got.length, 1);
    c.close();
  });

  test('ten concurrent requests with one key deliver once, and all get the same position', async () => {
    const c = await member(node.url, 'orders:c');
    const body = { room: 'orders:c', event: 'order', data: { id: 3 }, idempotencyKey: 'order-3' };
    const answers = await Promise.all(Array.from({ length: 10 }, () => callApi(node.base, '/publish', { token: KEY, body })));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.equal(new Set(answers.map((a) => JSON.stringify(a.json.position))).size, 1);
    assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === null).length, 1, 'one ran, nine replayed');
    const got = await deliveredBefore(c, () => callApi(node.base, '/publish', { token: KEY, body: { room: 'orders:c', event: 'end' } }), 'order');
    assert.equal(got.length, 1);
    const history = await callApi(node.base, '/history?room=orders:c', { token: KEY });
    assert.equal((history.json.publications as { event: string }[]).filter((p) => p.event === 'order').length, 1);
    c.close();
  });

  test('the same key with another body: 409 idempotency_conflict, nothing published', async () => {
    const c = await member(node.url, 'news2');
    const first = await callApi(node.base, '/publish', { token: KEY, body: { room: 'news2', event: 'order', data: 1, idempotencyKey: 'k-conflict' } });
    assert.equal(first.status, 200);
    const other = await callApi(node.base, '/publish', { token: KEY, body: { room: 'news2', event: 'order', data: 2, idempotencyKey: 'k-conflict' } });
    assert.deepEqual([other.status, other.json.code], [409, 'idempotency_conflict']);
    const got = await deliveredBefore(c, () => callApi(node.base, '/publish', { token: KEY, body: { room: 'news2', event: 'end' } }), 'order');
    assert.deepEqual(got.map((f) => f.data), [1]);
    c.close();
  });

  test('keys are scoped per credential: another key may use the same idempotency key', async () => {
    const c = await member(node.url, 'news3');
    const body = { room: 'news3', event: 'order', data: 1, idempotencyKey: 'shared-name' };
    await callApi(node.base, '/publish', { token: KEY, body });
    const other = await callApi(node.base, '/publish', { token: OTHER_KEY, body });
    assert.equal(other.headers.get('idempotent-replayed'), null);
    const got = await deliveredBefore(c, () => callApi(node.base, '/publish', { token: KEY, body: { room: 'news3', event: 'end' } }), 'order');
    assert.equal(got.length, 2);
    c.close();
  });

  test('a batch retried: each keyed item delivers once and is marked replayed; an item without a key goes out again', async () => {
    const c = await member(node.url, 'news4');
    const batch = {
      publications: [
        { room: 'news4', event: 'keyed', data: 1, idempotencyKey: 'b-1' },
        { room: 'news4', event: 'keyed', data: 2, idempotencyKey: 'b-2' },
        { room: 'news4', event: 'unkeyed', data: 3 },
      ],
    };
    const first = await callApi(node.base, '/batch', { token: KEY, body: batch });
    const retry = await callApi(node.base, '/batch', { token: KEY, body: batch });
    assert.deepEqual(first.json.results, [{ status: 200 }, { status: 200 }, { status: 200 }]);
    assert.deepEqual(retry.json.results, [{ status: 200, replayed: true }, { status: 200, replayed: true }, { status: 200 }]);
    const repeated = await callApi(node.base, '/batch', { token: KEY, body: { publications: [batch.publications[0], batch.publications[0]] } });
    assert.equal((repeated.json.results as { status: number }[])[1]?.status, 400, 'a key twice in one batch');
    const batchKey = await callApi(node.base, '/batch', { token: KEY, body: batch, headers: { 'idempotency-key': 'whole' } });
    assert.deepEqual([batchKey.status, batchKey.json.code], [400, 'bad_request']);
    const got = await deliveredBefore(c, () => callApi(node.base, '/publish', { token: KEY, body: { room: 'news4', event: 'end' } }), 'keyed');
    assert.deepEqual(got.map((f) => f.data), [1, 2]);
    assert.equal(c.frames.filter((f) => f.event === 'unkeyed').length, 2);
    c.close();
  });
});

/** A stream store whose appends the test holds back (`gate`) or fails (`failNext`): a slow or broken Redis, in memory. */
class HeldStreamStore extends MemoryStreamStore {
  gate: Promise<void> | undefined;
  failNext = 0;
  appends = 0;
  override async append(stream: string, payload: string, limits: HistoryLimits): Promise<StreamPosition> {
    this.appends++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new SwitchboardError('cluster_unavailable', 'the test says Redis is away');
    }
    await this.gate;
    return super.append(stream, payload, limits);
  }
}

describe('HTTP API idempotency while the first attempt runs, and after it failed', () => {
  test('a retry waits for the running attempt and gets its answer; past idempotency.wait it is told 409 idempotency_in_flight', async () => {
    const streams = new HeldStreamStore();
    let open!: () => void;
    streams.gate = new Promise((resolve) => (open = resolve));
    // Counts the looks at the key that found the first attempt still running.
    let sawRunning = 0;
    const counting = new (class extends MemoryIdempotencyStore {
      override async claim(key: string, fingerprint: string, token: string, leaseMs: number) {
        const record = await super.claim(key, fingerprint, token, leaseMs);
        if (record && !record.answer) sawRunning++;
        return record;
      }
    })();
    const waiting = await startApiNode({ keys: [KEY], idempotency: { store: counting } }, { streams });
    waiting.sb.durable('orders:slow');
    const body = { room: 'orders:slow', event: 'order', data: 1, idempotencyKey: 'slow-1' };
    const first = callApi(waiting.base, '/publish', { token: KEY, body });
    const retry = callApi(waiting.base, '/publish', { token: KEY, body });
    // The gate opens once the first attempt is appending and the retry has found it running.
    await eventually(() => streams.appends >= 1 && sawRunning >= 1, 'the retry finding the first attempt running');
    open();
    const [a, b] = await Promise.all([first, retry]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.deepEqual(b.json, a.json);
    assert.equal([a, b].filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 1);
    assert.equal(streams.appends, 1, 'published once');
    await waiting.close();

    // With wait 0, a retry of an attempt still running (on another node, say) is told at once.
    const store = new MemoryIdempotencyStore();
    const held = await startApiNode({ keys: [KEY], idempotency: { wait: 0, store } });
    const running = { room: 'r', event: 'e', idempotencyKey: 'slow-2' };
    const principal = `key:${createHash('sha256').update(KEY).digest('hex').slice(0, 16)}`;
    const scoped = createHash('sha256').update(principal).update('\n').update('slow-2').digest('base64url');
    const fingerprint = createHash('sha256').update(publicationFingerprint('/publish', parsePublication(running))).digest('base64url');
    await store.claim(scoped, fingerprint, 'another-node', 60_000);
    const told = await callApi(held.base, '/publish', { token: KEY, body: running });
    assert.deepEqual([told.status, told.json.code, told.headers.get('retry-after')], [409, 'idempotency_in_flight', '1']);
    const other = await callApi(held.base, '/publish', { token: KEY, body: { ...running, data: 'other' } });
    assert.equal(other.json.code, 'idempotency_conflict', 'another body under a running key is a conflict at once');
    await held.close();
  });

  test('a 503 is not kept: the retry with the same key publishes, once', async () => {
    const streams = new HeldStreamStore();
    const node = await startApiNode({ keys: [KEY] }, { streams });
    node.sb.durable('orders:flaky');
    const c = await member(node.url, 'orders:flaky');
    streams.failNext = 1;
    const body = { room: 'orders:flaky', event: 'order', data: 1, idempotencyKey: 'flaky-1' };
    const failed = await callApi(node.base, '/publish', { token: KEY, body });
    assert.deepEqual([failed.status, failed.json.code, failed.headers.get('retry-after')], [503, 'cluster_unavailable', '1']);
    const retried = await callApi(node.base, '/publish', { token: KEY, body });
    assert.equal(retried.status, 200);
    assert.equal(retried.headers.get('idempotent-replayed'), null, 'it ran, it was not a replay of the failure');
    const again = await callApi(node.base, '/publish', { token: KEY, body });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const got = await deliveredBefore(c, () => callApi(node.base, '/publish', { token: KEY, body: { room: 'orders:flaky', event: 'end' } }), 'order');
    assert.equal(got.length, 1);
    c.close();
    await node.close();
  });
});

describe('HTTP API idempotency across two nodes (Redis)', () => {
  const keys = useRedisKeys();
  let nodes: ApiNode[];
  let stores: RedisIdempotencyStore[];
  before(async () => {
    const prefix = keys.prefix('http-api-idem');
    stores = [new RedisIdempotencyStore(REDIS_URL, { prefix }), new RedisIdempotencyStore(REDIS_URL, { prefix })];
    nodes = await Promise.all(stores.map((store) => startApiNode({ keys: [KEY], idempotency: { store } }, { adapter: new RedisAdapter(REDIS_URL, { prefix }) })));
    for (const n of nodes) n.sb.durable(/^orders:/);
  });
  after(async () => {
    for (const n of nodes) await n.close();
    for (const s of stores) await s.close();
  });

  test('retries alternating between the nodes, then concurrent on both, deliver once', async () => {
    const [a, b] = nodes as [ApiNode, ApiNode];
    const c = await member(a.url, 'orders:x');
    const body = { room: 'orders:x', event: 'order', data: { id: 9 }, idempotencyKey: 'order-9' };
    const sequential = [];
    for (let i = 0; i < 4; i++) sequential.push(await callApi((i % 2 === 0 ? b : a).base, '/publish', { token: KEY, body }));
    const concurrent = await Promise.all(Array.from({ length: 8 }, (_, i) => callApi((i % 2 === 0 ? a : b).base, '/publish', { token: KEY, body })));
    const all = [...sequential, ...concurrent];
    assert.deepEqual(new Set(all.map((r) => r.status)), new Set([200]));
    assert.equal(new Set(all.map((r) => JSON.stringify(r.json.position))).size, 1, 'one position for all');
    assert.equal(all.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1);
    const got = await deliveredBefore(c, () => callApi(b.base, '/publish', { token: KEY, body: { room: 'orders:x', event: 'end' } }), 'order');
    assert.equal(got.length, 1);
    const history = await callApi(a.base, '/history?room=orders:x', { token: KEY });
    assert.equal((history.json.publications as { event: string }[]).filter((p) => p.event === 'order').length, 1);
    const conflict = await callApi(a.base, '/publish', { token: KEY, body: { ...body, data: { id: 10 } } });
    assert.deepEqual([conflict.status, conflict.json.code], [409, 'idempotency_conflict']);
    c.close();
  });
});

/** The same checks for every IdempotencyStore. */
function storeChecks(name: string, make: () => IdempotencyStore, done?: (store: IdempotencyStore) => Promise<void>): void {
  describe(`IdempotencyStore: ${name}`, () => {
    const answer = { status: 200, body: '{"position":{"epoch":"e","offset":3}}' };
    test('a claim is the first attempt\'s; others see it running, then its answer', async () => {
      const store = make();
      assert.equal(await store.claim('k1', 'f1', 't1', 60_000), undefined);
      assert.deepEqual(await store.claim('k1', 'f1', 't2', 60_000), { fingerprint: 'f1' });
      await store.complete('k1', 't1', { fingerprint: 'f1', answer }, 60_000);
      assert.deepEqual(await store.claim('k1', 'f2', 't3', 60_000), { fingerprint: 'f1', answer });
      await done?.(store);
    });

    test('a release lets the next attempt claim; another attempt\'s release or completion is ignored', async () => {
      const store = make();
      await store.claim('k2', 'f', 't1', 60_000);
      await store.release('k2', 'not-t1');
      await store.complete('k2', 'not-t1', { fingerprint: 'f', answer }, 60_000);
      assert.deepEqual(await store.claim('k2', 'f', 't2', 60_000), { fingerprint: 'f' });
      await store.release('k2', 't1');
      assert.equal(await store.claim('k2', 'f', 't2', 60_000), undefined);
      await done?.(store);
    });

    test('concurrent claims of one key: exactly one wins', async () => {
      const store = make();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim('k3', 'f', `t${i}`, 60_000)));
      assert.equal(results.filter((r) => r === undefined).length, 1);
      await done?.(store);
    });
  });
}

storeChecks('MemoryIdempotencyStore', () => new MemoryIdempotencyStore());
describe('RedisIdempotencyStore', () => {
  const keys = useRedisKeys();
  storeChecks('RedisIdempotencyStore', () => new RedisIdempotencyStore(REDIS_URL, { prefix: keys.prefix('idem-store') }), (s) => (s as RedisIdempotencyStore).close());
  test('Redis unreachable: cluster_unavailable', async () => {
    const store = new RedisIdempotencyStore('redis://127.0.0.1:1', { prefix: keys.prefix('idem-down') });
    await assert.rejects(store.claim('k', 'f', 't', 1000), { code: 'cluster_unavailable' });
    await store.close();
  });
});
