/**
 * The `logger` option with a real pino writing JSON lines to a capturing stream, `console`
 * as a logger, and frame tracing (option and DEBUG=switchboard:frames): levels, fields, and
 * never a token — not from auth payloads, not resume tokens.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import { connect } from '../../src/client/node.js';
import { ReplyError, Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { httpRequest, pollingHandshake, RawEngineSocket } from '../helpers/engine-io-raw.js';
import { eventually, startServer } from '../helpers/server.js';

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const servers: Switchboard[] = [];
const clients: BareClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((sb) => sb.close()));
});

/** A pino logger at debug level whose JSON lines land in `lines`. */
function capturingPino(): { logger: pino.Logger; lines: Line[]; raw: () => string } {
  const chunks: string[] = [];
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw: () => chunks.join('') };
}

async function bare(url: string, hello: Record<string, unknown>, headers?: Record<string, string>): Promise<{ c: BareClient; welcome: Record<string, unknown> }> {
  const c = await BareClient.open(url, 'switchboard.v1', headers);
  clients.push(c);
  return { c, welcome: await c.hello(hello) };
}

describe('the logger option', () => {
  test('pino as is: refusals (warn / info for middleware), app errors, shutdown, traced frames — no token anywhere', async () => {
    const { logger, lines, raw } = capturingPino();
    const { sb, url } = await startServer({ logger, traceFrames: true, allowedOrigins: ['https://good.example'] });
    sb.use((socket, next) => next((socket.handshake.auth as { user?: string }).user === 'mallory' ? new ReplyError('unauthorized', 'not you') : undefined));
    sb.on('connection', (socket) => socket.on('boom', () => {
      throw new Error('handler failed');
    }));

    const evil = await BareClient.open(`${url}?token=SECRET-IN-URL`, 'switchboard.v1', { Origin: 'https://evil.example' });
    clients.push(evil);
    await evil.closed;
    const first = await bare(url, { auth: { user: 'ada', token: 'SECRET-AUTH' } });
    first.c.send({ type: 'event', event: 'boom' });
    await eventually(() => lines.some((l) => l.msg === 'error in application handler'), 'the app error to be logged');
    first.c.ws.terminate();
    await eventually(() => sb.connectionCount === 0, 'the lost link');
    const again = await bare(url, { auth: { user: 'ada', token: 'SECRET-AUTH' }, resume: first.welcome.resume, received: first.c.received });
    assert.equal(again.welcome.resumed, true);
    const mallory = await BareClient.open(url);
    clients.push(mallory);
    mallory.send({ type: 'hello', v: 1, auth: { user: 'mallory', accessToken: 'SECRET-MALLORY' } });
    await mallory.closed;
    again.c.close();
    await sb.close();

    const origin = lines.find((l) => l.msg === 'refused' && l.code === 'origin_not_allowed');
    assert.equal(origin?.level, 40, 'a refused connection is a warning');
    assert.equal(origin?.transport, 'websocket');
    assert.equal(origin?.origin, 'https://evil.example');
    assert.equal(typeof origin?.address, 'string');
    const middleware = lines.find((l) => l.msg === 'refused by middleware');
    assert.equal(middleware?.level, 30, 'a middleware refusal is info');
    assert.equal(middleware?.code, 'unauthorized');
    assert.equal(middleware?.namespace, '/');
    const appError = lines.find((l) => l.msg === 'error in application handler');
    assert.equal(appError?.level, 50);
    assert.equal((appError?.err as { message?: string }).message, 'handler failed');
    const frames = lines.filter((l) => l.msg === 'frame');
    assert.ok(frames.every((l) => l.level === 20), 'frames are debug');
    const hellos = frames.filter((l) => l.direction === 'in' && (l.frame as { type?: string }).type === 'hello');
    assert.ok(hellos.length >= 3);
    assert.ok(hellos.every((l) => typeof l.session === 'string' && l.namespace === '/'));
    assert.ok(hellos.some((l) => (l.frame as { auth?: unknown }).auth === '[redacted]'));
    assert.ok(hellos.some((l) => (l.frame as { resume?: unknown }).resume === '[redacted]'), 'the resume token presented is redacted');
    const welcomes = frames.filter((l) => l.direction === 'out' && (l.frame as { type?: string }).type === 'welcome');
    assert.ok(welcomes.length >= 2 && welcomes.every((l) => (l.frame as { resume?: unknown }).resume === '[redacted]'), 'the resume token issued is redacted');
    assert.ok(lines.some((l) => l.msg === 'shutdown started' && l.level === 30));
    assert.equal(lines.at(-1)?.msg, 'shutdown finished');
    const text = raw();
    for (const secret of ['SECRET', String(first.welcome.resume), String(again.welcome.resume)]) assert.ok(!text.includes(secret), `${secret} is never logged`);
  });

  test('authorization refusals (info, with session, namespace, room or event and code, never the data) and Socket.IO messages over maxPayload (warn)', async () => {
    const { logger, lines, raw } = capturingPino();
    const { sb, url, port } = await startServer({ logger, socketIo: true });
    servers.push(sb);
    sb.sockets.authorizeJoin((_socket, room) => room !== 'vault');
    sb.sockets.authorize((_socket, event) => event !== 'withdraw');
    sb.on('connection', (socket) => socket.on('withdraw', () => 'paid'));
    const { c, welcome } = await bare(url, { auth: { token: 'SECRET-AUTH' } });
    c.send({ type: 'join', ref: 1, room: 'vault' });
    await c.next({ type: 'reply', ref: 1 });
    c.send({ type: 'event', ref: 2, event: 'withdraw', data: { pin: 'SECRET-PIN' } });
    await c.next({ type: 'reply', ref: 2 });
    const { open } = await pollingHandshake(port);
    assert.equal((await httpRequest(port, 'POST', `?EIO=4&transport=polling&sid=${String(open.sid)}`, '4' + 'x'.repeat(70_000))).status, 413);
    const { socket } = await RawEngineSocket.open(port);
    socket.send('4' + 'x'.repeat(70_000));
    await socket.closed;
    await eventually(() => lines.filter((l) => l.code === 'message_too_big').length === 2, 'both Socket.IO refusals to be logged');

    const byAuthorization = lines.filter((l) => l.msg === 'refused by authorization');
    assert.deepEqual(
      byAuthorization.map(({ level, code, namespace, session, room, event, transport }) => ({ level, code, namespace, session, room, event, transport })),
      [
        { level: 30, code: 'forbidden', namespace: '/', session: welcome.sid, room: 'vault', event: undefined, transport: 'websocket' },
        { level: 30, code: 'forbidden', namespace: '/', session: welcome.sid, room: undefined, event: 'withdraw', transport: 'websocket' },
      ],
    );
    const tooBig = lines.filter((l) => l.code === 'message_too_big');
    assert.deepEqual(
      tooBig.map(({ level, msg, transport, address }) => ({ level, msg, transport, address })),
      [
        { level: 40, msg: 'refused', transport: 'socket.io/polling', address: '127.0.0.1' },
        { level: 40, msg: 'refused', transport: 'socket.io/websocket', address: '127.0.0.1' },
      ],
    );
    const text = raw();
    for (const secret of ['SECRET', String(welcome.resume)]) assert.ok(!text.includes(secret), `${secret} is never logged`);
  });

  test('a slow consumer cut off: warn, with session, transport, address and buffered bytes', async () => {
    const { logger, lines, raw } = capturingPino();
    const { sb, url } = await startServer({ logger, maxBufferedBytes: 64 * 1024 });
    servers.push(sb);
    sb.durable('firehose');
    const { c, welcome } = await bare(url, { auth: { token: 'SECRET-AUTH' } });
    c.send({ type: 'join', ref: 1, room: 'firehose' });
    await c.next({ type: 'reply', ref: 1 });
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const blob = 'x'.repeat(16 * 1024);
    const cutOff = (): Line | undefined => lines.find((l) => l.msg === 'slow consumer cut off');
    for (let i = 0; i < 400 && !cutOff(); i++) await sb.to('firehose').publish('blob', blob);
    await eventually(() => cutOff() !== undefined, 'the slow consumer to be logged');
    c.ws.terminate();
    const line = cutOff() as Line;
    assert.equal(line.level, 40);
    assert.equal(line.session, welcome.sid);
    assert.equal(line.transport, 'websocket');
    assert.equal(line.address, '127.0.0.1');
    assert.equal(typeof line.bufferedBytes, 'number');
    assert.ok((line.bufferedBytes as number) > 0);
    assert.ok(!raw().includes('SECRET'));
  });

  test('Redis out of reach: error once per connection and outage, with the connection and the error, never the URL\'s password', async () => {
    const { logger, lines, raw } = capturingPino();
    // Port 1: nothing listens there; the password must not reach the log.
    const adapter = new RedisAdapter('redis://:SECRET-REDIS-PASSWORD@127.0.0.1:1', { prefix: `sb-test-logging-${process.pid}` });
    const sb = new Switchboard(0, { logger, adapter });
    servers.push(sb);
    await assert.rejects(sb.ready(), { code: 'cluster_unavailable' });
    await eventually(() => lines.some((l) => l.msg === 'redis connection failed; retrying'), 'the Redis failure to be logged');
    const failures = lines.filter((l) => l.msg === 'redis connection failed; retrying');
    assert.ok(failures.length >= 1 && failures.length <= 3, 'once per connection and outage');
    for (const l of failures) {
      assert.equal(l.level, 50);
      assert.ok(['commands', 'subscriber', 'presence'].includes(l.connection as string), String(l.connection));
      assert.equal(typeof l.error, 'string');
    }
    assert.equal(new Set(failures.map((l) => l.connection)).size, failures.length, 'no connection logged twice for one outage');
    assert.ok(!raw().includes('SECRET'), 'the password is never logged');
  });

  test('console is accepted: the message first, then the fields (never [object Object])', async () => {
    const printed: unknown[][] = [];
    const real = console.warn;
    console.warn = (...args: unknown[]) => void printed.push(args);
    try {
      const { sb, url } = await startServer({ logger: console, allowedOrigins: ['https://good.example'] });
      servers.push(sb);
      const evil = await BareClient.open(url, 'switchboard.v1', { Origin: 'https://evil.example' });
      clients.push(evil);
      await evil.closed;
      await eventually(() => printed.length > 0, 'the refusal on console.warn');
    } finally {
      console.warn = real;
    }
    assert.equal(printed[0]?.[0], '[switchboard] refused');
    assert.equal((printed[0]?.[1] as { code?: string }).code, 'origin_not_allowed');
  });

  test('a logger without the four methods is refused at construction', () => {
    assert.throws(() => new Switchboard(0, { logger: { info() {} } as never }), /logger must have the methods error, warn, info and debug.*missing: error, warn, debug/);
    assert.throws(() => new Switchboard(0, { traceFrames: 'yes' as never }), /traceFrames must be a boolean or a function/);
  });

  test('traced reauth: the reply carrying the fresh credentials is redacted whatever their shape (a JWT string, { jwt, password })', async () => {
    const { logger, lines, raw } = capturingPino();
    const { sb, url } = await startServer({ logger, traceFrames: true });
    servers.push(sb);
    const seen: unknown[] = [];
    sb.use((socket, next) => {
      seen.push(socket.handshake.auth);
      // The first two credentials expire at once: two reauth rounds.
      if (seen.length < 3) socket.expireAuthAt(Date.now() + 20);
      next();
    });
    const fresh: unknown[] = ['FIRST-JWT', { jwt: 'FRESH-JWT', password: 'FRESH-PASSWORD' }, 'FRESH-STRING-JWT'];
    let calls = 0;
    const client = connect(url, { auth: () => fresh[calls++] });
    try {
      await eventually(() => seen.length === 3, 'two reauth rounds');
      assert.deepEqual(seen, fresh, 'the server got each fresh credential');
    } finally {
      client.close();
    }
    const frames = lines.filter((l) => l.msg === 'frame').map((l) => l.frame as { type: string; ref?: number; data?: unknown });
    const reauths = frames.filter((f) => f.type === 'reauth');
    assert.equal(reauths.length, 2);
    for (const reauth of reauths) {
      const reply = frames.find((f) => f.type === 'reply' && f.ref === reauth.ref);
      assert.equal(reply?.data, '[redacted]', 'the reply to the reauth is traced, its data redacted');
    }
    const text = raw();
    for (const secret of ['FIRST-JWT', 'FRESH-JWT', 'FRESH-PASSWORD', 'FRESH-STRING-JWT']) assert.ok(!text.includes(secret), `${secret} is not in the trace`);
  });

  test('traceFrames as a function picks sessions at their hello', async () => {
    const { logger, lines } = capturingPino();
    const seen: unknown[] = [];
    const { sb, url } = await startServer({
      logger,
      traceFrames: (session) => {
        seen.push(session);
        return (session.namespace as string) === '/traced';
      },
    });
    servers.push(sb);
    sb.of('/traced');
    await bare(url, {});
    await bare(url, { ns: '/traced' });
    const traced = lines.filter((l) => l.msg === 'frame');
    assert.ok(traced.length >= 2);
    assert.ok(traced.every((l) => l.namespace === '/traced'));
    assert.equal(seen.length, 2);
    assert.deepEqual(Object.keys(seen[0] as object).sort(), ['address', 'id', 'namespace', 'transport']);
    assert.equal((seen[1] as { transport: string }).transport, 'websocket');
  });
});

describe('DEBUG=switchboard:frames', () => {
  test('without a logger, one line per frame on stderr, tokens redacted (a child process with DEBUG set)', async () => {
    const script = `
      import { Switchboard } from './src/server/index.js';
      import { BareClient } from './test/helpers/bare-client.js';
      const sb = new Switchboard(0, {});
      await sb.ready();
      const c = await BareClient.open('ws://127.0.0.1:' + sb.port + '/ws');
      await c.hello({ auth: { token: 'SECRET-CHILD' } });
      c.close();
      await sb.close();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, DEBUG: 'express:*,switchboard:*' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const lines = stderr.split('\n').filter((l) => l.startsWith('[switchboard] frame'));
    assert.ok(lines.some((l) => /^\[switchboard\] frame in session=\S+ ns=\/ \{"type":"hello"/.test(l)), stderr);
    assert.ok(lines.some((l) => l.includes('frame out') && l.includes('"type":"welcome"')), stderr);
    assert.ok(!stderr.includes('SECRET-CHILD'), 'the auth token is redacted');
  });
});
