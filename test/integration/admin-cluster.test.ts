/**
 * The admin dashboard on a cluster (two nodes in this process, on the real Redis): the
 * page's node gathers every node's numbers, lists the sessions of both, and disconnects a
 * session that lives on the other node.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type AdminSnapshot, adminDashboard } from '../../src/admin/index.js';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { nextClientEvent } from '../helpers/client-event.js';
import { eventually, startServer } from '../helpers/server.js';

/** Cluster queries cross Redis: a longer bound than one node's. */
const next = <T>(client: SwitchboardClient, event: string, accept?: (value: T) => boolean): Promise<T> => nextClientEvent<T>(client, event, accept, 15_000);

const TOKEN = 'cluster-admin-token-0123456789';

describe('adminDashboard on a cluster', () => {
  const redisKeys = useRedisKeys();
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function node(prefix: string, mount: boolean): Promise<{ sb: Switchboard; url: string }> {
    const started = await startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
    closers.push(() => started.sb.close());
    if (mount) closers.push(((dashboard) => () => dashboard.close())(adminDashboard(started.sb, { token: TOKEN, interval: 150 })));
    return started;
  }

  function client(url: string, options: Parameters<typeof connect>[1] = {}): SwitchboardClient {
    const c = connect(url, { reconnect: false, ...options });
    closers.push(() => c.close());
    return c;
  }

  test("every node's numbers and sessions, and a disconnect of a session on the other node", async () => {
    const prefix = redisKeys.prefix('admin-cluster');
    const a = await node(prefix, true);
    const b = await node(prefix, true);
    const remote = client(b.url);
    await eventually(() => remote.connected, 'the client on node b to connect');
    const remoteId = remote.id as string;

    const admin = client(a.url, { namespace: '/admin', auth: { token: TOKEN } });
    const seen = await next<AdminSnapshot>(admin, 'snapshot', (s) => s.nodes.length === 2 && s.sessions.total === 1);
    assert.deepEqual(seen.nodes.map((n) => n.id).sort(), [a.sb.stats().nodeId, b.sb.stats().nodeId].sort());
    assert.equal(seen.node, a.sb.stats().nodeId);
    assert.equal(seen.total.sessions.connected, 2, 'the admin on a and the client on b');
    assert.equal(seen.sessions.list[0]?.node, b.sb.stats().nodeId);
    assert.deepEqual(seen.problems, []);

    const gone = next(remote, 'disconnect');
    assert.deepEqual(await admin.emitWithAck('disconnectSession', { ns: '/', id: remoteId }), { found: true });
    await gone;
    await next<AdminSnapshot>(admin, 'snapshot', (s) => s.sessions.total === 0);
  });

  test('a node without the dashboard is said in problems, not hidden', async () => {
    const prefix = redisKeys.prefix('admin-cluster-partial');
    const a = await node(prefix, true);
    await node(prefix, false);
    const admin = client(a.url, { namespace: '/admin', auth: { token: TOKEN } });
    const seen = await next<AdminSnapshot>(admin, 'snapshot', (s) => s.problems.length > 0);
    assert.equal(seen.nodes.length, 1);
    assert.match(seen.problems[0] as string, /1 node\(s\) answered without stats: mount adminDashboard on every node/);
  });
});
