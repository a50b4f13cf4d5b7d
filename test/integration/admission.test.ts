/**
 * Admission at the HTTP level, before a WebSocket exists: the origin allow-list (403),
 * the client IP behind trusted proxies, connections and handshake rate per IP (429), the
 * global connection cap (server_full, 1013), and CORS on the served browser client.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect, type ReconnectInfo, type SwitchboardClient, type SwitchboardError } from '../../src/client/node.js';
import { Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import type { ConnectionError } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';
import { attemptUpgrade, closeAll, type UpgradeOutcome } from '../helpers/upgrade-attempt.js';

const fastReconnect = { reconnect: { delay: 20, maxDelay: 100 } };
const servers: Switchboard[] = [];

after(async () => {
  await Promise.all(servers.map((sb) => sb.close({ deadline: 50 })));
});

async function serve(options: SwitchboardOptions = {}): Promise<{ sb: Switchboard; url: string; port: number }> {
  const started = await startServer(options);
  servers.push(started.sb);
  return started;
}

/** Build the server with NODE_ENV set as given (the default origin policy reads it once, at construction). */
async function serveWithNodeEnv(nodeEnv: string | undefined, options: SwitchboardOptions = {}): ReturnType<typeof serve> {
  const saved = process.env.NODE_ENV;
  if (nodeEnv === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = nodeEnv;
  try {
    return await serve(options);
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

/** The retries the SDK schedules and the errors of its failed attempts. */
function watchAttempts(client: SwitchboardClient): { retries: ReconnectInfo[]; errors: SwitchboardError[] } {
  const retries: ReconnectInfo[] = [];
  const errors: SwitchboardError[] = [];
  client.on('reconnecting', (info) => retries.push(info));
  client.on('connect_error', (error) => errors.push(error as SwitchboardError));
  return { retries, errors };
}

function assertRefused(outcome: UpgradeOutcome, status: number, code: string): string {
  assert.equal(outcome.status, status, `expected HTTP ${status} ${code}, got ${outcome.status}`);
  const body = (outcome as { body: string }).body;
  assert.ok(body.startsWith(`${code}: `), `the body starts with "${code}: ": ${body}`);
  return body;
}

/**
 * A page on a refused origin: its upgrade completes only to be closed at once with 1008
 * and a reason starting with the code (a browser shows a page no HTTP status of an
 * upgrade), with no frame before the close.
 */
async function assertOriginClosed(outcome: UpgradeOutcome): Promise<string> {
  assert.equal(outcome.status, 101, `expected the upgrade to complete and close with 1008, got HTTP ${outcome.status}`);
  const ws = outcome.ws as WebSocket;
  let frames = 0;
  ws.on('message', () => frames++);
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  assert.equal(code, 1008);
  assert.match(reason.toString(), /^origin_not_allowed: .*allowedOrigins/);
  assert.equal(frames, 0, 'no frame before the close');
  return reason.toString();
}

/** The address a connection's socket sees in `handshake.address`. */
async function handshakeAddress(sb: Switchboard, url: string, headers: Record<string, string>): Promise<string> {
  const seen = new Promise<string>((resolve) => sb.once('connection', (socket) => resolve(socket.handshake.address)));
  const client = await BareClient.open(url, 'switchboard.v1', headers);
  try {
    await client.hello();
    return await seen;
  } finally {
    client.close();
  }
}

describe('origin allow-list', () => {
  test('default outside production: clients without Origin, the own origin and localhost pages connect; other sites are closed with 1008 origin_not_allowed', async () => {
    const { sb, url, port } = await serveWithNodeEnv(undefined);
    let connections = 0;
    sb.on('connection', () => connections++);
    const refusals: ConnectionError[] = [];
    sb.on('connection_error', (error) => refusals.push(error));
    const allowed = await Promise.all([
      attemptUpgrade(url),
      attemptUpgrade(url, { origin: `http://127.0.0.1:${port}` }),
      attemptUpgrade(url, { origin: 'http://localhost:5173' }),
      attemptUpgrade(url, { origin: 'https://127.0.0.1:8443' }),
      attemptUpgrade(url, { origin: 'http://[::1]:3000' }),
    ]);
    assert.deepEqual(
      allowed.map((o) => o.status),
      [101, 101, 101, 101, 101],
    );
    closeAll(allowed);

    assert.equal(refusals.length, 0, 'allowed connections are no connection_error');
    await assertOriginClosed(await attemptUpgrade(url, { origin: 'https://evil.example' }));
    assert.equal(refusals.length, 1);
    const refusal = refusals[0] as ConnectionError;
    assert.deepEqual(
      { ...refusal, message: undefined },
      { code: 'origin_not_allowed', transport: 'websocket', address: '127.0.0.1', origin: 'https://evil.example', closeCode: 1008, message: undefined },
    );
    assert.match(refusal.message, /"https:\/\/evil\.example".*allowedOrigins/, 'the server names the origin and the option');
    await assertOriginClosed(await attemptUpgrade(url, { origin: 'null' }));
    await assertOriginClosed(await attemptUpgrade(url, { origin: `http://127.0.0.1.evil.example:${port}` }));
    assert.equal(connections, 0, 'refused upgrades never reach a namespace');
    assert.equal(sb.sessionCount, 0, 'no session was made for them');
    await eventually(() => sb.connectionCount === 0, 'the allowed connections to close');
  });

  test('default in production: only the server’s own origin (from the Host header)', async () => {
    const { url, port } = await serveWithNodeEnv('production');
    const own = await attemptUpgrade(url, { origin: `http://127.0.0.1:${port}` });
    assert.equal(own.status, 101);
    closeAll([own]);
    await assertOriginClosed(await attemptUpgrade(url, { origin: 'http://localhost:5173' }));
    await assertOriginClosed(await attemptUpgrade(url, { origin: `http://127.0.0.1:${port + 1}` }));
    // A proxy in front passes the public Host: that is the own origin then.
    const proxied = await attemptUpgrade(url, { origin: 'https://chat.example.com', headers: { Host: 'chat.example.com' } });
    assert.equal(proxied.status, 101);
    closeAll([proxied]);
  });

  test("a list replaces the default localhost rule and keeps the server's own origin; default ports and case do not matter", async () => {
    const { sb, url, port } = await serve({ allowedOrigins: ['https://app.example.com', 'http://localhost:8080'] });
    const ok = await Promise.all([
      attemptUpgrade(url, { origin: 'https://app.example.com' }),
      attemptUpgrade(url, { origin: 'https://APP.example.com:443' }),
      attemptUpgrade(url, { origin: 'http://localhost:8080' }),
      attemptUpgrade(url, { origin: `http://127.0.0.1:${port}` }),
      attemptUpgrade(url),
    ]);
    const helloed = await Promise.all(
      ok.map(async (outcome) => {
        if (!outcome.ws) return outcome.status;
        const welcome = once(outcome.ws, 'message');
        outcome.ws.send(JSON.stringify({ type: 'hello', v: 1 }));
        return JSON.parse(String((await welcome)[0])).type;
      }),
    );
    assert.deepEqual(helloed, ['welcome', 'welcome', 'welcome', 'welcome', 'welcome'], 'each connection works, the page of the server itself included');
    closeAll(ok);
    for (const origin of ['https://app.example.com:8443', 'http://app.example.com', 'http://localhost:8081', `http://127.0.0.1:${port + 1}`]) {
      await assertOriginClosed(await attemptUpgrade(url, { origin }));
    }
    await eventually(() => sb.connectionCount === 0, 'the connections to close');
  });

  test("'*' allows every origin", async () => {
    const { url } = await serve({ allowedOrigins: '*' });
    const outcome = await attemptUpgrade(url, { origin: 'https://anywhere.example' });
    assert.equal(outcome.status, 101);
    closeAll([outcome]);
  });

  test('a function decides, seeing the origin, headers and client address; one that throws refuses and is reported', async () => {
    const calls: { origin: string; address: string; tenant: unknown }[] = [];
    const { sb, url } = await serve({
      allowedOrigins: (origin, request) => {
        calls.push({ origin, address: request.address, tenant: request.headers['x-tenant'] });
        if (origin === 'https://boom.example') throw new Error('allow-list lookup failed');
        return origin.endsWith('.tenant.example');
      },
    });
    const errors: unknown[] = [];
    sb.on('error', (err) => errors.push(err));
    const ok = await attemptUpgrade(url, { origin: 'https://a.tenant.example', headers: { 'X-Tenant': 'a' } });
    assert.equal(ok.status, 101);
    closeAll([ok]);
    assert.deepEqual(calls[0], { origin: 'https://a.tenant.example', address: '127.0.0.1', tenant: 'a' });
    await assertOriginClosed(await attemptUpgrade(url, { origin: 'https://other.example' }));
    await assertOriginClosed(await attemptUpgrade(url, { origin: 'https://boom.example' }));
    assert.equal(errors.length, 1);
    assert.match((errors[0] as Error).message, /allow-list lookup failed/);
  });

  test('an entry that is not an origin is refused at construction', () => {
    assert.throws(() => new Switchboard(0, { allowedOrigins: ['https://app.example.com/path'] }), { name: 'TypeError', message: /allowedOrigins.*scheme:\/\/host/ });
  });

  test('the SDK reads the refusal: the close of a refused page names origin_not_allowed', async () => {
    const { url } = await serve({ allowedOrigins: ['https://app.example.com'] });
    // A browser sends the page's Origin; the Node SDK sends none unless its WebSocket is told to.
    class FromEvilPage extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { origin: 'https://evil.example' });
      }
    }
    // WebSocket only: a page's fetch would carry its Origin too, but Node's sends none, so an HTTP fallback would get in.
    const client = connect(url, { ...fastReconnect, WebSocket: FromEvilPage, transports: ['websocket'] });
    const { errors } = watchAttempts(client);
    try {
      await eventually(() => errors.length >= 1, 'the refused attempt');
      // The SDK names the refusal by its code, and the server's remedy reaches it.
      assert.equal(errors[0]?.code, 'origin_not_allowed');
      assert.match(errors[0]?.message ?? '', /allowedOrigins/);
    } finally {
      client.close();
    }
  });
});

describe('trustProxy', () => {
  const forwarded = (value: string): Record<string, string> => ({ 'X-Forwarded-For': value });

  test('off (default): X-Forwarded-For is ignored', async () => {
    const { sb, url } = await serve();
    assert.equal(await handshakeAddress(sb, url, forwarded('203.0.113.7')), '127.0.0.1');
  });

  test('true: the original client, leftmost in the header; a malformed header falls back to the socket address', async () => {
    const { sb, url } = await serve({ trustProxy: true });
    assert.equal(await handshakeAddress(sb, url, forwarded('203.0.113.7, 10.0.0.1')), '203.0.113.7');
    assert.equal(await handshakeAddress(sb, url, forwarded('2001:DB8::7')), '2001:db8::7');
    assert.equal(await handshakeAddress(sb, url, forwarded('not-an-ip, 10.0.0.1')), '127.0.0.1');
    assert.equal(await handshakeAddress(sb, url, forwarded('')), '127.0.0.1');
  });

  test('a hop count: the address that many proxies away, however long the header a client forged', async () => {
    const one = await serve({ trustProxy: 1 });
    assert.equal(await handshakeAddress(one.sb, one.url, forwarded('198.51.100.1, 203.0.113.7')), '203.0.113.7');
    // Garbage the client put in front is never read.
    assert.equal(await handshakeAddress(one.sb, one.url, forwarded('forged garbage, 203.0.113.7')), '203.0.113.7');
    const two = await serve({ trustProxy: 2 });
    assert.equal(await handshakeAddress(two.sb, two.url, forwarded('198.51.100.1, 203.0.113.7')), '198.51.100.1');
    assert.equal(await handshakeAddress(two.sb, two.url, forwarded('203.0.113.7')), '203.0.113.7', 'a shorter chain gives its farthest address');
  });

  test('a list of proxies: walk back while the hop is a trusted proxy', async () => {
    const { sb, url } = await serve({ trustProxy: ['127.0.0.1', '10.0.0.0/8'] });
    assert.equal(await handshakeAddress(sb, url, forwarded('198.51.100.1, 203.0.113.7, 10.1.2.3')), '203.0.113.7');
    const untrusted = await serve({ trustProxy: ['10.0.0.0/8'] });
    assert.equal(await handshakeAddress(untrusted.sb, untrusted.url, forwarded('203.0.113.7')), '127.0.0.1', 'the peer is no trusted proxy');
    assert.throws(() => new Switchboard(0, { trustProxy: ['10.0.0.0/33'] }), { name: 'TypeError', message: /trustProxy.*10\.0\.0\.0\/33/ });
  });

  test('the forwarded address is the key of the per-IP limits', async () => {
    const { url } = await serve({ trustProxy: true, maxConnectionsPerIp: 1 });
    const first = await attemptUpgrade(url, { headers: forwarded('203.0.113.7') });
    assert.equal(first.status, 101);
    assertRefused(await attemptUpgrade(url, { headers: forwarded('203.0.113.7') }), 429, 'too_many_connections');
    const other = await attemptUpgrade(url, { headers: forwarded('203.0.113.8') });
    assert.equal(other.status, 101, 'another client behind the same proxy');
    closeAll([first, other]);
  });
});

describe('connections per IP', () => {
  test('one over maxConnectionsPerIp gets 429 too_many_connections with Retry-After; another IP is not affected; a closed connection frees its slot', async () => {
    const { sb, url } = await serve({ maxConnectionsPerIp: 3 });
    const held = await Promise.all([attemptUpgrade(url), attemptUpgrade(url), attemptUpgrade(url)]);
    assert.deepEqual(
      held.map((o) => o.status),
      [101, 101, 101],
      'upgraded connections count before any hello',
    );
    const refused = await attemptUpgrade(url);
    const body = assertRefused(refused, 429, 'too_many_connections');
    assert.match(body, /maxConnectionsPerIp/);
    assert.ok(Number((refused as { headers: Record<string, string> }).headers['retry-after']) > 0, 'Retry-After');
    const neighbour = await attemptUpgrade(url, { localAddress: '127.0.0.2' });
    assert.equal(neighbour.status, 101, 'a client on another IP still connects');

    held[0]?.ws?.close();
    let again: UpgradeOutcome | undefined;
    for (let i = 0; i < 100 && again?.status !== 101; i++) {
      again = await attemptUpgrade(url);
      if (again.status !== 101) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(again?.status, 101, 'the slot of the closed connection is free again');
    closeAll([...held, neighbour, again as UpgradeOutcome]);
    await eventually(() => sb.connectionCount === 0, 'every connection to close');
  });

  test('a session waiting to be resumed holds no connection', async () => {
    const { sb, url } = await serve({ maxConnectionsPerIp: 1 });
    const client = await BareClient.open(url);
    await client.hello();
    client.ws.terminate(); // no close frame: the session waits for a resume
    await eventually(() => sb.connectionCount === 0 && sb.sessionCount === 1, 'the session to wait without a connection');
    const next = await BareClient.open(url);
    const welcome = await next.hello();
    assert.equal(typeof welcome.sid, 'string');
    next.close();
  });

  test('the SDK reports a 429 as transport_error, retries with backoff and connects once a slot is free', async () => {
    const { url } = await serve({ maxConnectionsPerIp: 1 });
    const holder = await BareClient.open(url);
    const client = connect(url, fastReconnect);
    const { retries, errors } = watchAttempts(client);
    try {
      await eventually(() => retries.length >= 2, 'two refused attempts');
      assert.ok(retries.every((r) => r.reason === 'transport_error'));
      assert.equal(client.state, 'connecting');
      assert.match(errors[0]?.message ?? '', /429/);
      holder.close();
      await eventually(() => client.connected, 'the SDK to connect after the slot is freed');
    } finally {
      client.close();
    }
  });
});

describe('handshake rate per IP', () => {
  test('handshakes past the bucket get 429 rate_limited with Retry-After; another IP has its own bucket; tokens come back', async () => {
    const { url } = await serve({ handshakeRate: { perSecond: 1, burst: 3 } });
    const burst: UpgradeOutcome[] = [];
    for (let i = 0; i < 3; i++) burst.push(await attemptUpgrade(url));
    assert.deepEqual(
      burst.map((o) => o.status),
      [101, 101, 101],
    );
    closeAll(burst);
    const refused = await attemptUpgrade(url);
    const body = assertRefused(refused, 429, 'rate_limited');
    assert.match(body, /handshakeRate/);
    assert.equal((refused as { headers: Record<string, string> }).headers['retry-after'], '1');
    const neighbour = await attemptUpgrade(url, { localAddress: '127.0.0.2' });
    assert.equal(neighbour.status, 101);
    closeAll([neighbour]);
    let later: UpgradeOutcome | undefined;
    for (let i = 0; i < 100 && later?.status !== 101; i++) {
      await new Promise((r) => setTimeout(r, 20));
      later = await attemptUpgrade(url);
    }
    assert.equal(later?.status, 101, 'a token came back after 1 / perSecond');
    closeAll([later as UpgradeOutcome]);
  });

  test('handshakeRate: false turns it off', async () => {
    const { url } = await serve({ handshakeRate: false, maxConnectionsPerIp: 1000 });
    const outcomes: UpgradeOutcome[] = [];
    for (let i = 0; i < 150; i++) outcomes.push(await attemptUpgrade(url));
    closeAll(outcomes);
    assert.ok(outcomes.every((o) => o.status === 101));
  });
});

describe('maxConnections', () => {
  test('one over the cap is upgraded, told server_full and closed with 1013; it holds no slot', async () => {
    const { sb, url } = await serve({ maxConnections: 2 });
    const a = await BareClient.open(url);
    const b = await BareClient.open(url);
    const extra = await BareClient.open(url);
    const error = await extra.next({ type: 'error' });
    assert.equal(error.code, 'server_full');
    assert.match(String(error.message), /maxConnections/);
    assert.equal((await extra.closed).code, 1013);
    assert.equal(sb.connectionCount, 2);
    a.close();
    await eventually(() => sb.connectionCount === 1, 'a slot to free');
    const c = await BareClient.open(url);
    await c.hello();
    b.close();
    c.close();
  });

  test('the SDK sees transport_closed with 1013 and server_full, retries, and connects when there is room', async () => {
    const { url } = await serve({ maxConnections: 1 });
    const holder = await BareClient.open(url);
    await holder.hello();
    const client = connect(url, fastReconnect);
    const { retries, errors } = watchAttempts(client);
    try {
      await eventually(() => retries.length >= 2, 'two attempts closed with 1013');
      assert.ok(retries.every((r) => r.reason === 'transport_closed'));
      assert.equal(client.state, 'connecting');
      assert.equal(errors[0]?.code, 'server_full');
      holder.close();
      await eventually(() => client.connected, 'the SDK to connect once there is room');
    } finally {
      client.close();
    }
  });
});

describe('connection_error', () => {
  /** What connection_error reported for one refused upgrade, and the upgrade's own outcome. */
  async function refusedOnce(sb: Switchboard, attempt: () => Promise<UpgradeOutcome>): Promise<{ error: ConnectionError; outcome: UpgradeOutcome }> {
    const reported = once(sb, 'connection_error') as Promise<[ConnectionError]>;
    const outcome = await attempt();
    const [error] = await reported;
    return { error, outcome };
  }

  test('refused upgrades are reported with their code, transport, address and origin — never the URL, a header or a token', async () => {
    const secret = { headers: { Authorization: 'Bearer s3cret-token', Cookie: 'sid=s3cret-cookie' } };
    const { sb: perIp, url: perIpUrl } = await serve({ maxConnectionsPerIp: 1 });
    const first = await attemptUpgrade(perIpUrl);
    const busy = await refusedOnce(perIp, () => attemptUpgrade(`${perIpUrl}?token=s3cret-query`, { ...secret, origin: 'http://localhost:5173' }));
    assertRefused(busy.outcome, 429, 'too_many_connections');
    assert.deepEqual(
      { ...busy.error, message: undefined },
      { code: 'too_many_connections', transport: 'websocket', address: '127.0.0.1', origin: 'http://localhost:5173', status: 429, message: undefined },
    );
    assert.match(busy.error.message, /maxConnectionsPerIp/);
    assert.doesNotMatch(JSON.stringify(busy.error), /s3cret/);
    closeAll([first]);

    const { sb: rate, url: rateUrl } = await serve({ handshakeRate: { perSecond: 0.001, burst: 1 } });
    closeAll([await attemptUpgrade(rateUrl)]);
    const limited = await refusedOnce(rate, () => attemptUpgrade(rateUrl, secret));
    assert.deepEqual([limited.error.code, limited.error.status, limited.error.origin], ['rate_limited', 429, undefined]);

    const { sb: sseOnly, url: sseUrl } = await serve({ transports: ['sse'] });
    const disabled = await refusedOnce(sseOnly, () => attemptUpgrade(sseUrl));
    assert.deepEqual([disabled.error.code, disabled.error.status, disabled.error.transport], ['transport_disabled', 403, 'websocket']);

    const { sb: full, url: fullUrl } = await serve({ maxConnections: 1 });
    const only = await attemptUpgrade(fullUrl);
    const refusedFull = await refusedOnce(full, () => attemptUpgrade(fullUrl));
    assert.deepEqual([refusedFull.error.code, refusedFull.error.closeCode, refusedFull.error.status], ['server_full', 1013, undefined]);
    closeAll([only, refusedFull.outcome]);
  });

  test('a listener that throws is reported to error, and the refusal goes on', async () => {
    const { sb, url } = await serve({ allowedOrigins: ['https://app.example.com'] });
    const errors: unknown[] = [];
    sb.on('error', (err) => errors.push(err));
    sb.on('connection_error', () => {
      throw new Error('log sink down');
    });
    await assertOriginClosed(await attemptUpgrade(url, { origin: 'https://evil.example' }));
    assert.match(String(errors[0]), /log sink down/);
  });
});

describe('CORS on the served browser client', () => {
  async function bundle(port: number, path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
    await res.arrayBuffer();
    return res;
  }

  test('allowed origins get Access-Control-Allow-Origin and Vary: Origin; others get no CORS headers', async () => {
    const { sb, port } = await serve({ allowedOrigins: ['https://app.example.com'] });
    const versioned = sb.clientPaths?.versionedPath as string;
    for (const path of ['/switchboard/client.js', versioned]) {
      const allowed = await bundle(port, path, { headers: { Origin: 'https://app.example.com' } });
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com', path);
      assert.equal(allowed.headers.get('vary'), 'Origin, Accept-Encoding');
      const refused = await bundle(port, path, { headers: { Origin: 'https://evil.example' } });
      assert.equal(refused.headers.get('access-control-allow-origin'), null, path);
      assert.equal(refused.headers.get('vary'), 'Origin, Accept-Encoding');
      const sameOrigin = await bundle(port, path);
      assert.equal(sameOrigin.headers.get('access-control-allow-origin'), null);
      assert.equal(sameOrigin.headers.get('vary'), 'Origin, Accept-Encoding');
    }
  });

  test('preflight: 204 with the methods for an allowed origin, 403 origin_not_allowed otherwise; plain OPTIONS lists the methods', async () => {
    const { port } = await serve({ allowedOrigins: ['https://app.example.com'] });
    const preflight = (origin: string): Promise<Response> =>
      bundle(port, '/switchboard/client.js', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-trace' },
      });
    const ok = await preflight('https://app.example.com');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(ok.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS');
    assert.equal(ok.headers.get('access-control-allow-headers'), 'x-trace');
    assert.ok(Number(ok.headers.get('access-control-max-age')) > 0);

    const res = await fetch(`http://127.0.0.1:${port}/switchboard/client.js`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.match(await res.text(), /^origin_not_allowed: .*evil\.example/);

    const plain = await bundle(port, '/switchboard/client.js', { method: 'OPTIONS' });
    assert.equal(plain.status, 204);
    assert.equal(plain.headers.get('allow'), 'GET, HEAD, OPTIONS');
  });

  test("allowedOrigins '*' answers Access-Control-Allow-Origin: *; the default allows localhost dev servers", async () => {
    const any = await serve({ allowedOrigins: '*' });
    const res = await bundle(any.port, '/switchboard/client.js', { headers: { Origin: 'https://cdn-page.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const byDefault = await serveWithNodeEnv(undefined);
    const dev = await bundle(byDefault.port, '/switchboard/client.js', { headers: { Origin: 'http://localhost:5173' } });
    assert.equal(dev.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  });

  test('on the app’s own server too', async () => {
    const { createServer } = await import('node:http');
    const http = createServer((_req, res) => res.end('app'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const sb = new Switchboard(http, { allowedOrigins: ['https://app.example.com'] });
    servers.push(sb);
    const port = (http.address() as AddressInfo).port;
    try {
      const res = await bundle(port, '/switchboard/client.js', { headers: { Origin: 'https://app.example.com' } });
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
      const app = await fetch(`http://127.0.0.1:${port}/`, { headers: { Origin: 'https://app.example.com' } });
      assert.equal(await app.text(), 'app');
      assert.equal(app.headers.get('access-control-allow-origin'), null, 'the app’s own routes are the app’s business');
    } finally {
      await sb.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
