/**
 * Connection state recovery for the real socket.io-client on one node (docs/SOCKET-IO.md,
 * Connection state recovery): the TCP connection is cut while the server sends, and the
 * client comes back to the same socket with every event it missed, once and in order —
 * or, without `recovery`, as a new socket. And who disconnects whom, with which reason.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Socket as SioSocket } from 'socket.io-client';
import type { Socket, Switchboard } from '../../src/server/index.js';
import { eventually, startServer } from '../helpers/server.js';
import { closeSocketsAfterEach, connected, nextEvent, range, Received, sio } from '../helpers/socketio.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

closeSocketsAfterEach();

/** A server whose sockets join the room `feed` on request, with a record of its connections and disconnects. */
async function feedServer(recovery: boolean) {
  const { sb } = await startServer({ socketIo: { recovery } });
  const sockets = new Map<string, Socket>();
  const disconnects: { id: string; reason: string }[] = [];
  let connections = 0;
  sb.on('connection', (socket) => {
    connections++;
    sockets.set(socket.id, socket);
    socket.on('enter', () => {
      socket.join('feed');
      return 'in';
    });
    socket.on('disconnect', (reason) => disconnects.push({ id: socket.id, reason }));
  });
  return {
    sb,
    sockets,
    disconnects,
    get connections() {
      return connections;
    },
  };
}

/** Send `from..to` as a broadcast to `feed` and as events to `socket` alone, interleaved. */
function send(sb: Switchboard, socket: Socket, from: number, to: number): void {
  for (let i = from; i <= to; i++) {
    sb.to('feed').emit('tick', i);
    socket.emit('direct', i);
  }
}

/** Cut the TCP connection under a websocket client at once (no close frame, no close packet). */
function terminate(client: SioSocket): void {
  const transport = client.io.engine.transport as unknown as { name: string; ws?: { terminate?: () => void } };
  assert.equal(transport.name, 'websocket');
  assert.ok(transport.ws?.terminate, 'the ws WebSocket under the client');
  transport.ws.terminate();
}

describe('socket.io-client recovery on the same node', () => {
  let server: Awaited<ReturnType<typeof feedServer>>;
  let proxy: TcpProxy | undefined;
  before(async () => {
    server = await feedServer(true);
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  after(() => server.sb.close());

  /** Connect through `url`, join the feed, send 1..20, cut with `cut`, send 21..40 at once, then 41..60 after the reconnect. */
  async function outage(client: SioSocket, cut: () => void): Promise<{ got: Received; before: string; socket: Socket }> {
    await connected(client);
    const before = client.id!;
    const socket = server.sockets.get(before)!;
    assert.equal(await client.emitWithAck('enter'), 'in');
    const got = new Received(client);
    const connectionsBefore = server.connections;
    send(server.sb, socket, 1, 20);
    await got.count('tick', 20);
    const back = nextEvent(client, 'connect');
    const lost = nextEvent(client, 'disconnect');
    cut();
    send(server.sb, socket, 21, 40); // into the dead link, or kept for the session
    const [reason] = await lost;
    assert.match(String(reason), /^transport (close|error)$/);
    await back;
    send(server.sb, socket, 41, 60);
    await got.count('tick', 60);
    await got.count('direct', 60);
    assert.equal(server.connections, connectionsBefore, 'no new connection event');
    return { got, before, socket };
  }

  function assertRecovered(client: SioSocket, { got, before, socket }: { got: Received; before: string; socket: Socket }): void {
    assert.equal(client.recovered, true, 'socket.recovered');
    assert.equal(client.id, before, 'the same socket.id');
    assert.deepEqual(got.of('tick'), range(60, 1), 'every broadcast once, in order');
    assert.deepEqual(got.of('direct'), range(60, 1), 'every event to the socket alone once, in order');
    for (const { args } of got.events) assert.equal(typeof args[args.length - 1], 'string', 'an offset as the last argument');
    assert.equal(socket.connected, true);
    assert.ok(socket.rooms.has('feed'), 'still in its room');
    assert.deepEqual(server.disconnects.filter((d) => d.id === before), [], 'the server socket never disconnected');
  }

  test('websocket cut (ws.terminate): same socket, nothing lost, nothing repeated', async () => {
    const client = sio(`http://127.0.0.1:${server.sb.port}`, { transports: ['websocket'] });
    const result = await outage(client, () => terminate(client));
    assertRecovered(client, result);
    assert.equal(result.socket.transport, 'socket.io/websocket');
  });

  test('polling cut (every TCP connection of a proxy destroyed): same socket, nothing lost, nothing repeated', async () => {
    proxy = await TcpProxy.start(server.sb.port);
    const through = proxy;
    const client = sio(`http://127.0.0.1:${through.port}`, { transports: ['polling'] });
    const result = await outage(client, () => assert.ok(through.cutAll() > 0, 'a link to cut'));
    assertRecovered(client, result);
    assert.equal(result.socket.transport, 'socket.io/polling');
  });

  test('a server request made while the link is down reaches the client after the recovery, and its answer the server', async () => {
    const client = sio(`http://127.0.0.1:${server.sb.port}`, { transports: ['websocket'] });
    await connected(client);
    const socket = server.sockets.get(client.id!)!;
    client.on('question', (q: string, callback: (answer: string) => void) => callback(`${q}? yes`));
    const back = nextEvent(client, 'connect');
    terminate(client);
    await eventually(() => !client.connected, 'the cut');
    const answer = socket.emitWithAck('question', 'still there', { timeout: 10_000 });
    await back;
    assert.equal(client.recovered, true);
    assert.equal(await answer, 'still there? yes');
  });
});

describe('socket.io-client without recovery', () => {
  let server: Awaited<ReturnType<typeof feedServer>>;
  before(async () => {
    server = await feedServer(false);
  });
  after(() => server.sb.close());

  test('a cut connection ends the socket at once; the client comes back as a new socket, not recovered', async () => {
    const client = await connected(sio(`http://127.0.0.1:${server.sb.port}`, { transports: ['websocket'] }));
    const before = client.id!;
    await client.emitWithAck('enter');
    const got = new Received(client);
    send(server.sb, server.sockets.get(before)!, 1, 5);
    await got.count('tick', 5);
    assert.deepEqual(got.events.find((e) => e.event === 'tick')?.args, [1], 'no offset without recovery');
    const back = nextEvent(client, 'connect');
    terminate(client);
    await eventually(() => server.disconnects.some((d) => d.id === before), 'the server socket to disconnect');
    assert.deepEqual(server.disconnects, [{ id: before, reason: 'transport_closed' }]);
    await back;
    // socket.io-client leaves `recovered` undefined when the server gave no pid, as with Socket.IO's own server.
    assert.notEqual(client.recovered, true);
    assert.notEqual(client.id, before, 'a new socket.id');
    assert.equal(server.connections, 2);
    assert.equal(server.sockets.get(client.id!)?.rooms.has('feed'), false, 'a new socket is in no room');
  });
});

describe('socket.io-client: who disconnects, and what the other side sees (docs/SOCKET-IO.md, Disconnecting)', () => {
  test('client socket.disconnect(): the server socket disconnects with client_disconnect', async () => {
    const server = await feedServer(true);
    try {
      const client = await connected(sio(`http://127.0.0.1:${server.sb.port}`));
      const id = client.id!;
      client.disconnect();
      await eventually(() => server.disconnects.length === 1, 'the server disconnect');
      assert.deepEqual(server.disconnects, [{ id, reason: 'client_disconnect' }]);
    } finally {
      await server.sb.close();
    }
  });

  test('server socket.disconnect(): the client gets io server disconnect and does not reconnect', async () => {
    const server = await feedServer(true);
    try {
      const client = await connected(sio(`http://127.0.0.1:${server.sb.port}`));
      const gone = nextEvent(client, 'disconnect');
      server.sockets.get(client.id!)!.disconnect();
      assert.equal((await gone)[0], 'io server disconnect');
      assert.equal(client.active, false, 'no reconnection');
      assert.deepEqual(server.disconnects.map((d) => d.reason), ['server_disconnect']);
    } finally {
      await server.sb.close();
    }
  });

  test('sb.close(): the client gets transport close and tries to reconnect', async () => {
    const server = await feedServer(true);
    const client = await connected(sio(`http://127.0.0.1:${server.sb.port}`, { transports: ['websocket'] }));
    const gone = nextEvent(client, 'disconnect');
    await server.sb.close();
    assert.equal((await gone)[0], 'transport close');
    assert.equal(client.active, true, 'it reconnects (to the next server)');
  });
});
