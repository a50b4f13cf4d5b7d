/**
 * `switchboard serve` with Redis and claim-based room rules: two processes sharing a Redis
 * (prefix of the test's own) deliver an API publication made on one to a client of the
 * other, and a JWT's `rooms` claim decides which rooms its client may join.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { nextEvent, ServeDir, ServeProcess } from '../fixtures/serve-process.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';

const SECRET = 'cluster-test-secret-0123456789-abcdefghij';
const API_KEY = 'cluster-test-api-key-0123456789';

function jwt(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
}

async function client(url: string, token: string): Promise<SwitchboardClient> {
  const c = connect(url, { reconnect: false, auth: { token } });
  await new Promise<void>((resolve, reject) => {
    c.on('connect', () => resolve());
    c.on('connect_error', (err) => reject(err));
  });
  return c;
}

describe('switchboard serve: two processes sharing Redis, and room claims', () => {
  const keys = useRedisKeys();
  const dir = new ServeDir();
  const nodes: ServeProcess[] = [];
  const clients: SwitchboardClient[] = [];

  before(async () => {
    dir.config({
      port: 0,
      host: '127.0.0.1',
      redis: { url: REDIS_URL, prefix: keys.prefix('serve') },
      durable: ['feed:*'],
      auth: { jwt: { secret: SECRET }, rooms: { claim: 'rooms', public: ['lobby'] } },
    });
    // The API keys come from the environment, as the docs advise for secrets.
    const env = { SWITCHBOARD_API_KEYS: API_KEY };
    nodes.push(...(await Promise.all([0, 1].map(() => ServeProcess.start(['-c', 'switchboard.json'], { cwd: dir.path, env })))));
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const node of nodes) await node.stop();
    dir.remove();
  });

  test('both print the cluster they joined', () => {
    for (const node of nodes) assert.match(node.stdout, /cluster: redis redis:\/\/.* prefix "sbtest:serve:/);
  });

  test('an API publication on one process reaches a client of the other, durable rooms included', async () => {
    const [a, b] = nodes as [ServeProcess, ServeProcess];
    const c = await client(b.wsUrl, await jwt('ada', { rooms: ['feed:*'] }));
    clients.push(c);
    await c.join('feed:news');
    const received = nextEvent(c, 'story');
    const res = await fetch(`${a.httpOrigin}/api/switchboard/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'feed:news', event: 'story', data: { title: 'across' } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const [data, meta] = (await received) as [unknown, { position?: { offset: number } }];
    assert.deepEqual(data, { title: 'across' });
    assert.equal(meta.position?.offset, ((await res.json()) as { position: { offset: number } }).position.offset);
    // The history lives in Redis: the other process reads it too.
    const other = await client(a.wsUrl, await jwt('bob', { rooms: ['feed:news'] }));
    clients.push(other);
    assert.deepEqual((await other.history('feed:news')).publications.map((p) => p.data), [{ title: 'across' }]);
  });

  test('a client may join the public rooms and those its token\'s rooms claim lists, and no other', async () => {
    const c = await client(nodes[0]!.wsUrl, await jwt('carol', { rooms: ['team:7:*'] }));
    clients.push(c);
    await c.join('lobby');
    await c.join('team:7:chat');
    await assert.rejects(c.join('team:8:chat'), { code: 'forbidden' });
    await assert.rejects(c.join('feed:news'), { code: 'forbidden' });
    const none = await client(nodes[1]!.wsUrl, await jwt('dan'));
    clients.push(none);
    await none.join('lobby');
    await assert.rejects(none.join('team:7:chat'), { code: 'forbidden' });
  });
});
