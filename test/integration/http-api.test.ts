/**
 * The publish HTTP API over real HTTP, against a real server with real WebSocket clients:
 * refusals with their documented codes and statuses, publishes reaching connected
 * clients, durable publishes with positions, batches, queries, and the authorize hook.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

  test('history gives binary data in the text form of PROTOCOL.md (base64 markers)', async () => {
    const position = await node.sb.to('orders:bin').publish('file', { name: 'a', bytes: new Uint8Array([1, 2, 255]) });
    const r = await callApi(node.base, '/history?room=orders:bin', { token: KEY });
    assert.deepEqual(r.json.publications, [{ event: 'file', data: { name: 'a', bytes: { $bin: 'AQL/' } }, position, bin: 1 }]);
  });
});

/** A client signed in as `user` (the server's middleware takes it from hello.auth). */
async function signedIn(url: string, user: string): Promise<BareClient & { sid: string }> {
  const c = await BareClient.open(url);
  const welcome = await c.hello({ auth: { user } });
  return Object.assign(c, { sid: String(welcome.sid) });
}

describe('HTTP API: users', () => {
  let node: ApiNode;
  before(async () => {
    node = await startApiNode({ keys: [KEY] });
    node.sb.use((socket, next) => {
      const user = (socket.handshake.auth as { user?: string } | null)?.user;
      if (user !== undefined) socket.user = user;
      next();
    });
    node.sb.of('/shop').use((socket, next) => {
      const user = (socket.handshake.auth as { user?: string } | null)?.user;
      if (user !== undefined) socket.user = user;
      next();
    });
    node.sb.durableUsers();
    node.sb.trackPresence('lobby');
  });
  after(() => node.close());

  test('a publish to a user reaches every tab of that user and nobody else, with a position (durable user channels)', async () => {
    const tabs = [await signedIn(node.url, 'alice'), await signedIn(node.url, 'alice')];
    const bob = await signedIn(node.url, 'bob');
    const r = await callApi(node.base, '/publish', { token: KEY, body: { user: 'alice', event: 'notice', data: { order: 1 } } });
    assert.equal(r.status, 200);
    assert.equal((r.json.position as { offset: number }).offset, 1);
    for (const tab of tabs) {
      const got = await tab.next({ event: 'notice' });
      assert.deepEqual([got.data, got.room, got.position], [{ order: 1 }, '#user:alice', r.json.position]);
    }
    await callApi(node.base, '/publish', { token: KEY, body: { user: 'bob', event: 'end' } });
    await bob.next({ event: 'end' });
    assert.equal(bob.frames.some((f) => f.event === 'notice'), false);
    // What alice missed is in her channel's history.
    const history = await callApi(node.base, '/history?user=alice', { token: KEY });
    assert.deepEqual((history.json.publications as { event: string; data: unknown }[]).map((p) => [p.event, p.data]), [['notice', { order: 1 }]]);
    for (const c of [...tabs, bob]) c.close();
  });

  test('sessions lists a user\'s connections; disconnect closes every one of them with 4010', async () => {
    const tabs = [await signedIn(node.url, 'carol'), await signedIn(node.url, 'carol')];
    const dave = await signedIn(node.url, 'dave');
    const sessions = await callApi(node.base, '/sessions?user=carol', { token: KEY });
    assert.equal(sessions.status, 200);
    const listed = sessions.json.sessions as { id: string; user?: string; ns: string }[];
    assert.deepEqual(listed.map((s) => s.id).sort(), tabs.map((t) => t.sid).sort());
    assert.ok(listed.every((s) => s.user === 'carol' && s.ns === '/'));
    const none = await callApi(node.base, '/sessions?user=nobody', { token: KEY });
    assert.deepEqual(none.json, { sessions: [] });

    const r = await callApi(node.base, '/disconnect', { token: KEY, body: { user: 'carol' } });
    assert.deepEqual([r.status, r.json], [200, {}]);
    for (const tab of tabs) assert.equal((await tab.closed).code, 4010);
    assert.deepEqual((await callApi(node.base, '/sessions?user=carol', { token: KEY })).json, { sessions: [] });
    await callApi(node.base, '/publish', { token: KEY, body: { user: 'dave', event: 'still-here' } });
    await dave.next({ event: 'still-here' });
    const bad = await callApi(node.base, '/disconnect', { token: KEY, body: { user: '' } });
    assert.deepEqual([bad.status, bad.json.code], [400, 'bad_request']);
    assert.match(String(bad.json.message), /^user: /);
    dave.close();
  });

  test('a user in a namespace: publish, sessions and disconnect with ns reach that namespace', async () => {
    const c = await BareClient.open(node.url);
    await c.hello({ ns: '/shop', auth: { user: 'erin' } });
    await callApi(node.base, '/publish', { token: KEY, body: { ns: '/shop', user: 'erin', event: 'shop-notice' } });
    assert.equal((await c.next({ event: 'shop-notice' })).ns, '/shop');
    const sessions = await callApi(node.base, '/sessions?ns=/shop&user=erin', { token: KEY });
    assert.equal((sessions.json.sessions as unknown[]).length, 1);
    assert.deepEqual((await callApi(node.base, '/sessions?user=erin', { token: KEY })).json.sessions, sessions.json.sessions, 'without ns: every namespace');
    await callApi(node.base, '/disconnect', { token: KEY, body: { ns: '/shop', user: 'erin' } });
    assert.equal((await c.closed).code, 4010);
  });

  test('presence of a tracked room lists its users; an untracked room is 404 presence_not_tracked', async () => {
    const a = await signedIn(node.url, 'frank');
    a.send({ type: 'join', ref: 1, room: 'lobby' });
    await a.next({ type: 'reply', ref: 1 });
    const r = await callApi(node.base, '/presence?room=lobby', { token: KEY });
    assert.equal(r.status, 200);
    assert.deepEqual((r.json.members as { user: string }[]).map((m) => m.user), ['frank']);
    const untracked = await callApi(node.base, '/presence?room=elsewhere', { token: KEY });
    assert.deepEqual([untracked.status, untracked.json.code], [404, 'presence_not_tracked']);
    const missing = await callApi(node.base, '/presence', { token: KEY });
    assert.match(String(missing.json.message), /^room: required/);
    a.close();
  });
});

describe('HTTP API: the authorize hook and mounting', () => {
  test('authorize scopes a key: refused actions are 403 forbidden, in a batch per item; a throwing hook is internal_error', async () => {
    const seen: unknown[] = [];
    const errors: unknown[] = [];
    const node = await startApiNode({
      keys: [KEY, OLD_KEY],
      authorize: (principal, action) => {
        seen.push(action);
        if (action.room === 'explode') throw new Error('hook bug');
        // The old key may only publish to rooms starting with "public:".
        return principal.id !== keysId(OLD_KEY) || (action.action === 'publish' && (action.room ?? '').startsWith('public:'));
      },
    });
    node.sb.on('error', (err) => errors.push(err));
    const ok = await callApi(node.base, '/publish', { token: OLD_KEY, body: { room: 'public:news', event: 'e' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(seen[0], { action: 'publish', ns: '/', room: 'public:news', event: 'e' });
    const refused = await callApi(node.base, '/publish', { token: OLD_KEY, body: { room: 'private', event: 'e' } });
    assert.deepEqual([refused.status, refused.json.code], [403, 'forbidden']);
    const query = await callApi(node.base, '/sessions?user=u', { token: OLD_KEY });
    assert.deepEqual([query.status, query.json.code], [403, 'forbidden']);
    const batch = await callApi(node.base, '/batch', { token: OLD_KEY, body: { publications: [{ room: 'public:a', event: 'e' }, { room: 'private', event: 'e' }] } });
    assert.deepEqual((batch.json.results as { status: number }[]).map((r) => r.status), [200, 403]);
    assert.equal((await callApi(node.base, '/sessions?user=u', { token: KEY })).status, 200, 'the other key may');
    const broken = await callApi(node.base, '/publish', { token: KEY, body: { room: 'explode', event: 'e' } });
    assert.deepEqual([broken.status, broken.json.code], [500, 'internal_error']);
    assert.equal((errors[0] as Error).message, 'hook bug');
    await node.close();
  });

  test('api.middleware answers its paths and passes the others to the next handler; a body already read is a clear 500', async () => {
    const { createServer } = await import('node:http');
    const { Switchboard } = await import('../../src/server/index.js');
    const { HttpApi } = await import('../../src/http-api/index.js');
    const server = createServer();
    const sb = new Switchboard(server);
    const api = new HttpApi(sb, { keys: [KEY], path: '/internal/rt' });
    server.on('request', (req, res) => {
      // A body parser that ran first, for /internal/rt/publish?parsed.
      if (req.url?.endsWith('?parsed')) {
        req.resume().on('end', () => api.middleware(req, res, () => {}));
        return;
      }
      // Express mounted at a path (app.use('/internal', ...)) strips it from req.url and keeps originalUrl.
      if (req.url?.startsWith('/internal/')) Object.assign(req, { originalUrl: req.url, url: req.url.slice('/internal'.length) });
      api.middleware(req, res, () => res.end('next'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    assert.equal((await callApi(`${base}/internal/rt`, '/publish', { token: KEY, body: { room: 'r', event: 'e' } })).status, 200);
    assert.equal(await (await fetch(`${base}/other`)).text(), 'next');
    const parsed = await callApi(`${base}/internal/rt`, '/publish?parsed', { token: KEY, body: { room: 'r', event: 'e' } });
    assert.deepEqual([parsed.status, parsed.json.code], [500, 'internal_error']);
    assert.match(String(parsed.json.message), /mount api.middleware before body parsers/);
    await sb.close();
    server.closeAllConnections();
    server.close();
  });

  test('a server that is shutting down answers 503 shutting_down', async () => {
    const node = await startApiNode({ keys: [KEY] });
    const closing = node.sb.close();
    const r = await callApi(node.base, '/publish', { token: KEY, body: { room: 'r', event: 'e' } });
    assert.deepEqual([r.status, r.json.code], [503, 'shutting_down']);
    await closing;
    await node.close();
  });

  test('options are checked when the API is made', async () => {
    const { HttpApi } = await import('../../src/http-api/index.js');
    const node = await startApiNode({ keys: [KEY] });
    assert.throws(() => new HttpApi(node.sb, {}), /needs credentials/);
    assert.throws(() => new HttpApi(node.sb, { keys: [KEY], path: 'api' }), /path must start with "\/"/);
    assert.throws(() => new HttpApi(node.sb, { keys: [KEY], maxBodyBytes: 0 }), /maxBodyBytes must be a positive integer/);
    assert.throws(() => new HttpApi(node.sb, { keys: [KEY], keyz: [] } as never), /option "keyz" is unknown/);
    assert.throws(() => new HttpApi(node.sb, { jwt: {} }), /exactly one of secret, publicKey and jwks/);
    await node.close();
  });
});

/** The principal id of an API key, as the authorize hook sees it. */
function keysId(key: string): string {
  return `key:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
