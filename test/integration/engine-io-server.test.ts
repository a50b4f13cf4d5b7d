/**
 * The Engine.IO v4 server of the Socket.IO front door, driven by the real `engine.io-client`
 * against a real http server: handshakes, messages both ways, the upgrade to WebSocket,
 * heartbeats, and close from either side. Raw HTTP answers and limits are in
 * engine-io-answers.test.ts, the cluster relay in engine-io-relay.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Socket, type SocketOptions } from 'engine.io-client';
import { eventually, startEngine, type ConnectionLog, type EngineFixture } from '../helpers/engine-host.js';

type Transports = NonNullable<SocketOptions['transports']>;

function connect(fixture: EngineFixture, transports: Transports, extra: Partial<SocketOptions> = {}): Socket {
  return new Socket(fixture.base, { path: '/socket.io/', transports, ...extra });
}

function opened(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
}

function received(socket: Socket): unknown[] {
  const messages: unknown[] = [];
  socket.on('message', (data) => messages.push(data));
  return messages;
}

function bytes(data: unknown): number[] {
  return [...new Uint8Array(data as ArrayBuffer | Uint8Array)];
}

function logOf(fixture: EngineFixture, socket: Socket): ConnectionLog {
  const log = fixture.connections.find((c) => c.connection.id === socket.id);
  assert.ok(log, `the server has connection ${socket.id}`);
  return log;
}

describe('Engine.IO server with engine.io-client', () => {
  let fixture: EngineFixture;
  before(async () => {
    fixture = await startEngine({ nodeId: 'nodeA' });
  });
  after(async () => {
    await fixture.stop();
    assert.deepEqual(fixture.errors, []);
  });

  for (const transports of [['polling'], ['websocket']] as Transports[]) {
    test(`handshake and messages both ways over ${transports[0]}, text and binary`, async () => {
      const socket = connect(fixture, transports);
      const handshake = new Promise<Record<string, unknown>>((resolve) => socket.once('handshake', (data) => resolve(data as unknown as Record<string, unknown>)));
      const messages = received(socket);
      await opened(socket);
      const data = await handshake;
      assert.match(String(data.sid), /^nodeA\.[\w-]{20}$/, 'the sid names the node that holds the connection');
      assert.deepEqual(data.upgrades, transports[0] === 'polling' ? ['websocket'] : []);
      assert.equal(data.pingInterval, 25_000);
      assert.equal(data.pingTimeout, 20_000);
      assert.equal(data.maxPayload, 65_536);
      socket.send('hello ✓');
      socket.send(new Uint8Array([0, 1, 2, 255]));
      socket.send('');
      await eventually(() => messages.length === 3, 'three echoes');
      assert.equal(messages[0], 'hello ✓');
      assert.deepEqual(bytes(messages[1]), [0, 1, 2, 255]);
      // engine.io-parser gives an empty message no data: the client sees undefined, as from engine.io.
      assert.equal(messages[2], undefined);
      const log = logOf(fixture, socket);
      assert.equal(log.connection.transport, transports[0]);
      assert.equal(log.messages[0], 'hello ✓');
      assert.ok(log.messages[1] instanceof Uint8Array);
      assert.deepEqual([...(log.messages[1] as Uint8Array)], [0, 1, 2, 255]);
      assert.equal(log.messages[2], '');
      socket.close();
      await eventually(() => log.closed !== undefined, 'the server hears the close');
      assert.equal(log.closed, 'transport close');
      assert.equal(log.connection.isOpen, false);
    });
  }

  test('upgrade from polling to WebSocket while messages flow both ways: none lost, none reordered', async () => {
    const socket = connect(fixture, ['polling', 'websocket']);
    const messages = received(socket);
    await opened(socket);
    const log = logOf(fixture, socket);
    let upgraded = false;
    socket.on('upgrade', () => {
      upgraded = true;
    });
    // Both sides send numbered messages before, during and after the upgrade.
    let sent = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      socket.send(`c${sent++}`);
      log.connection.sendText(`4s${ticks++}`);
      if (ticks % 3 === 0) log.connection.sendBinary(new Uint8Array([ticks % 256]));
    }, 2);
    await eventually(() => upgraded && ticks > 200, 'the upgrade and messages after it');
    clearInterval(timer);
    assert.equal(log.connection.transport, 'websocket');
    const fromServer = ticks;
    await eventually(() => messages.filter((m) => typeof m === 'string' && m.startsWith('s')).length === fromServer, 'every server message');
    await eventually(() => log.messages.length === sent, 'every client message');
    // The client's messages reached the server in order; the echoes and the server's own came back in order.
    assert.deepEqual(log.messages, Array.from({ length: sent }, (_, i) => `c${i}`));
    const serverOwn = messages.filter((m) => typeof m === 'string' && m.startsWith('s'));
    assert.deepEqual(serverOwn, Array.from({ length: fromServer }, (_, i) => `s${i}`));
    await eventually(() => messages.filter((m) => typeof m === 'string' && m.startsWith('c')).length === sent, 'every echo');
    assert.deepEqual(
      messages.filter((m) => typeof m === 'string' && m.startsWith('c')),
      Array.from({ length: sent }, (_, i) => `c${i}`),
    );
    const binaries = messages.filter((m) => typeof m !== 'string').map((m) => bytes(m)[0]);
    assert.deepEqual(binaries, Array.from({ length: Math.floor(fromServer / 3) }, (_, i) => ((i + 1) * 3) % 256));
    socket.close();
    await eventually(() => log.closed !== undefined, 'close');
  });

  for (const transports of [['polling'], ['websocket']] as Transports[]) {
    test(`the server closes over ${transports[0]}: a close packet after what was sent, onClose once`, async () => {
      const socket = connect(fixture, transports);
      const messages = received(socket);
      await opened(socket);
      const closed = new Promise<string>((resolve) => socket.once('close', (reason) => resolve(reason)));
      const log = logOf(fixture, socket);
      log.connection.sendText('4last words');
      log.connection.close();
      assert.equal(await closed, 'transport close');
      assert.deepEqual(messages, ['last words']);
      assert.equal(log.closed, 'forced close');
      log.connection.sendText('4too late');
      log.connection.close();
      assert.equal(log.closed, 'forced close');
    });
  }

  test('ping() on demand: onPingSent when queued, onPong on the answer, one outstanding at a time', async () => {
    const socket = connect(fixture, ['websocket']);
    await opened(socket);
    const log = logOf(fixture, socket);
    log.connection.ping();
    log.connection.ping();
    assert.deepEqual(log.heartbeats, ['ping'], 'the second ping waits for the first pong');
    await eventually(() => log.heartbeats.length === 2, 'the pong');
    assert.deepEqual(log.heartbeats, ['ping', 'pong']);
    log.connection.ping();
    await eventually(() => log.heartbeats.length === 4, 'the second pong');
    assert.deepEqual(log.heartbeats, ['ping', 'pong', 'ping', 'pong']);
    socket.close();
  });
});

describe('Engine.IO heartbeats', () => {
  let fixture: EngineFixture;
  before(async () => {
    fixture = await startEngine({ settings: { pingInterval: 30, pingTimeout: 400 } });
  });
  after(async () => {
    await fixture.stop();
    assert.deepEqual(fixture.errors, []);
  });

  for (const transports of [['polling'], ['websocket']] as Transports[]) {
    test(`the server pings every pingInterval and the client answers, over ${transports[0]}`, async () => {
      const socket = connect(fixture, transports);
      let pings = 0;
      socket.on('ping', () => pings++);
      await opened(socket);
      const log = logOf(fixture, socket);
      await eventually(() => log.heartbeats.filter((h) => h === 'pong').length >= 4, 'four pongs');
      assert.ok(pings >= 4);
      // Strictly alternating: one ping outstanding at a time.
      log.heartbeats.forEach((beat, i) => assert.equal(beat, i % 2 === 0 ? 'ping' : 'pong'));
      assert.equal(log.connection.isOpen, true);
      socket.close();
      await eventually(() => log.closed !== undefined, 'close');
      assert.equal(log.closed, 'transport close');
    });
  }

  test('a client that stops answering is closed with ping timeout', async () => {
    const socket = connect(fixture, ['websocket']);
    await opened(socket);
    const log = logOf(fixture, socket);
    // The client's WebSocket stops reading: its pongs never come.
    const ws = (socket.transport as unknown as { ws: { _socket: { pause(): void }; terminate(): void } }).ws;
    ws._socket.pause();
    await eventually(() => log.closed !== undefined, 'the ping timeout');
    assert.equal(log.closed, 'ping timeout');
    assert.deepEqual(log.heartbeats.slice(-1), ['ping']);
    // Paused, it would not see its socket end and would wait out ws's 30 s close timer.
    ws.terminate();
  });
});

describe('Engine.IO server close()', () => {
  test('every connection gets a close packet and onClose("server shutting down"); no new handshakes', async () => {
    const fixture = await startEngine();
    const sockets = [connect(fixture, ['polling']), connect(fixture, ['websocket'])];
    await Promise.all(sockets.map(opened));
    const reasons = sockets.map((socket) => new Promise<string>((resolve) => socket.once('close', (reason) => resolve(reason))));
    assert.equal(fixture.engine.size, 2);
    fixture.engine.close();
    assert.deepEqual(await Promise.all(reasons), ['transport close', 'transport close']);
    assert.deepEqual(
      fixture.connections.map((c) => c.closed),
      ['server shutting down', 'server shutting down'],
    );
    assert.equal(fixture.engine.size, 0);
    const late = await fetch(`${fixture.base}/socket.io/?EIO=4&transport=polling`);
    assert.equal(late.status, 503);
    assert.deepEqual(await late.json(), { code: 4, message: 'Forbidden', context: { code: 'shutting_down', message: 'Switchboard is shutting down; reconnect to another server.' } });
    await fixture.stop();
    assert.deepEqual(fixture.errors, []);
    assert.equal(fixture.admission.connections, 0, 'admission counts nothing once all are gone');
  });
});
