import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type StateChange, type SwitchboardClient } from '../../src/client/node.js';
import { ReplyError, type Socket, Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import WebSocket from 'ws';
import { eventually, startServer } from '../helpers/server.js';

/** Fast reconnects so tests do not wait out the production backoff. */
const fastReconnect = { reconnect: { delay: 20, maxDelay: 100 } };

function waitFor<T = unknown>(client: SwitchboardClient, event: string, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    client.once(event as 'connect', ((arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    }) as () => void);
  });
}

async function untilConnected(client: SwitchboardClient, ms = 10_000): Promise<void> {
  await eventually(() => client.connected, 'the client to connect', ms);
}

describe('the SDK against the real server', () => {
  test('events both ways, requests with replies, error replies, timeouts, server requests', async () => {
    const { sb, url } = await startServer();
    sb.on('connection', (socket) => {
      socket.on('add', ({ a, b }: { a: number; b: number }) => a + b);
      socket.on('refuse', () => {
        throw new ReplyError('out_of_stock', 'sold out');
      });
      socket.on('never', () => new Promise(() => {}));
      socket.on('tell', (text: string) => socket.emit('told', text.toUpperCase()));
      socket.on('ask-me', async () => socket.emitWithAck('question', 'sure?'));
    });
    const client = connect(url, fastReconnect);
    try {
      const told = waitFor<string>(client, 'told');
      client.emit('tell', 'hello');
      assert.equal(await told, 'HELLO');
      assert.equal(await client.emitWithAck('add', { a: 2, b: 40 }), 42);
      await assert.rejects(client.emitWithAck('refuse'), { code: 'out_of_stock', message: 'sold out' });
      await assert.rejects(client.emitWithAck('unknown-event', 1), { code: 'no_handler' });
      await assert.rejects(client.emitWithAck('never', null, { timeout: 50 }), { code: 'timeout' });
      client.on('question', (q: string) => `yes to ${q}`);
      assert.equal(await client.emitWithAck('ask-me'), 'yes to sure?');
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('rooms: join, room broadcast carries the room, leave', async () => {
    const { sb, url } = await startServer();
    const a = connect(url, fastReconnect);
    const b = connect(url, fastReconnect);
    try {
      await a.join('lobby');
      await untilConnected(b);
      const got: [unknown, string | undefined][] = [];
      a.on('news', (data, meta) => {
        got.push([data, meta.room]);
      });
      b.on('news', (data, meta) => {
        got.push([data, meta.room]);
      });
      sb.to('lobby').emit('news', 'for the lobby');
      await eventually(() => got.length === 1, 'the room event');
      assert.deepEqual(got, [['for the lobby', 'lobby']]);
      await a.leave('lobby');
      assert.equal(sb.sockets.rooms.size('lobby'), 0);
    } finally {
      a.close();
      b.close();
      await sb.close();
    }
  });

  test('auth rejected by middleware: connect_error with the code, state disconnected, no retries', async () => {
    const { sb, url } = await startServer();
    let attempts = 0;
    sb.use((socket, next) => {
      attempts++;
      next((socket.handshake.auth as { token?: string })?.token === 'good' ? undefined : new ReplyError('invalid_token', 'token expired'));
    });
    const client = connect(url, { ...fastReconnect, auth: { token: 'bad' } });
    let retries = 0;
    client.on('reconnecting', () => retries++);
    try {
      const error = await waitFor<{ code: string; message: string }>(client, 'connect_error');
      assert.deepEqual([error.code, error.message], ['invalid_token', 'token expired']);
      await eventually(() => client.state === 'disconnected', 'the client to stop');
      // No retry is scheduled (one would be announced by 'reconnecting'); that none comes later
      // either is checked on a mocked clock in test/unit/client-reconnect.test.ts.
      assert.equal(retries, 0, 'a rejected client does not hammer the server');
      assert.equal(attempts, 1);
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('the auth function is called again on every reconnect', async () => {
    const { sb, url } = await startServer();
    const tokens: unknown[] = [];
    const sockets: Socket[] = [];
    sb.use((socket, next) => {
      tokens.push(socket.handshake.auth);
      next();
    });
    sb.on('connection', (s) => sockets.push(s));
    let n = 0;
    const client = connect(url, { ...fastReconnect, auth: async () => ({ token: `t${++n}` }) });
    try {
      await untilConnected(client);
      dropConnection(sockets[0] as Socket);
      await eventually(() => sockets.length === 2 && client.connected, 'the reconnect');
      assert.deepEqual(tokens, [{ token: 't1' }, { token: 't2' }]);
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('after the server drops the connection: reconnect with reasons, rooms rejoined, buffered emits in order', async () => {
    const { sb, url } = await startServer();
    const sockets: Socket[] = [];
    const received: number[] = [];
    sb.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('n', (n: number) => {
        received.push(n);
      });
    });
    const client = connect(url, fastReconnect);
    const changes: StateChange[] = [];
    client.on('state', (change) => changes.push(change));
    try {
      await client.join('room-a');
      await client.join('room-b');
      // Emit from the disconnect listener: the reconnect itself takes only milliseconds here.
      client.once('disconnect', () => {
        assert.equal(client.connected, false);
        for (let i = 1; i <= 20; i++) client.emit('n', i);
        client.volatile.emit('n', -1);
      });
      dropConnection(sockets[0] as Socket);
      await eventually(() => received.length === 20, 'the buffered emits');
      assert.deepEqual(received, Array.from({ length: 20 }, (_, i) => i + 1), 'in order, volatile dropped');
      const second = sockets[1] as Socket;
      assert.ok(second.rooms.has('room-a') && second.rooms.has('room-b'), 'rooms rejoined on the new connection');
      assert.deepEqual(
        changes.map((c) => [c.state, c.reason]),
        [
          ['connected', 'handshake_ok'],
          ['connecting', 'transport_closed'],
          ['connected', 'handshake_ok'],
        ],
      );
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('the server restarts on the same port: clients told 1001 reconnect to the new process by themselves', async () => {
    const first = await startServer();
    const port = first.port;
    const client = connect(first.url, fastReconnect);
    try {
      await client.join('lobby');
      const reasons: string[] = [];
      client.on('disconnect', (reason) => reasons.push(reason));
      await first.sb.close();
      await eventually(() => reasons.length === 1, 'the disconnect');
      assert.deepEqual(reasons, ['server_shutdown']);
      client.emit('hello-again', 'buffered while the server was down');

      const second = new Switchboard(port);
      await second.ready();
      const got: unknown[] = [];
      second.on('connection', (socket) => socket.on('hello-again', (d: unknown) => got.push(d)));
      try {
        await eventually(() => client.connected, 'the reconnect to the new process', 5000);
        await eventually(() => got.length === 1, 'the buffered emit');
        assert.deepEqual(got, ['buffered while the server was down']);
        assert.equal(second.sockets.rooms.size('lobby'), 1, 'the room was rejoined on the new process');
        second.to('lobby').emit('news', 1);
        assert.equal(await waitFor(client, 'news'), 1);
      } finally {
        client.close();
        await second.close();
      }
    } finally {
      client.close();
    }
  });

  test('requests in flight when the connection drops reject with disconnected', async () => {
    const { sb, url } = await startServer();
    const sockets: Socket[] = [];
    sb.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('slow', () => new Promise(() => {}));
    });
    const client = connect(url, fastReconnect);
    try {
      await untilConnected(client);
      const answer = client.emitWithAck('slow', null, { timeout: 5000 });
      await new Promise((r) => setTimeout(r, 30));
      dropConnection(sockets[0] as Socket);
      await assert.rejects(answer, { code: 'disconnected' });
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });

  test("oversize emits are refused at the call with the server's limit; the connection stays up", async () => {
    const { sb, url } = await startServer({ maxMessageBytes: 2048 } satisfies SwitchboardOptions);
    sb.on('connection', (socket) => socket.on('echo', (d: unknown) => d));
    const client = connect(url, fastReconnect);
    try {
      await untilConnected(client);
      assert.throws(() => client.emit('echo', 'x'.repeat(4096)), { code: 'message_too_big' });
      await assert.rejects(client.emitWithAck('echo', 'x'.repeat(4096)), { code: 'message_too_big' });
      assert.equal(await client.emitWithAck('echo', 'small'), 'small');
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('namespaces on one connection, each with its own auth and middleware', async () => {
    const { sb, url } = await startServer();
    sb.of('/admin').use((socket, next) =>
      next((socket.handshake.auth as { role?: string })?.role === 'admin' ? undefined : new ReplyError('forbidden', 'admins only')),
    );
    sb.of('/admin').on('connection', (socket) => socket.on('where', () => 'admin'));
    sb.on('connection', (socket) => socket.on('where', () => 'root'));
    const client = connect(url, fastReconnect);
    try {
      const admin = client.of('/admin', { auth: { role: 'admin' } });
      const other = connect(url, fastReconnect);
      const intruder = other.of('/admin', { auth: { role: 'guest' } });
      const refused = waitFor<{ code: string }>(intruder, 'connect_error');
      assert.equal(await client.emitWithAck('where'), 'root');
      assert.equal(await admin.emitWithAck('where'), 'admin');
      assert.equal((await refused).code, 'forbidden');
      assert.equal(await other.emitWithAck('where'), 'root', 'a refused namespace leaves the others connected');
      other.close();
      assert.equal(sb.connectionCount, 2, 'both clients multiplex namespaces on one connection each');
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('heartbeats keep an idle SDK connection alive across many intervals', async () => {
    // A timeout long enough that a stall of a loaded machine is not taken for silence; the test
    // counts the pings the client gets until they span more than interval + timeout, so a
    // client that did not answer them would have been dropped by then.
    const heartbeat = { interval: 25, timeout: 1000 };
    const { sb, url } = await startServer({ heartbeat });
    const disconnects: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (r) => disconnects.push(r)));
    let pings = 0;
    class CountingWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        this.on('message', (data) => {
          if ((JSON.parse(String(data)) as { type?: string }).type === 'ping') pings++;
        });
      }
    }
    const client = connect(url, { ...fastReconnect, WebSocket: CountingWebSocket as never });
    try {
      await untilConnected(client);
      const enough = Math.ceil((heartbeat.interval + heartbeat.timeout) / heartbeat.interval) + 4;
      await eventually(() => pings >= enough, `${enough} pings`, 60_000);
      assert.equal(client.connected, true);
      assert.deepEqual(disconnects, []);
    } finally {
      client.close();
      await sb.close();
    }
  });
});

/** Cut the TCP connection from the server side without a close frame (like a crashed proxy). */
function dropConnection(socket: Socket): void {
  // The session is internal API; tests reach it to simulate a network failure.
  (socket as unknown as { session: { terminate(why: string): void } }).session.terminate('transport_closed');
}
