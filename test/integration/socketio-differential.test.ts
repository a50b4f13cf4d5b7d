/**
 * The same client-side scenarios, written once with the real `socket.io-client` 4.8, run
 * against the real `socket.io` 4.8 server and against Switchboard's Socket.IO front door
 * (contract17.md), with the same app on each (test/helpers/socketio-apps.ts). Every
 * scenario compares what the client observed with one expected value, recorded from
 * socket.io; where Switchboard deliberately differs (contract17.md) the expected value says
 * so per server, with the reason.
 *
 * The Switchboard runs are enabled by KINDS_UNDER_TEST in socketio-apps.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { KINDS_UNDER_TEST, TOKENS, startApp, type RunningApp, type ServerKind } from '../helpers/socketio-apps.js';
import { ackArgs, Clients, connected, disconnection, Inbox, refused, settledTransport, type TransportList } from '../helpers/socketio-client-probe.js';

const TRANSPORT_SETUPS: readonly { name: string; transports?: TransportList; settled: string }[] = [
  { name: 'polling only', transports: ['polling'], settled: 'polling' },
  { name: 'websocket only', transports: ['websocket'], settled: 'websocket' },
  { name: 'default (polling, then upgrade)', settled: 'websocket' },
];

const bin = (...bytes: number[]) => ({ binary: 'Buffer', bytes });

for (const kind of KINDS_UNDER_TEST) {
  describe(`socket.io-client against ${kind}`, () => {
    let app: RunningApp | undefined;
    let clients: Clients;
    beforeEach(async () => {
      app = await startApp(kind);
      clients = new Clients(app);
    });
    afterEach(async () => {
      clients?.closeAll();
      await app?.close();
      app = undefined;
    });
    const running = (): RunningApp => app ?? assert.fail('no app running');

    for (const setup of TRANSPORT_SETUPS) {
      test(`a conversation over ${setup.name}: acks, error acks, server events, a server request, binary, the transport it settles on`, async () => {
        const socket = clients.open({ token: TOKENS.ada, ...(setup.transports ? { transports: setup.transports } : {}) });
        socket.on('question', (question: string, answer: (reply: unknown) => void) => answer({ heard: question }));
        const poked = new Inbox(socket, 'poked');
        await connected(socket);
        const seen = {
          // socket.io-client sets it to `pid && ...`: undefined without connection state recovery (not false).
          recovered: socket.recovered,
          idIsString: typeof socket.id === 'string' && socket.id.length > 0,
          whoami: await ackArgs(socket, 'whoami'),
          echo: [
            await ackArgs(socket, 'echo', 'héllo 𝄞 "quoted" \\ and\nnewline'),
            await ackArgs(socket, 'echo', { nested: [1, null, true, { deep: 'x' }] }),
            await ackArgs(socket, 'echo', null),
            await ackArgs(socket, 'echo', 0),
            await ackArgs(socket, 'echo', ''),
            await ackArgs(socket, 'echo', 'y'.repeat(32_000)).then(([s]) => (s as string).length),
          ],
          sum: await ackArgs(socket, 'sum', { a: 2, b: 40 }),
          // Socket.IO has no error acks; the socket.io app acks { error } and Switchboard's
          // ReplyError arrives in that shape (contract17.md: ACK [{"error":{"code","message"}}]).
          fail: await ackArgs(socket, 'fail'),
          join: await ackArgs(socket, 'join', 'r1'),
          // The events are sent before the ack, on one connection: they are here when it is.
          poke: await ackArgs(socket, 'poke'),
          poked: [await poked.take(), await poked.take()],
          askClient: await ackArgs(socket, 'askClient', 'ready?'),
          binaryEcho: await ackArgs(socket, 'echo', Buffer.from([0, 1, 2, 255])),
          binaryNested: await ackArgs(socket, 'bin', { name: 'a.bin', bytes: new Uint8Array([7, 8, 9]) }),
          binaryEmpty: await ackArgs(socket, 'echo', new Uint8Array(0)),
          transport: await settledTransport(socket, setup.transports === undefined),
          afterSettling: await ackArgs(socket, 'sum', { a: 1, b: 1 }),
        };
        assert.deepEqual(seen, {
          recovered: undefined,
          idIsString: true,
          whoami: [{ user: 'ada', nsp: '/' }],
          echo: [['héllo 𝄞 "quoted" \\ and\nnewline'], [{ nested: [1, null, true, { deep: 'x' }] }], [null], [0], [''], 32_000],
          sum: [42],
          fail: [{ error: { code: 'bad_request', message: 'always fails' } }],
          join: [],
          poke: [],
          poked: [[], [{ n: 1 }]],
          askClient: [{ heard: 'ready?' }],
          binaryEcho: [bin(0, 1, 2, 255)],
          binaryNested: [{ name: 'a.bin', size: 3, bytes: bin(7, 8, 9) }],
          binaryEmpty: [bin()],
          transport: setup.settled,
          afterSettling: [2],
        });
      });
    }

    test('rooms: a broadcast to a room reaches its other members, not the sender, not outsiders', async () => {
      const [ada, bob, cy] = [TOKENS.ada, TOKENS.bob, TOKENS.cy].map((token) => clients.open({ token }));
      const heard = { ada: new Inbox(ada!, 'said'), bob: new Inbox(bob!, 'said'), cy: new Inbox(cy!, 'said') };
      await Promise.all([ada, bob, cy].map((s) => connected(s!)));
      await ackArgs(ada!, 'join', 'lobby');
      await ackArgs(bob!, 'join', 'lobby');
      await ackArgs(ada!, 'say', { room: 'lobby', text: 'one' });
      const bobFirst = await heard.bob.take();
      await ackArgs(bob!, 'say', { room: 'lobby', text: 'two' });
      // Had ada heard her own 'one', it would come before 'two' on her connection.
      const adaFirst = await heard.ada.take();
      await ackArgs(cy!, 'join', 'lobby');
      await ackArgs(ada!, 'say', { room: 'lobby', text: 'three' });
      // cy was outside the room for 'one' and 'two': her first is 'three'.
      const cyFirst = await heard.cy.take();
      const bobSecond = await heard.bob.take();
      assert.deepEqual(
        { bobFirst, adaFirst, cyFirst, bobSecond },
        {
          bobFirst: [{ from: 'ada', text: 'one' }],
          adaFirst: [{ from: 'bob', text: 'two' }],
          cyFirst: [{ from: 'ada', text: 'three' }],
          bobSecond: [{ from: 'ada', text: 'three' }],
        },
      );
    });

    test('socket.data and fetchSockets: the users connected, then without the one who left; client disconnect reason', async () => {
      const ada = clients.open({ token: TOKENS.ada });
      const bob = clients.open({ token: TOKENS.bob });
      await Promise.all([connected(ada), connected(bob)]);
      const before = await ackArgs(ada, 'users');
      const reason = disconnection(bob);
      bob.disconnect();
      // Asked until it settles: bob's DISCONNECT and ada's request travel on different connections.
      let after = before;
      for (let attempt = 0; attempt < 100 && JSON.stringify(after) !== '[["ada"]]'; attempt++) {
        await new Promise((r) => setTimeout(r, 20));
        after = await ackArgs(ada, 'users');
      }
      assert.deepEqual({ before, bobReason: await reason, after }, { before: [['ada', 'bob']], bobReason: 'io client disconnect', after: [['ada']] });
    });

    test('kickme: the server disconnects the socket; it does not reconnect by itself, and connect() makes a new one', async () => {
      const socket = clients.open({ token: TOKENS.ada });
      await connected(socket);
      const firstId = socket.id;
      const reason = disconnection(socket);
      socket.emit('kickme');
      const seen = { reason: await reason, active: socket.active, connected: socket.connected };
      socket.connect();
      await connected(socket);
      assert.deepEqual(
        { ...seen, newId: socket.id !== firstId, recovered: socket.recovered, echo: await ackArgs(socket, 'echo', 'again') },
        { reason: 'io server disconnect', active: false, connected: false, newId: true, recovered: undefined, echo: ['again'] },
      );
    });

    test('middleware refusals: connect_error message and data, and no retry', async () => {
      const seen = {
        noAuth: await refused(clients.open({ token: null })),
        badToken: await refused(clients.open({ token: 'token-mallory' })),
        adminWithoutToken: await refused(clients.open({ nsp: '/admin', token: null })),
        adminNotAdmin: await refused(clients.open({ nsp: '/admin', token: TOKENS.bob })),
      };
      assert.deepEqual(seen, {
        noAuth: { message: 'unauthorized', data: { code: 'unauthorized' }, active: false },
        badToken: { message: 'unauthorized', data: { code: 'unauthorized' }, active: false },
        adminWithoutToken: { message: 'unauthorized', data: { code: 'unauthorized' }, active: false },
        adminNotAdmin: { message: 'forbidden', data: { code: 'forbidden' }, active: false },
      });
    });

    test('an unknown namespace is refused with "Invalid namespace"', async () => {
      // Documented difference: Switchboard adds data.code unknown_namespace (contract17.md); socket.io sends no data.
      const data: Record<ServerKind, unknown> = { 'socket.io': undefined, switchboard: { code: 'unknown_namespace' } };
      assert.deepEqual(await refused(clients.open({ nsp: '/nope', token: TOKENS.ada })), { message: 'Invalid namespace', data: data[kind], active: false });
    });

    test('namespaces on one connection: each its own socket id and middleware; a refused one leaves the other up', async () => {
      const adasLink = clients.manager();
      const adaRoot = clients.of(adasLink, '/', TOKENS.ada);
      const adaAdmin = clients.of(adasLink, '/admin', TOKENS.ada);
      await Promise.all([connected(adaRoot), connected(adaAdmin)]);
      const bobsLink = clients.manager();
      const bobRoot = clients.of(bobsLink, '/', TOKENS.bob);
      const bobAdmin = refused(clients.of(bobsLink, '/admin', TOKENS.bob)); // listening before it can happen
      await connected(bobRoot);
      const seen = {
        idsDiffer: adaRoot.id !== adaAdmin.id,
        root: await ackArgs(adaRoot, 'whoami'),
        admin: await ackArgs(adaAdmin, 'whoami'),
        adminEcho: await ackArgs(adaAdmin, 'echo', { x: 1 }),
        bobAdmin: await bobAdmin,
        bobRootStillUp: await ackArgs(bobRoot, 'whoami'),
      };
      assert.deepEqual(seen, {
        idsDiffer: true,
        root: [{ user: 'ada', nsp: '/' }],
        admin: [{ user: 'ada', nsp: '/admin' }],
        adminEcho: [{ x: 1 }],
        bobAdmin: { message: 'forbidden', data: { code: 'forbidden' }, active: false },
        bobRootStillUp: [{ user: 'bob', nsp: '/' }],
      });
    });

    test('several arguments: the socket.io app acks its argument list, Switchboard hands the handler their array', async () => {
      const socket = clients.open({ token: TOKENS.ada });
      await connected(socket);
      const seen = {
        two: await ackArgs(socket, 'arity', 'x', 2),
        one: await ackArgs(socket, 'arity', 'x'),
        none: await ackArgs(socket, 'arity'),
      };
      // Documented difference (contract17.md): the handler gets one value — several
      // arguments as their array, one as itself, none as undefined (acked with no arguments).
      // With two or more arguments the two servers agree.
      const expected: Record<ServerKind, typeof seen> = {
        'socket.io': { two: [['x', 2]], one: [['x']], none: [[]] },
        switchboard: { two: [['x', 2]], one: ['x'], none: [] },
      };
      assert.deepEqual(seen, expected[kind]);
    });

    test('a 100 kB message over WebSocket: under socket.io maxPayload (1e6), over Switchboard maxPayload (64 KiB)', async () => {
      const socket = clients.open({ token: TOKENS.ada, transports: ['websocket'] });
      await connected(socket);
      const big = 'z'.repeat(100_000);
      const outcome = await Promise.race([
        ackArgs(socket, 'echo', big).then(([s]) => ({ echoed: (s as string).length })),
        disconnection(socket).then((reason) => ({ disconnected: reason })),
      ]);
      // Documented difference (contract17.md "Shape"): maxPayload defaults to maxMessageBytes.
      const expected: Record<ServerKind, unknown> = { 'socket.io': { echoed: 100_000 }, switchboard: { disconnected: 'transport close' } };
      assert.deepEqual(outcome, expected[kind]);
    });

    // socket.io cuts a waiting poll when its HTTP server closes ('transport error'); the
    // contract has EngineServer.close() answer it with a close packet ('transport close').
    const shutdownReasons: Record<string, Record<ServerKind, string>> = {
      'polling only': { 'socket.io': 'transport error', switchboard: 'transport close' },
      'websocket only': { 'socket.io': 'transport close', switchboard: 'transport close' },
    };
    for (const setup of TRANSPORT_SETUPS.slice(0, 2)) {
      test(`the server shuts down: the client's disconnect reason over ${setup.name}`, async () => {
        const socket = clients.open({ token: TOKENS.ada, ...(setup.transports ? { transports: setup.transports } : {}) });
        await connected(socket);
        const reason = disconnection(socket);
        await running().close();
        app = undefined;
        assert.equal(await reason, shutdownReasons[setup.name]?.[kind]);
      });
    }
  });
}
