/**
 * The publish HTTP API over real HTTP, against a real server with real WebSocket clients:
 * refusals with their documented codes and statuses, publishes reaching connected
 * clients, durable publishes with positions, batches, queries, and the authorize hook.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { BareClient } from '../helpers/bare-client.js';
import { type ApiNode, callApi, startApiNode } from '../helpers/http-api.js';

const KEY = 'test-key-5b1f0c6e9d2a';
const OLD_KEY = 'test-key-old-7a3e1d';

async function member(url: string, ...rooms: string[]): Promise<BareClient> {
  const c = await BareClient.open(url);
  await c.hello();
  for (const [i, room] of rooms.entries()) {
    c.send({ type: 'join', ref: i + 1, room });
    const reply = await c.next({ type: 'reply', ref: i + 1 });
    assert.equal(reply.error, undefined, `join ${room}`);
  }
  return c;
}

describe('HTTP API: refusals', () => {
  let node: ApiNode;
  before(async () => {
    node = await startApiNode({ keys: [KEY, OLD_KEY], maxBodyBytes: 1024 });
  });
  after(() => node.close());
  const publish = { room: 'r', event: 'e', data: 1 };

  test('no Authorization header: 401 unauthorized with a Bearer challenge', async () => {
    const r = await callApi(node.base, '/publish', { body: publish });
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'unauthorized');
    assert.match(String(r.json.message), /missing Authorization header/);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="switchboard"');
  });

  test('a wrong key, or another scheme: 401 unauthorized', async () => {
    const wrong = await callApi(node.base, '/publish', { body: publish, token: `${KEY}x` });
    assert.deepEqual([wrong.status, wrong.json.code, wrong.json.message], [401, 'unauthorized', 'unknown API key']);
    const basic = await callApi(node.base, '/publish', { body: publish, headers: { authorization: `Basic ${KEY}` } });
    assert.deepEqual([basic.status, basic.json.code], [401, 'unauthorized']);
  });

  test('every key of the list is accepted (rotation)', async () => {
    assert.equal((await callApi(node.base, '/publish', { body: publish, token: KEY })).status, 200);
    assert.equal((await callApi(node.base, '/publish', { body: publish, token: OLD_KEY })).status, 200);
  });

  test('a body that is not JSON, not an object, or not a publication: 400 bad_request naming the field', async () => {
    const malformed = await callApi(node.base, '/publish', { raw: '{"room": "r",', token: KEY });
    assert.deepEqual([malformed.status, malformed.json.code], [400, 'bad_request']);
    assert.match(String(malformed.json.message), /not valid JSON/);
    const list = await callApi(node.base, '/publish', { raw: '[]', token: KEY });
    assert.match(String(list.json.message), /must be a JSON object/);
    const noEvent = await callApi(node.base, '/publish', { body: { room: 'r' }, token: KEY });
    assert.deepEqual([noEvent.status, noEvent.json.code], [400, 'bad_request']);
    assert.match(String(noEvent.json.message), /^event: /);
    const both = await callApi(node.base, '/publish', { body: { room: 'r', user: 'u', event: 'e' }, token: KEY });
    assert.match(String(both.json.message), /^user: give exactly one of room and user/);
    const typo = await callApi(node.base, '/publish', { body: { room: 'r', evnt: 'e' }, token: KEY });
    assert.match(String(typo.json.message), /^evnt: unknown field/);
  });

  test('a body that is not application/json: 415 unsupported_media_type', async () => {
    const r = await callApi(node.base, '/publish', { raw: JSON.stringify(publish), token: KEY, headers: { 'content-type': 'text/plain' } });
    assert.deepEqual([r.status, r.json.code], [415, 'unsupported_media_type']);
  });

  test('a body over maxBodyBytes: 413 message_too_big, and the connection closes', async () => {
    const big = JSON.stringify({ ...publish, data: 'x'.repeat(2000) });
    const r = await callApi(node.base, '/publish', { raw: big, token: KEY });
    assert.deepEqual([r.status, r.json.code], [413, 'message_too_big']);
    assert.equal(r.headers.get('connection'), 'close');
    // Streamed without a length: cut off while it arrives.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${node.base}/publish`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(big.slice(0, 800));
      req.write(big.slice(800));
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.equal(JSON.parse(streamed.body).code, 'message_too_big');
  });

  test('an unknown route: 404 unknown_route; a wrong method: 405 with Allow', async () => {
    const unknown = await callApi(node.base, '/publsh', { body: publish, token: KEY });
    assert.deepEqual([unknown.status, unknown.json.code], [404, 'unknown_route']);
    const bare = await callApi(node.base, '', { token: KEY });
    assert.deepEqual([bare.status, bare.json.code], [404, 'unknown_route']);
    const get = await callApi(node.base, '/publish', { token: KEY });
    assert.deepEqual([get.status, get.json.code, get.headers.get('allow')], [405, 'method_not_allowed', 'POST']);
    const post = await callApi(node.base, '/history?room=r', { method: 'POST', token: KEY, body: {} });
    assert.deepEqual([post.status, post.headers.get('allow')], [405, 'GET']);
  });

  test('every answer is JSON, not cacheable, without CORS headers; paths outside the API go to the app', async () => {
    const r = await callApi(node.base, '/publish', { body: publish, token: KEY });
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    const app = await fetch(node.base.replace('/api/switchboard', '/api/switchboardx'));
    assert.equal(await app.text(), 'the app');
  });
});

describe('HTTP API: publishing', () => {
  let node: ApiNode;
  before(async () => {
    node = await startApiNode({ keys: [KEY] });
    node.sb.durable(/^orders:/);
    node.sb.of('/shop');
  });
  after(() => node.close());

  test('a publish to a room reaches its members, and nobody else', async () => {
    const a = await member(node.url, 'news');
    const b = await member(node.url, 'news');
    const other = await member(node.url, 'sport');
    const r = await callApi(node.base, '/publish', { token: KEY, body: { room: 'news', event: 'headline', data: { text: 'hi' } } });
    assert.deepEqual([r.status, r.json], [200, {}]);
    for (const c of [a, b]) assert.deepEqual(await c.next({ event: 'headline' }), { type: 'event', event: 'headline', data: { text: 'hi' }, room: 'news' });
    // A later publish to the other room arrives; the first did not.
    await callApi(node.base, '/publish', { token: KEY, body: { room: 'sport', event: 'score' } });
    await other.next({ event: 'score' });
    assert.equal(other.frames.some((f) => f.event === 'headline'), false);
    for (const c of [a, b, other]) c.close();
  });

  test('except leaves a room (a socket id) out; volatile still reaches a member that keeps up', async () => {
    const a = await member(node.url, 'news');
    const b = await BareClient.open(node.url);
    const welcome = await b.hello();
    b.send({ type: 'join', ref: 1, room: 'news' });
    await b.next({ type: 'reply', ref: 1 });
    const r = await callApi(node.base, '/publish', { token: KEY, body: { room: 'news', event: 'not-b', except: welcome.sid } });
    assert.equal(r.status, 200);
    await callApi(node.base, '/publish', { token: KEY, body: { room: 'news', event: 'all', volatile: true } });
    await a.next({ event: 'not-b' });
    await a.next({ event: 'all' });
    await b.next({ event: 'all' });
    assert.equal(b.frames.some((f) => f.event === 'not-b'), false, 'published before "all", never arrived');
    a.close();
    b.close();
  });

  test('a durable publish answers with its position; members get it with the position', async () => {
    const c = await member(node.url, 'orders:1');
    const r = await callApi(node.base, '/publish', { token: KEY, body: { room: 'orders:1', event: 'created', data: { id: 7 } } });
    assert.equal(r.status, 200);
    const position = r.json.position as { epoch: string; offset: number };
    assert.equal(position.offset, 1);
    const got = await c.next({ event: 'created' });
    assert.deepEqual(got.position, position);
    c.close();
  });

  test('a namespace: the publish reaches that namespace only', async () => {
    const c = await BareClient.open(node.url);
    await c.hello({ ns: '/shop' });
    c.send({ type: 'join', ref: 1, ns: '/shop', room: 'news' });
    await c.next({ type: 'reply', ref: 1 });
    await callApi(node.base, '/publish', { token: KEY, body: { room: 'news', event: 'root-only' } });
    await callApi(node.base, '/publish', { token: KEY, body: { ns: '/shop', room: 'news', event: 'shop-news' } });
    assert.equal((await c.next({ event: 'shop-news' })).ns, '/shop');
    assert.equal(c.frames.some((f) => f.event === 'root-only'), false);
    c.close();
  });

  test('a batch: per-item results in order, a bad item does not sink the others, publications arrive in list order', async () => {
    const c = await member(node.url, 'news', 'orders:2');
    const r = await callApi(node.base, '/batch', {
      token: KEY,
      body: {
        publications: [
          { room: 'news', event: 'n', data: 1 },
          { room: 'orders:2', event: 'o', data: 1 },
          { room: 'news', data: 'no event' },
          { room: 'orders:2', event: 'o', data: 2 },
          { room: 'news', event: 'n', data: 2 },
        ],
      },
    });
    assert.equal(r.status, 200);
    const results = r.json.results as Record<string, unknown>[];
    assert.equal(results.length, 5);
    assert.deepEqual(results[0], { status: 200 });
    assert.deepEqual((results[1]?.position as { offset: number }).offset, 1);
    assert.equal(results[2]?.status, 400);
    assert.equal(results[2]?.code, 'bad_request');
    assert.match(String(results[2]?.message), /^publications\[2\]\.event:/);
    assert.deepEqual((results[3]?.position as { offset: number }).offset, 2);
    assert.deepEqual(results[4], { status: 200 });
    const n = [await c.next({ event: 'n' }), await c.next({ event: 'n' })].map((f) => f.data);
    const o = [await c.next({ event: 'o' }), await c.next({ event: 'o' })].map((f) => f.data);
    assert.deepEqual([n, o], [[1, 2], [1, 2]]);
    c.close();
  });

  test('a batch is bounded, and must be a non-empty list', async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ room: 'news', event: 'e', data: i }));
    const tooMany = await callApi(node.base, '/batch', { token: KEY, body: { publications: many } });
    assert.deepEqual([tooMany.status, tooMany.json.code], [400, 'bad_request']);
    assert.match(String(tooMany.json.message), /at most 100 in one batch, got 101/);
    const empty = await callApi(node.base, '/batch', { token: KEY, body: { publications: [] } });
    assert.match(String(empty.json.message), /^publications: must be a non-empty array/);
  });

  test('history of a durable room: publications after a position, with a limit; refusals for other rooms', async () => {
    const positions: { epoch: string; offset: number }[] = [];
    for (let i = 1; i <= 4; i++) positions.push((await callApi(node.base, '/publish', { token: KEY, body: { room: 'orders:h', event: 'n', data: i } })).json.position as never);
    const all = await callApi(node.base, '/history?room=orders:h', { token: KEY });
    assert.equal(all.status, 200);
    assert.deepEqual((all.json.publications as { data: number }[]).map((p) => p.data), [1, 2, 3, 4]);
    assert.deepEqual(all.json.position, positions[3]);
    const p1 = positions[1] as { epoch: string; offset: number };
    const since = await callApi(node.base, `/history?room=orders:h&sinceEpoch=${p1.epoch}&sinceOffset=${p1.offset}&limit=1`, { token: KEY });
    assert.deepEqual((since.json.publications as { data: number; position: unknown }[]).map((p) => [p.data, p.position]), [[3, positions[2]]]);
    const notDurable = await callApi(node.base, '/history?room=news', { token: KEY });
    assert.deepEqual([notDurable.status, notDurable.json.code], [404, 'not_durable']);
    const gone = await callApi(node.base, `/history?room=orders:h&sinceEpoch=other&sinceOffset=1`, { token: KEY });
    assert.deepEqual([gone.status, gone.json.code], [410, 'unrecoverable']);
    const badLimit = await callApi(node.base, '/history?room=orders:h&limit=5000', { token: KEY });
    assert.deepEqual([badLimit.status, badLimit.json.code], [400, 'bad_request']);
  });
});
