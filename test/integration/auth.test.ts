/**
 * Authentication and authorization over real sockets: what the handshake hook sees
 * (auth, headers, cookies), that tokens are never echoed, re-authentication when
 * credentials expire (accepted, refused, unanswered, across a resume, per namespace),
 * and per-event authorization answered with `forbidden`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { ReplyError, type Socket } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

const fastReconnect = { reconnect: { delay: 20, maxDelay: 60 } };

function connected(client: SwitchboardClient): Promise<void> {
  if (client.state === 'connected') return Promise.resolve();
  return new Promise((resolve) => client.once('connect', () => resolve()));
}

describe('handshake: auth, headers and cookies', () => {
  test('middleware sees the auth payload, the upgrade headers and its parsed cookies', async () => {
    const { sb, url } = await startServer();
    const seen: { auth: unknown; header: unknown; cookies: Record<string, string> }[] = [];
    sb.use((socket, next) => {
      seen.push({ auth: socket.handshake.auth, header: socket.handshake.headers['x-app-version'], cookies: { ...socket.handshake.cookies } });
      next();
    });
    const admin = sb.of('/admin');
    admin.use((socket, next) => {
      seen.push({ auth: socket.handshake.auth, header: socket.handshake.headers['x-app-version'], cookies: { ...socket.handshake.cookies } });
      next();
    });
    try {
      const cookie = 'session=abc%20123; theme="dark"; novalue; =orphan; broken=%E0%A4%A; session=second; empty=';
      const c = await BareClient.open(url, 'switchboard.v1', { Cookie: cookie, 'X-App-Version': '7.1' });
      await c.hello({ auth: { token: 'T' } });
      c.send({ type: 'connect', ref: 1, ns: '/admin', auth: { role: 'admin' } });
      assert.deepEqual((await c.next({ ref: 1 })).data, { ns: '/admin' });
      const cookies = { session: 'abc 123', theme: 'dark', broken: '%E0%A4%A', empty: '' };
      assert.deepEqual(seen, [
        { auth: { token: 'T' }, header: '7.1', cookies },
        { auth: { role: 'admin' }, header: '7.1', cookies },
      ]);
      c.close();
    } finally {
      await sb.close();
    }
  });

  test('a connection without a Cookie header has empty, frozen cookies', async () => {
    const { sb, url } = await startServer();
    let cookies: Readonly<Record<string, string>> | undefined;
    sb.use((socket, next) => {
      cookies = socket.handshake.cookies;
      next();
    });
    try {
      const c = await BareClient.open(url);
      await c.hello();
      assert.deepEqual(cookies, {});
      assert.ok(Object.isFrozen(cookies));
      c.close();
    } finally {
      await sb.close();
    }
  });
});

describe('tokens are never echoed', () => {
  const TOKEN = 'secret-token-5f3a9c';

  test('not in rejection, handshake timeout, bad handshake or handler failure messages, nor in reports', async () => {
    const { sb, url } = await startServer({ handshakeTimeout: 150 });
    const reports: string[] = [];
    sb.on('error', (err, context) => reports.push(`${String(err)} ${JSON.stringify(context)}`));
    sb.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: string; mode?: string };
      if (auth.mode === 'reject') return next(new Error('invalid credentials'));
      if (auth.mode === 'hang') return; // never decides: handshake_timeout
      next();
    });
    sb.on('connection', (socket) => {
      socket.on('boom', () => {
        throw new Error('handler bug');
      });
    });
    const texts: string[] = [];
    const collect = async (c: BareClient): Promise<void> => {
      await c.closed.catch(() => undefined);
      for (const frame of c.frames) texts.push(JSON.stringify(frame));
    };
    try {
      const rejected = await BareClient.open(url, 'switchboard.v1', { Cookie: `sid=${TOKEN}` });
      rejected.send({ type: 'hello', v: 1, auth: { token: TOKEN, mode: 'reject' } });
      const rejection = await rejected.next({ type: 'error' });
      assert.deepEqual([rejection.code, rejection.message], ['unauthorized', 'invalid credentials']);
      texts.push(JSON.stringify(rejection));
      assert.equal((await rejected.closed).code, 1008);

      const hanging = await BareClient.open(url);
      hanging.send({ type: 'hello', v: 1, auth: { token: TOKEN, mode: 'hang' } });
      const timeout = await hanging.next({ type: 'error' });
      assert.equal(timeout.code, 'handshake_timeout');
      texts.push(JSON.stringify(timeout));
      assert.equal((await hanging.closed).code, 4001);

      const malformed = await BareClient.open(url);
      malformed.send({ type: 'hello', v: 'one', auth: { token: TOKEN } });
      const bad = await malformed.next({ type: 'error' });
      assert.equal(bad.code, 'bad_handshake');
      texts.push(JSON.stringify(bad));
      await collect(malformed);

      const ok = await BareClient.open(url);
      await ok.hello({ auth: { token: TOKEN } });
      ok.send({ type: 'event', event: 'boom', ref: 1, data: { token: TOKEN } });
      const failed = await ok.next({ ref: 1 });
      assert.equal((failed.error as { code: string }).code, 'internal_error');
      texts.push(JSON.stringify(failed));
      await eventually(() => reports.length === 1, 'the handler failure to be reported');
      ok.close();
    } finally {
      await sb.close();
    }
    for (const text of [...texts, ...reports]) assert.ok(!text.includes(TOKEN), `the token leaked into: ${text}`);
  });
});

describe('re-authentication when credentials expire', () => {
  test('accepted: the session goes on with the same socket, rooms and handlers; events flow during the refresh', async () => {
    const { sb, url } = await startServer({ reauthTimeout: 2000 });
    const middlewareRuns: { token: unknown; reauthenticating: boolean; connected: boolean }[] = [];
    let server: Socket | undefined;
    sb.use((socket, next) => {
      const { token } = socket.handshake.auth as { token: string };
      middlewareRuns.push({ token, reauthenticating: socket.reauthenticating, connected: socket.connected });
      if (!token.startsWith('good')) return next(new ReplyError('invalid_token', 'bad token'));
      // The first token lives 40 ms; the refreshed one an hour.
      socket.expireAuthAt(socket.reauthenticating ? new Date(Date.now() + 3_600_000) : Date.now() + 40);
      next();
    });
    sb.on('connection', (socket) => {
      server = socket;
      socket.join('lobby');
      socket.on('echo', (data) => data);
    });
    try {
      const c = await BareClient.open(url);
      const welcome = await c.hello({ auth: { token: 'good-1' } });
      const reauth = await c.next({ type: 'reauth' });
      assert.equal(typeof reauth.ref, 'number');
      assert.equal('ns' in reauth, false, 'the root namespace has no ns');
      assert.equal(server?.reauthenticating, true);
      // The old credentials were valid until the expiry: events are still handled while the client fetches new ones.
      c.send({ type: 'event', event: 'echo', ref: 1, data: 'during' });
      assert.equal((await c.next({ type: 'reply', ref: 1 })).data, 'during');

      c.send({ type: 'reply', ref: reauth.ref, data: { token: 'good-2' } });
      await eventually(() => middlewareRuns.length === 2 && server?.reauthenticating === false, 'the middleware to accept the fresh token');
      assert.deepEqual(middlewareRuns, [
        { token: 'good-1', reauthenticating: false, connected: false },
        { token: 'good-2', reauthenticating: true, connected: true },
      ]);
      const socket = server as Socket;
      assert.equal(socket.id, welcome.sid);
      assert.deepEqual(socket.handshake.auth, { token: 'good-2' });
      assert.ok((socket.authExpiresAt ?? 0) > Date.now() + 3_000_000, 'the middleware set the new expiry');
      assert.ok(socket.rooms.has('lobby'));
      assert.equal(sb.sockets.sockets.get(welcome.sid as string), socket);

      sb.to('lobby').emit('news', 1);
      assert.deepEqual((await c.next({ type: 'event', event: 'news' })).data, 1);
      c.send({ type: 'event', event: 'echo', ref: 2, data: 'after' });
      assert.equal((await c.next({ type: 'reply', ref: 2 })).data, 'after');
      assert.equal(c.frames.filter((f) => f.type === 'error').length, 0);
      c.close();
    } finally {
      await sb.close();
    }
  });

  test('the SDK answers reauth with its auth function and stays connected', async () => {
    const { sb, url } = await startServer();
    const tokens: unknown[] = [];
    sb.use((socket, next) => {
      tokens.push((socket.handshake.auth as { token: string }).token);
      if (tokens.length === 1) socket.expireAuthAt(Date.now() + 30);
      next();
    });
    sb.on('connection', (socket) => socket.on('whoami', () => (socket.handshake.auth as { token: string }).token));
    let calls = 0;
    const client = connect(url, { auth: async () => ({ token: `t${++calls}` }), ...fastReconnect });
    const changes: string[] = [];
    client.on('state', (change) => changes.push(`${change.state}:${change.reason}`));
    try {
      await connected(client);
      await client.join('room');
      await eventually(() => tokens.length === 2, 'the reauth round');
      assert.equal(await client.emitWithAck('whoami', undefined), 't2');
      assert.equal(calls, 2);
      assert.deepEqual(tokens, ['t1', 't2']);
      assert.deepEqual(changes, ['connected:handshake_ok'], 'no disconnect, no reconnect');
      assert.ok(sb.sockets.sockets.get(client.id as string)?.rooms.has('room'));
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('refused: auth_expired and close 4006; the SDK reconnects, calls auth again and starts a new session', async () => {
    const { sb, url } = await startServer();
    const disconnects: string[] = [];
    sb.use((socket, next) => {
      const { token } = socket.handshake.auth as { token: string };
      if (token === 'revoked') return next(new Error('token revoked'));
      if (token === 't1') socket.expireAuthAt(Date.now() + 30);
      next();
    });
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => disconnects.push(reason)));
    const tokens = ['t1', 'revoked', 't3'];
    let calls = 0;
    const client = connect(url, { auth: () => ({ token: tokens[calls++] }), ...fastReconnect });
    const lost: { reason: string; code?: number; error?: string; message?: string }[] = [];
    client.on('disconnect', (reason, details) => lost.push({ reason, code: details.closeCode, error: details.error?.code, message: details.error?.message }));
    try {
      await connected(client);
      const firstId = client.id;
      const reconnected = new Promise<{ resumed: boolean }>((resolve) => client.once('connect', resolve));
      const info = await reconnected;
      assert.equal(info.resumed, false, 'the session ended with the 4006');
      assert.notEqual(client.id, firstId);
      assert.equal(calls, 3);
      assert.deepEqual(lost, [{ reason: 'auth_expired', code: 4006, error: 'auth_expired', message: 'token revoked' }]);
      assert.deepEqual(disconnects, ['auth_expired']);
      await eventually(() => sb.sessionCount === 1, 'only the new session');
    } finally {
      client.close();
      await sb.close();
    }
  });

  test("refused with the middleware's own code: that code comes in the error frame", async () => {
    const { sb, url } = await startServer();
    sb.use((socket, next) => {
      if (socket.reauthenticating) return next(new ReplyError('account_suspended', 'suspended'));
      socket.expireAuthAt(Date.now() + 20);
      next();
    });
    try {
      const c = await BareClient.open(url);
      await c.hello({ auth: 'a' });
      const reauth = await c.next({ type: 'reauth' });
      c.send({ type: 'reply', ref: reauth.ref, data: 'b' });
      const error = await c.next({ type: 'error' });
      assert.deepEqual([error.code, error.message], ['account_suspended', 'suspended']);
      assert.equal((await c.closed).code, 4006);
    } finally {
      await sb.close();
    }
  });

  test('an error reply to reauth ends the session with auth_expired', async () => {
    const { sb, url } = await startServer();
    sb.use((socket, next) => {
      socket.expireAuthAt(Date.now() + 20);
      next();
    });
    try {
      const c = await BareClient.open(url);
      await c.hello();
      const reauth = await c.next({ type: 'reauth' });
      c.send({ type: 'reply', ref: reauth.ref, error: { code: 'unauthorized', message: 'logged out' } });
      const error = await c.next({ type: 'error' });
      assert.equal(error.code, 'auth_expired');
      assert.equal((await c.closed).code, 4006);
    } finally {
      await sb.close();
    }
  });

  test('no answer within reauthTimeout: auth_expired, close 4006, and the session cannot be resumed', async () => {
    const { sb, url } = await startServer({ reauthTimeout: 200 });
    const disconnects: string[] = [];
    sb.use((socket, next) => {
      socket.expireAuthAt(Date.now() + 20);
      next();
    });
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => disconnects.push(reason)));
    try {
      const c = await BareClient.open(url);
      const welcome = await c.hello();
      await c.next({ type: 'reauth' }); // and ignore it
      const error = await c.next({ type: 'error' }, 3000);
      assert.equal(error.code, 'auth_expired');
      assert.match(String(error.message), /200 ms/);
      const closed = await c.closed;
      assert.deepEqual(closed, { code: 4006, reason: 'auth_expired' });
      await eventually(() => sb.sessionCount === 0, 'the session to end');
      assert.deepEqual(disconnects, ['auth_expired']);

      const again = await BareClient.open(url);
      const next = await again.hello({ resume: welcome.resume, received: c.received });
      assert.equal(next.resumed, false);
      again.close();
    } finally {
      await sb.close();
    }
  });

  test('expiry while the session waits to be resumed: the resume is asked for fresh credentials right after its welcome', async () => {
    const { sb, url } = await startServer();
    let server: Socket | undefined;
    sb.on('connection', (socket) => {
      server = socket;
    });
    try {
      const first = await BareClient.open(url);
      const welcome = await first.hello();
      first.ws.terminate(); // a network loss: the server keeps the session
      await eventually(() => sb.connectionCount === 0 && sb.sessionCount === 1, 'the session to wait for its resume');
      server?.expireAuthAt(Date.now() + 20);
      await eventually(() => server?.reauthenticating === true, 'the expiry to pass while disconnected');
      assert.equal(first.frames.filter((f) => f.type === 'reauth').length, 0);

      const second = await BareClient.open(url);
      const resumed = await second.hello({ resume: welcome.resume, received: first.received });
      assert.equal(resumed.resumed, true);
      const reauth = await second.next({ type: 'reauth' });
      assert.equal(second.frames.length, 0, 'the reauth request is the first frame after the welcome');
      second.send({ type: 'reply', ref: reauth.ref, data: 'fresh' });
      await eventually(() => server?.reauthenticating === false, 'the refresh to be accepted');
      assert.equal(server?.handshake.auth, 'fresh');
      assert.equal(server?.connected, true);
      second.close();
    } finally {
      await sb.close();
    }
  });

  test("an of() namespace's reauth carries its ns and calls that namespace's own auth function", async () => {
    const { sb, url } = await startServer();
    const adminTokens: unknown[] = [];
    sb.of('/admin').use((socket, next) => {
      adminTokens.push(socket.handshake.auth);
      if (!socket.reauthenticating) socket.expireAuthAt(Date.now() + 30);
      next();
    });
    let rootCalls = 0;
    let adminCalls = 0;
    const client = connect(url, { auth: () => ({ root: ++rootCalls }), ...fastReconnect });
    const admin = client.of('/admin', { auth: async () => ({ admin: ++adminCalls }) });
    try {
      await connected(admin);
      await eventually(() => adminTokens.length === 2, 'the /admin reauth round');
      assert.deepEqual(adminTokens, [{ admin: 1 }, { admin: 2 }]);
      assert.equal(rootCalls, 1);
      assert.equal(admin.state, 'connected');
      assert.equal(client.state, 'connected');

      // On the wire: the request names the namespace.
      const bare = await BareClient.open(url);
      await bare.hello();
      bare.send({ type: 'connect', ref: 1, ns: '/admin', auth: 'x' });
      await bare.next({ ref: 1 });
      const reauth = await bare.next({ type: 'reauth' });
      assert.equal(reauth.ns, '/admin');
      bare.close();
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('expireAuthAt refuses a time that is not one; Infinity clears the expiry', async () => {
    const { sb, url } = await startServer();
    let server: Socket | undefined;
    sb.on('connection', (socket) => {
      server = socket;
    });
    try {
      const c = await BareClient.open(url);
      await c.hello();
      await eventually(() => server !== undefined, 'the connection');
      const socket = server as Socket;
      assert.throws(() => socket.expireAuthAt(Number.NaN), TypeError);
      assert.throws(() => socket.expireAuthAt(new Date('not a date')), TypeError);
      assert.throws(() => socket.expireAuthAt('soon' as unknown as number), TypeError);
      socket.expireAuthAt(Date.now() + 60_000);
      assert.ok(socket.authExpiresAt !== undefined);
      socket.expireAuthAt(Number.POSITIVE_INFINITY);
      assert.equal(socket.authExpiresAt, undefined);
      c.close();
    } finally {
      await sb.close();
    }
  });
});

describe('per-event authorization', () => {
  test('only the author may delete a message: forbidden for the other client, over real sockets', async () => {
    const { sb, url } = await startServer();
    const messages = new Map<string, { author: string; text: string }>();
    let nextId = 1;
    sb.use((socket, next) => {
      socket.data.user = (socket.handshake.auth as { user: string }).user;
      next();
    });
    sb.sockets.authorize((socket, event, data) => {
      if (event !== 'delete' && event !== 'purge') return true;
      return messages.get((data as { id?: string } | undefined)?.id ?? '')?.author === socket.data.user;
    });
    sb.on('connection', (socket) => {
      socket.on('post', (text) => {
        const id = String(nextId++);
        messages.set(id, { author: socket.data.user as string, text: text as string });
        return id;
      });
      socket.on('delete', (data) => messages.delete((data as { id: string }).id));
      socket.on('purge', (data) => {
        messages.delete((data as { id: string }).id);
      });
    });
    const alice = connect(url, { auth: { user: 'alice' } });
    const bob = connect(url, { auth: { user: 'bob' } });
    const bobErrors: { code?: string; message: string }[] = [];
    bob.on('error', (error) => bobErrors.push({ code: (error as { code?: string }).code, message: error.message }));
    try {
      await Promise.all([connected(alice), connected(bob)]);
      const id = (await alice.emitWithAck('post', 'hello')) as string;

      await assert.rejects(bob.emitWithAck('delete', { id }), (err: { code?: string; message: string }) => {
        assert.equal(err.code, 'forbidden');
        assert.match(err.message, /"delete"/);
        return true;
      });
      assert.ok(messages.has(id), 'the handler did not run');

      // Fire and forget: an error frame with the code.
      bob.emit('purge', { id });
      await eventually(() => bobErrors.length === 1, 'the forbidden error frame');
      assert.equal(bobErrors[0]?.code, 'forbidden');
      assert.match(bobErrors[0]?.message ?? '', /"purge"/);
      assert.ok(messages.has(id));

      assert.equal(await alice.emitWithAck('delete', { id }), true);
      assert.equal(messages.has(id), false);
      // Events the authorizer lets through are untouched.
      assert.equal(typeof (await bob.emitWithAck('post', 'mine')), 'string');
    } finally {
      alice.close();
      bob.close();
      await sb.close();
    }
  });

  test('an async authorizer keeps arrival order; a thrown ReplyError answers its code; a thrown bug answers internal_error and is reported', async () => {
    const { sb, url } = await startServer();
    const reports: unknown[] = [];
    sb.on('error', (err) => reports.push(err));
    sb.sockets.authorize(async (_socket, event) => {
      if (event === 'slow') await new Promise((resolve) => setTimeout(resolve, 50));
      if (event === 'coded') throw new ReplyError('quota_exceeded', 'no more today');
      if (event === 'buggy') throw new Error('db down');
      return true;
    });
    const order: string[] = [];
    sb.on('connection', (socket) => {
      for (const name of ['slow', 'fast', 'coded', 'buggy']) socket.on(name, () => order.push(name));
    });
    try {
      const c = await BareClient.open(url);
      await c.hello();
      c.send({ type: 'event', event: 'slow', ref: 1 });
      c.send({ type: 'event', event: 'fast', ref: 2 });
      c.send({ type: 'event', event: 'coded', ref: 3 });
      c.send({ type: 'event', event: 'buggy', ref: 4 });
      await c.next({ ref: 2 });
      assert.deepEqual(order, ['slow', 'fast'], 'handlers start in arrival order behind the slow authorization');
      assert.deepEqual((await c.next({ ref: 3 })).error, { code: 'quota_exceeded', message: 'no more today' });
      const buggy = (await c.next({ ref: 4 })).error as { code: string; message: string };
      assert.equal(buggy.code, 'internal_error');
      assert.ok(!buggy.message.includes('db down'));
      await eventually(() => reports.length === 1, 'the failing authorizer to be reported');
      c.close();
    } finally {
      await sb.close();
    }
  });
});
