/**
 * The admin dashboard's namespace with a Node client, as the page uses it: the token in the
 * handshake's auth (refused without it), snapshots pushed while an admin is connected, the
 * sessions list, and the disconnect request.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AdminDashboard, type AdminSnapshot, adminDashboard } from '../../src/admin/index.js';
import { connect, type SwitchboardClient, type SwitchboardError } from '../../src/client/node.js';
import { Switchboard } from '../../src/server/index.js';
import { nextClientEvent as next } from '../helpers/client-event.js';
import { eventually, startServer } from '../helpers/server.js';

const TOKEN = 'admin-token-for-tests-0123456789';

describe('adminDashboard: the admin namespace', () => {
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function setup(options: Partial<Parameters<typeof adminDashboard>[1]> = {}): Promise<{ sb: Switchboard; url: string; dashboard: AdminDashboard }> {
    const { sb, url } = await startServer();
    closers.push(() => sb.close());
    const dashboard = adminDashboard(sb, { token: TOKEN, interval: 100, ...options });
    closers.push(() => dashboard.close());
    return { sb, url, dashboard };
  }

  function client(url: string, options: Parameters<typeof connect>[1] = {}): SwitchboardClient {
    const c = connect(url, { reconnect: false, ...options });
    closers.push(() => c.close());
    return c;
  }

  test('a wrong or missing token is refused with unauthorized at the handshake', async () => {
    const { url } = await setup();
    for (const auth of [{ token: 'wrong-token-wrong-token' }, { token: TOKEN.slice(0, -1) }, undefined, 'just-a-string']) {
      const admin = client(url, { namespace: '/admin', ...(auth === undefined ? {} : { auth }) });
      const error = await next<SwitchboardError>(admin, 'connect_error');
      assert.equal(error.code, 'unauthorized', JSON.stringify(auth));
      admin.close();
    }
  });

  test('the right token connects, and snapshots come every interval with the numbers of today', async () => {
    const { sb, url } = await setup();
    sb.on('connection', (socket) => socket.join('lobby'));
    const admin = client(url, { namespace: '/admin', auth: { token: TOKEN } });
    const first = await next<AdminSnapshot>(admin, 'snapshot');
    assert.equal(first.nodes.length, 1);
    assert.equal(first.node, sb.stats().nodeId);
    assert.equal(first.total.sessions.connected, 1, 'the admin itself is a connected session');
    assert.deepEqual(first.sessions, { total: 0, list: [] }, 'the admin namespace is not listed');

    const user = client(url, { auth: { name: 'ada' } });
    const seen = await next<AdminSnapshot>(admin, 'snapshot', (s) => s.sessions.total === 1);
    assert.equal(seen.total.sessions.connected, 2);
    const [listed] = seen.sessions.list;
    assert.equal(listed?.id, user.id);
    assert.equal(listed?.ns, '/');
    assert.deepEqual(listed?.rooms, ['lobby'], 'rooms without the private one');
    assert.equal(typeof seen.at, 'number');
    assert.deepEqual(seen.problems, []);
  });

  test('disconnectSession disconnects the session (the client sees it and stays away) and answers found; then not found', async () => {
    const { url } = await setup();
    const admin = client(url, { namespace: '/admin', auth: { token: TOKEN } });
    await next(admin, 'snapshot');
    const user = client(url, { reconnect: { delay: 20, maxDelay: 50 } });
    await eventually(() => user.connected, 'the user to connect');
    const id = user.id as string;
    const gone = next<unknown>(user, 'disconnect');

    assert.deepEqual(await admin.emitWithAck('disconnectSession', { ns: '/', id }), { found: true });
    assert.equal(await gone, 'server_disconnect');
    const after = await next<AdminSnapshot>(admin, 'snapshot', (s) => s.sessions.total === 0);
    assert.equal(after.total.sessions.connected, 1);
    assert.equal(user.connected, false);
    assert.deepEqual(await admin.emitWithAck('disconnectSession', { ns: '/', id }), { found: false });
  });

  test('a room name passed as a session id disconnects nobody; bad requests are refused with bad_request', async () => {
    const { sb, url } = await setup();
    sb.on('connection', (socket) => socket.join('lobby'));
    const admin = client(url, { namespace: '/admin', auth: { token: TOKEN } });
    const user = client(url);
    await eventually(() => user.connected, 'the user to connect');
    assert.deepEqual(await admin.emitWithAck('disconnectSession', { ns: '/', id: 'lobby' }), { found: false });
    assert.equal(user.connected, true);
    for (const request of [{ ns: '/other', id: user.id }, { ns: '/admin', id: 'x' }, { ns: '/', id: '' }, 'nonsense']) {
      await assert.rejects(admin.emitWithAck('disconnectSession', request), (err: SwitchboardError) => err.code === 'bad_request', JSON.stringify(request));
    }
    assert.equal(user.connected, true);
  });

  test('snapshots stop when the last admin leaves: the next admin starts with fresh rates', async () => {
    const { sb, url } = await setup();
    const first = client(url, { namespace: '/admin', auth: { token: TOKEN } });
    await next<AdminSnapshot>(first, 'snapshot', (s) => s.total.rates !== null);
    first.close();
    await eventually(() => sb.of('/admin').sockets.size === 0, 'the server to see the admin leave');
    const second = client(url, { namespace: '/admin', auth: { token: TOKEN } });
    const fresh = await next<AdminSnapshot>(second, 'snapshot');
    assert.equal(fresh.total.rates, null, 'the rates of the first admin were kept while nobody watched');
  });

  test('options: a token is required (16 characters at least), unknown options and bad values throw', async () => {
    const sb = new Switchboard(0);
    closers.push(() => sb.close());
    assert.throws(() => adminDashboard(sb, {} as never), /token is required: a string of at least 16 characters/);
    assert.throws(() => adminDashboard(sb, { token: 'short' }), TypeError);
    assert.throws(() => adminDashboard(sb, { token: TOKEN, tokn: 1 } as never), /option "tokn" is unknown/);
    assert.throws(() => adminDashboard(sb, { token: TOKEN, interval: 10 }), RangeError);
    assert.throws(() => adminDashboard(sb, { token: TOKEN, namespace: '/' }), TypeError);
    assert.throws(() => adminDashboard(sb, { token: TOKEN, path: 'admin' }), TypeError);
    assert.throws(() => adminDashboard({} as never, { token: TOKEN }), /sb must be a Switchboard/);
  });

  test('close(): admins are disconnected, new ones refused, the page answers 404', async () => {
    const { sb, url, dashboard } = await setup();
    const admin = client(url, { namespace: '/admin', auth: { token: TOKEN } });
    await next(admin, 'snapshot');
    const gone = next(admin, 'disconnect');
    assert.equal((await fetch(`http://127.0.0.1:${sb.port}/admin`)).status, 200);
    dashboard.close();
    await gone;
    assert.equal((await fetch(`http://127.0.0.1:${sb.port}/admin`)).status, 404);
    const late = client(url, { namespace: '/admin', auth: { token: TOKEN } });
    assert.equal((await next<SwitchboardError>(late, 'connect_error')).code, 'unauthorized');
  });

  test('a server typed with its own event maps takes the dashboard', async () => {
    interface ClientEvents {
      say: (text: string) => void;
    }
    interface ServerEvents {
      said: (text: string) => void;
    }
    const sb = new Switchboard<ClientEvents, ServerEvents, { name: string }>(0);
    closers.push(() => sb.close());
    const dashboard = adminDashboard(sb, { token: TOKEN });
    dashboard.close();
    assert.equal(dashboard.path, '/admin');
  });
});
