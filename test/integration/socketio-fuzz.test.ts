/**
 * Bad input at the Socket.IO front door (docs/SOCKET-IO.md "Bad input"): a seeded fuzz run
 * of malformed Engine.IO payloads and Socket.IO packets over polling and WebSocket (see
 * test/helpers/socketio-fuzz-run.ts for what is checked, socketio-fuzzer.ts for what is
 * sent), the documented answers one by one, and floods against `frameRate` and
 * `handshakeRate`. Replay a fuzz failure with SIO_FUZZ_SEED=<seed>; choose the number of
 * cases with SIO_FUZZ_CASES=<n>.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import type { ConnectionError } from '../../src/server/connection-refusals.js';
import type { Switchboard, SwitchboardOptions } from '../../src/server/index.js';
import { httpRequest, openEngineLink } from '../helpers/engine-io-link.js';
import { countFromEnv, seedFromEnv } from '../helpers/fuzz-run.js';
import { eventually, startServer } from '../helpers/server.js';
import { describeSocketIoReport, runSocketIoFuzz } from '../helpers/socketio-fuzz-run.js';

const seed = seedFromEnv('SIO_FUZZ_SEED');
const cases = countFromEnv('SIO_FUZZ_CASES', 1500);
const replay = `SIO_FUZZ_SEED=${seed} SIO_FUZZ_CASES=${cases} node --import tsx --test test/integration/socketio-fuzz.test.ts`;

test(`socket.io fuzz: ${cases} malformed Engine.IO and Socket.IO inputs; documented answers or a close, healthy clients served, counts back (seed ${seed})`, { timeout: 180_000 }, async (t) => {
  t.diagnostic(`replay: ${replay}`);
  const report = await runSocketIoFuzz({ seed, cases });
  for (const line of describeSocketIoReport(report)) t.diagnostic(line);
  assert.deepEqual(report.failures, [], `socket.io fuzz failures; replay with ${replay}`);
  assert.ok(report.healthyAnswers > 20, `the healthy clients got only ${report.healthyAnswers} answers`);
  for (const label of ['engine/bad-base64', 'socket/truncated-json', 'socket/huge-ack-id', 'binary/too-few', 'binary/orphan-attachment', 'limit/huge-string', 'namespace/unknown-connect']) {
    assert.ok((report.labels[label] ?? 0) > 0 || cases < 500, `no "${label}" case was sent`);
  }
  for (const ending of ['open', 'close packet', 'ws 1000', 'ws 1009']) assert.ok((report.endings[ending] ?? 0) > 0 || cases < 500, `no connection ended as "${ending}"`);
});

// ---------------------------------------------------------------------------------------

const servers: Switchboard[] = [];
const clients: ClientSocket[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((sb) => sb.close({ deadline: 1000 })));
});

async function server(options: SwitchboardOptions = {}): Promise<{ sb: Switchboard; base: string; url: string; refusals: ConnectionError[]; errors: unknown[] }> {
  const { sb, port } = await startServer({ socketIo: { pingInterval: 1000, pingTimeout: 2000 }, serveClient: false, ...options });
  servers.push(sb as Switchboard);
  const refusals: ConnectionError[] = [];
  const errors: unknown[] = [];
  sb.on('connection_error', (error) => refusals.push(error));
  sb.on('error', (err) => errors.push(err));
  sb.on('connection', (socket) => {
    socket.on('echo', (data: unknown) => data);
  });
  return { sb: sb as Switchboard, base: `http://127.0.0.1:${port}/socket.io/`, url: `http://127.0.0.1:${port}`, refusals, errors };
}

async function healthyClient(url: string): Promise<ClientSocket> {
  const socket = io(url, { forceNew: true, reconnection: false, transports: ['websocket'] });
  clients.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('connect_error', reject));
  return socket;
}

describe('Socket.IO bad input: the documented answers', () => {
  test('opening requests: EIO, transport, sid, method, as engine.io answers them', async () => {
    const { base } = await server();
    const answers = {
      eio3: await httpRequest(`${base}?EIO=3&transport=polling`),
      noEio: await httpRequest(`${base}?transport=polling`),
      transport: await httpRequest(`${base}?EIO=4&transport=flashsocket`),
      sid: await httpRequest(`${base}?EIO=4&transport=polling&sid=nobody.xyz`),
      postSid: await httpRequest(`${base}?EIO=4&transport=polling&sid=nobody.xyz`, { method: 'POST', body: '40' }),
      put: await httpRequest(`${base}?EIO=4&transport=polling`, { method: 'PUT' }),
    };
    const body = (answer: { body: string }): unknown => JSON.parse(answer.body);
    assert.deepEqual([answers.eio3.status, body(answers.eio3)], [400, { code: 5, message: 'Unsupported protocol version' }]);
    assert.deepEqual([answers.noEio.status, body(answers.noEio)], [400, { code: 5, message: 'Unsupported protocol version' }]);
    assert.deepEqual([answers.transport.status, body(answers.transport)], [400, { code: 0, message: 'Transport unknown' }]);
    assert.deepEqual([answers.sid.status, body(answers.sid)], [400, { code: 1, message: 'Session ID unknown' }]);
    assert.deepEqual([answers.postSid.status, body(answers.postSid)], [400, { code: 1, message: 'Session ID unknown' }]);
    assert.equal(answers.put.status, 400);
    assert.equal((body(answers.put) as { code: number }).code, 2);
  });

  test('a name Socket.IO reserves closes the connection, as Socket.IO does; one only Switchboard reserves is answered bad_request', async () => {
    const { base } = await server();
    // SOCKET-IO.md, "Events and acknowledgements": Socket.IO's reserved names close the
    // connection; Switchboard's own get bad_request, as the answer or as an `error` event.
    const socketIoReserved = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
    const names = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'error', 'state', 'reconnecting', 'recovery', 'presence', 'newListener', 'removeListener'];
    const outcomes: string[] = [];
    for (const name of names) {
      for (const withAck of [true, false]) {
        const link = await openEngineLink(base, 'websocket');
        assert.ok(link);
        await link.send(['40']);
        assert.equal(await link.until((p) => typeof p === 'string' && p.startsWith('40{'), 5000), 'packet');
        await link.send([withAck ? `427${JSON.stringify([name])}` : `42${JSON.stringify([name])}`, '4299["echo","probe"]']);
        const result = await link.until((p) => p === '4399["probe"]', 5000);
        const answer = link.received.find((p) => typeof p === 'string' && (withAck ? p.startsWith('437[') : p.startsWith('42["error"')));
        const code = typeof answer === 'string' ? (answer.match(/"code":"(\w+)"/)?.[1] ?? 'none') : 'none';
        outcomes.push(`${name}${withAck ? ' (ack)' : ''}: ${result === 'packet' ? 'open' : `closed (${link.ending})`}, answer ${code}`);
        await link.close();
      }
    }
    assert.deepEqual(
      outcomes,
      names.flatMap((name) =>
        socketIoReserved.includes(name)
          ? [`${name} (ack): closed (ws 1000), answer none`, `${name}: closed (ws 1000), answer none`]
          : [`${name} (ack): open, answer bad_request`, `${name}: open, answer bad_request`],
      ),
    );
  });
});

describe('Socket.IO floods', () => {
  test('many packets fast on one connection hit frameRate: an `error` event, a rate_limited answer, then `io server disconnect`', async () => {
    const { url, errors } = await server({ frameRate: { perSecond: 5, burst: 10 } });
    const healthy = await healthyClient(url);
    const flooder = await healthyClient(url);
    const errorEvents: { code?: string }[] = [];
    flooder.on('error', (body: { code?: string }) => void errorEvents.push(body));
    const disconnected = new Promise<string>((resolve) => flooder.once('disconnect', (reason) => resolve(reason)));
    // The burst goes through; the next one is refused with an answer; the first refused
    // fire-and-forget event is told with an `error` event.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => flooder.timeout(5000).emitWithAck('echo', i)));
    assert.deepEqual(answers, Array.from({ length: 10 }, (_, i) => i));
    const over = (await flooder.timeout(5000).emitWithAck('echo', 'over')) as { error?: { code?: string; message?: unknown } };
    assert.equal(over.error?.code, 'rate_limited', `answer over the rate: ${JSON.stringify(over)}`);
    assert.equal(typeof over.error?.message, 'string');
    flooder.emit('echo', 'over, no ack');
    // Going on past the burst is abuse: the server ends the socket.
    for (let i = 0; i < 40; i++) flooder.emit('echo', i);
    assert.equal(await disconnected, 'io server disconnect');
    assert.ok(errorEvents.some((e) => e.code === 'rate_limited'), `error events: ${JSON.stringify(errorEvents)}`);
    assert.equal(flooder.active, false, 'a client disconnected by the server does not reconnect');
    // Another socket on the same server is not limited by it.
    assert.equal(await healthy.timeout(5000).emitWithAck('echo', 'fine'), 'fine');
    assert.deepEqual(errors, []);
  });

  test('many handshakes hit handshakeRate: 429 with the rate_limited context, reported to connection_error; a connected client is unaffected', async () => {
    const { sb, base, url, refusals } = await server({ handshakeRate: { perSecond: 1, burst: 4 } });
    const healthy = await healthyClient(url);
    const before = sb.connectionCount;
    const polls = [];
    for (let i = 0; i < 8; i++) polls.push(await httpRequest(`${base}?EIO=4&transport=polling`));
    const upgrade = await openEngineLink(base, 'websocket');
    const statuses = polls.map((a) => a.status);
    // Three more handshakes passed the bucket (the healthy client took a token already).
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429, 429]);
    assert.equal(upgrade, undefined, 'a WebSocket handshake over the rate is refused too');
    const refused = polls.find((a) => a.status === 429) as { body: string; headers: Record<string, unknown> };
    const body = JSON.parse(refused.body) as { code: number; message: string; context: { code: string; message: string } };
    assert.equal(body.context.code, 'rate_limited');
    assert.equal(typeof body.context.message, 'string');
    assert.equal(typeof body.code, 'number');
    assert.ok(refused.headers['retry-after'] !== undefined, 'Retry-After on a 429');
    await eventually(() => refusals.filter((r) => r.code === 'rate_limited').length >= 6, 'six refusals reported to connection_error');
    assert.ok(refusals.some((r) => r.transport === 'websocket'), 'the WebSocket refusal is reported');
    assert.equal(await healthy.timeout(5000).emitWithAck('echo', 'fine'), 'fine');
    // The three admitted handshakes (no namespace) leave when told to; the counts come back.
    for (const answer of polls.filter((a) => a.status === 200)) {
      const { sid } = JSON.parse(answer.body.slice(1)) as { sid: string };
      assert.equal((await httpRequest(`${base}?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '1' })).status, 200);
    }
    const internals = sb as unknown as { socketIo: { size: number } };
    await eventually(() => internals.socketIo.size === 1 && sb.connectionCount === before, 'only the healthy client left');
  });
});
