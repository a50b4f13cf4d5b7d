/**
 * Bad input at the Socket.IO front door, sent by hand (test/helpers/engine-io-raw.ts) to
 * the real socket.io 4.8 server (default options) and to Switchboard with `socketIo: true`.
 * Each case states what socket.io answers — observed, recorded here — and what Switchboard
 * must answer: the same where contract17.md says "as engine.io", its own documented answer
 * where the contract chose one (the expectation is then per server, with the reason).
 * After every broken connection a fresh one must still be served: no crash, no wedge.
 *
 * The Switchboard runs are enabled by KINDS_UNDER_TEST in socketio-apps.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engineError, httpRequest, pollingHandshake, rawUpgrade, RawEngineSocket, statusOf } from '../helpers/engine-io-raw.js';
import { KINDS_UNDER_TEST, TOKENS, startApp, type RunningApp, type ServerKind } from '../helpers/socketio-apps.js';

const SESSION_UNKNOWN = { status: 400, code: 1, message: 'Session ID unknown' };

/** Refused before any connection exists: same status and Engine.IO code on both (contract17.md "Query"). */
const REFUSED_REQUESTS: readonly { name: string; method: string; query: string; body?: string; answer: { status: number; code: number; message: string } }[] = [
  { name: 'EIO=3', method: 'GET', query: '?EIO=3&transport=polling', answer: { status: 400, code: 5, message: 'Unsupported protocol version' } },
  { name: 'no EIO', method: 'GET', query: '?transport=polling', answer: { status: 400, code: 5, message: 'Unsupported protocol version' } },
  { name: 'unknown transport', method: 'GET', query: '?EIO=4&transport=carrier-pigeon', answer: { status: 400, code: 0, message: 'Transport unknown' } },
  { name: 'unknown sid (GET)', method: 'GET', query: '?EIO=4&transport=polling&sid=no-such-sid', answer: SESSION_UNKNOWN },
  { name: 'unknown sid (POST)', method: 'POST', query: '?EIO=4&transport=polling&sid=no-such-sid', body: '4hello', answer: SESSION_UNKNOWN },
  { name: 'PUT handshake', method: 'PUT', query: '?EIO=4&transport=polling', answer: { status: 400, code: 2, message: 'Bad handshake method' } },
  { name: 'POST handshake', method: 'POST', query: '?EIO=4&transport=polling', body: '40', answer: { status: 400, code: 2, message: 'Bad handshake method' } },
];

/**
 * Polling bodies that end the connection. socket.io answers a payload it cannot parse with
 * 200 "ok" and then closes; the contract answers it 400 ("bad payload → 400 and close").
 */
const BROKEN_BODIES: readonly { name: string; body: string; status: Record<ServerKind, number> }[] = [
  { name: 'a malformed payload', body: 'garbage', status: { 'socket.io': 200, switchboard: 400 } },
  { name: 'an empty payload', body: '', status: { 'socket.io': 200, switchboard: 400 } },
  { name: 'a body over maxPayload (1.1 MB, over both defaults)', body: '4' + 'x'.repeat(1_100_000), status: { 'socket.io': 413, switchboard: 413 } },
];

/** Messages after a connected CONNECT that socket.io answers by closing the connection (Socket.IO packet errors). */
const SOCKET_PACKET_ERRORS: readonly { name: string; messages: (string | Buffer)[] }[] = [
  { name: 'EVENT with broken JSON `2[`', messages: ['42['] },
  { name: 'EVENT whose payload is not an array', messages: ['42{"a":1}'] },
  { name: 'unknown packet type 9', messages: ['49'] },
  { name: 'CONNECT_ERROR from the client', messages: ['44{}'] },
  { name: 'CONNECT again to a connected namespace', messages: ['40'] },
  { name: 'EVENT to a namespace it did not connect', messages: ['42/nope,["x"]'] },
  { name: 'BINARY_EVENT, then text where its attachment should be', messages: ['451-["x",{"_placeholder":true,"num":0}]', '42["y"]'] },
  { name: 'BINARY_EVENT whose placeholder points past its attachments', messages: ['451-["x",{"_placeholder":true,"num":5}]', Buffer.from([1])] },
  { name: 'BINARY_EVENT announcing 99 attachments', messages: ['4599-["x",{"_placeholder":true,"num":0}]'] },
  { name: 'a binary message with no BINARY_EVENT before it', messages: [Buffer.from([1, 2])] },
];

/** Engine.IO packets socket.io closes on; the contract's answer where it chose another. */
const ENGINE_PACKETS: readonly { name: string; message: string; answer: Record<ServerKind, 'closes' | 'pong'> }[] = [
  { name: 'unknown Engine.IO type 9', message: '9', answer: { 'socket.io': 'closes', switchboard: 'closes' } },
  { name: 'an empty message', message: '', answer: { 'socket.io': 'closes', switchboard: 'closes' } },
  // engine.io 6.6 closes ("invalid heartbeat direction"); contract17.md "Limits" answers a client ping with a pong.
  { name: 'a ping from the client', message: '2', answer: { 'socket.io': 'closes', switchboard: 'pong' } },
];

for (const kind of KINDS_UNDER_TEST) {
  describe(`bad input to ${kind}`, () => {
    let app: RunningApp;
    before(async () => {
      app = await startApp(kind);
    });
    after(() => app.close());

    /** A new connection is still served: CONNECT, then an EVENT with an ack id is answered. */
    async function stillServing(): Promise<void> {
      const socket = await RawEngineSocket.connected(app.port, { token: TOKENS.ada });
      socket.send('421["echo","still here"]');
      assert.equal(await socket.next(), '431["still here"]');
      socket.terminate();
    }

    for (const request of REFUSED_REQUESTS) {
      test(`${request.name}: HTTP ${request.answer.status}, Engine.IO code ${request.answer.code}`, async () => {
        const answer = await httpRequest(app.port, request.method, request.query, request.body);
        assert.deepEqual({ status: answer.status, ...engineError(answer) }, request.answer, answer.body);
      });
    }

    test('the polling handshake: the open packet, its Content-Type, maxPayload per server', async () => {
      const { answer, open } = await pollingHandshake(app.port);
      // Documented difference (contract17.md "Shape"): maxPayload = maxMessageBytes, 65536; socket.io's is 1e6.
      const maxPayload: Record<ServerKind, number> = { 'socket.io': 1_000_000, switchboard: 65_536 };
      assert.deepEqual(
        { status: answer.status, contentType: answer.contentType, ...open, sid: typeof open.sid },
        { status: 200, contentType: 'text/plain; charset=UTF-8', sid: 'string', upgrades: ['websocket'], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: maxPayload[kind] },
      );
    });

    test('the WebSocket handshake offers no upgrades', async () => {
      const { socket, open } = await RawEngineSocket.open(app.port);
      socket.terminate();
      assert.deepEqual(open.upgrades, []);
    });

    for (const broken of BROKEN_BODIES) {
      test(`polling POST with ${broken.name}: HTTP ${broken.status[kind]}, the waiting poll is answered, the connection is closed`, async () => {
        const { open } = await pollingHandshake(app.port);
        const query = `?EIO=4&transport=polling&sid=${String(open.sid)}`;
        // A poll waits while the POST breaks the connection (as a real client's would): it must be
        // answered, not left hanging. (Without one, engine.io holds the close for its 30 s closeTimeout.)
        const waiting = httpRequest(app.port, 'GET', query);
        await new Promise((r) => setTimeout(r, 100));
        const post = await httpRequest(app.port, 'POST', query, broken.body, { 'content-type': 'text/plain;charset=UTF-8' });
        const answered = await waiting; // socket.io: 200 with a close packet "1"
        const poll = await httpRequest(app.port, 'GET', query);
        assert.deepEqual(
          { post: post.status, waitingAnswered: answered.status > 0, afterwards: { status: poll.status, ...engineError(poll) } },
          { post: broken.status[kind], waitingAnswered: true, afterwards: SESSION_UNKNOWN },
        );
        await stillServing();
      });
    }

    test('two polls at once on one sid: one is refused with 400, the other answered, the connection is closed', async () => {
      const { open } = await pollingHandshake(app.port);
      const query = `?EIO=4&transport=polling&sid=${String(open.sid)}`;
      const first = httpRequest(app.port, 'GET', query);
      // The first poll has nothing to return, so it waits; the pause lets it arrive first, and
      // which of the two is refused is not asserted, in case it did not. (socket.io: the waiting
      // one gets 200 with a close packet "1", the overlapping one 400 with an empty body.)
      await new Promise((r) => setTimeout(r, 100));
      const second = httpRequest(app.port, 'GET', query);
      const statuses = [(await first).status, (await second).status];
      const poll = await httpRequest(app.port, 'GET', query);
      assert.deepEqual(
        { oneRefused: statuses.includes(400), bothAnswered: statuses.every((s) => s > 0), afterwards: { status: poll.status, ...engineError(poll) } },
        { oneRefused: true, bothAnswered: true, afterwards: SESSION_UNKNOWN },
        `statuses ${statuses.join(', ')}`,
      );
    });

    test('WebSocket upgrade refusals: unknown sid and unknown transport get HTTP 400 before any upgrade', async () => {
      const unknownSid = await rawUpgrade(app.port, '?EIO=4&transport=websocket&sid=no-such-sid');
      const unknownTransport = await rawUpgrade(app.port, '?EIO=4&transport=carrier-pigeon');
      assert.deepEqual(
        { unknownSid: [statusOf(unknownSid), unknownSid.includes('Session ID unknown')], unknownTransport: [statusOf(unknownTransport), unknownTransport.includes('Transport unknown')] },
        { unknownSid: [400, true], unknownTransport: [400, true] },
      );
    });

    test('WebSocket upgrade with EIO=3: socket.io upgrades and then writes a 400 into the stream; the contract refuses with 400', async () => {
      const raw = await rawUpgrade(app.port, '?EIO=3&transport=websocket');
      const expected: Record<ServerKind, number> = { 'socket.io': 101, switchboard: 400 };
      assert.deepEqual({ status: statusOf(raw), says: raw.includes('Unsupported protocol version') }, { status: expected[kind], says: true });
    });

    for (const bad of SOCKET_PACKET_ERRORS) {
      test(`Socket.IO packet error, ${bad.name}: the connection is closed, the server goes on`, async () => {
        const socket = await RawEngineSocket.connected(app.port, { token: TOKENS.ada });
        for (const message of bad.messages) socket.send(message);
        await socket.closedWithin();
        // socket.io sends nothing before closing; an Engine.IO close packet is all that may come.
        assert.deepEqual(socket.pending().filter((m) => m !== '1'), []);
        await stillServing();
      });
    }

    for (const packet of ENGINE_PACKETS) {
      test(`Engine.IO ${packet.name}: ${packet.answer[kind] === 'pong' ? 'answered with a pong' : 'the connection is closed'}`, async () => {
        const socket = await RawEngineSocket.connected(app.port, { token: TOKENS.ada });
        socket.send(packet.message);
        if (packet.answer[kind] === 'closes') {
          await socket.closedWithin();
          assert.deepEqual(socket.pending().filter((m) => m !== '1'), []);
        } else {
          assert.equal(await socket.next(), '3');
          socket.send('421["echo","after the pong"]');
          assert.equal(await socket.next(), '431["after the pong"]');
          socket.terminate();
        }
        await stillServing();
      });
    }

    test('CONNECT to an unknown namespace: CONNECT_ERROR "Invalid namespace", and the connection stays up', async () => {
      const socket = await RawEngineSocket.connected(app.port, { token: TOKENS.ada });
      socket.send('40/nope,');
      const refusal = await socket.next();
      // An ACK for an id the server never sent is ignored by socket.io: the connection stays up too.
      socket.send('4377["nobody asked"]');
      socket.send('421["echo","still connected"]');
      const echo = await socket.next();
      socket.terminate();
      assert.ok(typeof refusal === 'string' && refusal.startsWith('44/nope,'), String(refusal));
      // Documented difference (contract17.md "gateway"): Switchboard adds data.code unknown_namespace.
      const expected: Record<ServerKind, unknown> = {
        'socket.io': { message: 'Invalid namespace' },
        switchboard: { message: 'Invalid namespace', data: { code: 'unknown_namespace' } },
      };
      assert.deepEqual({ refusal: JSON.parse(refusal.slice('44/nope,'.length)), echo }, { refusal: expected[kind], echo: '431["still connected"]' });
    });
  });
}
