import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ReplyError, type Switchboard } from '../../src/server/index.js';
import type { Transport, TransportRequestInfo } from '../../src/transport/transport.js';
import type { EngineCloseReason, EngineConnection, EngineConnectionHandlers } from '../../src/compat/socketio/engine-ports.js';
import { RecoveryLedger } from '../../src/compat/socketio/recovery-ledger.js';
import { SocketGateway } from '../../src/compat/socketio/socket-gateway.js';
import { RedisAdapter } from '../../src/cluster/redis/index.js';
import { connectRedis, REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

/**
 * The Socket.IO gateway over a scripted Engine.IO connection, on a real server's sessions:
 * the packets a Socket.IO client would send go in as text, what it would receive is
 * recorded. (The Engine.IO server and socket.io-client are tested end to end elsewhere.)
 */
class ScriptedEngine implements EngineConnection {
  readonly id = 'engine-1';
  transport: 'polling' | 'websocket' = 'websocket';
  readonly info: TransportRequestInfo = { url: '/socket.io/?EIO=4&transport=websocket', headers: {}, remoteAddress: '127.0.0.1' };
  readonly bufferedAmount = 0;
  isOpen = true;
  /** Texts and binary messages sent, in order. */
  readonly sent: (string | Uint8Array)[] = [];
  pings = 0;
  closed: 'close' | 'terminate' | undefined;
  private handlers: EngineConnectionHandlers | undefined;

  attach(handlers: EngineConnectionHandlers): void {
    this.handlers = handlers;
  }
  sendText(packet: string | { payload: Buffer }): void {
    this.sent.push(typeof packet === 'string' ? packet : packet.payload.toString());
  }
  sendBinary(data: Uint8Array): void {
    this.sent.push(data);
  }
  ping(): void {
    this.pings++;
  }
  close(): void {
    this.end('close');
  }
  terminate(): void {
    this.end('terminate');
  }

  /** A message packet from the client (its text after the Engine.IO `4`). */
  client(data: string | Uint8Array): void {
    this.handlers?.onMessage(data);
  }
  /** A ping goes out and the client answers it. */
  roundTrip(): void {
    this.handlers?.onPingSent();
    this.handlers?.onPong();
  }
  lose(reason: EngineCloseReason = 'transport close'): void {
    this.isOpen = false;
    this.handlers?.onClose(reason);
  }
  texts(): string[] {
    return this.sent.filter((m): m is string => typeof m === 'string');
  }
  private end(how: 'close' | 'terminate'): void {
    if (this.closed) return;
    this.closed = how;
    this.lose(how === 'close' ? 'forced close' : 'transport error');
  }
}

type Server = Switchboard;

function gatewayOn(sb: Server, recovery = false, ledger = new RecoveryLedger(60_000)): { engine: ScriptedEngine; ledger: RecoveryLedger } {
  const engine = new ScriptedEngine();
  const sessions = (sb as unknown as { sessions: { start(t: Transport, i: TransportRequestInfo): void } }).sessions;
  new SocketGateway(engine, { recovery, ledger, maxAttachments: 10, start: (t, i) => sessions.start(t, i) });
  return { engine, ledger };
}

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((sb) => sb.close()));
});

async function server(): Promise<Server> {
  const { sb } = await startServer();
  servers.push(sb as unknown as Server);
  sb.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: string } | undefined;
    if (auth?.token !== 'good') return next(new ReplyError('unauthorized', 'bad token'));
    next();
  });
  sb.on('connection', (socket) => {
    socket.on('echo', (data) => data);
    socket.on('fail', () => {
      throw new ReplyError('not_found', 'no such thing');
    });
    socket.on('join', async (room) => {
      await socket.join(room as string);
      return 'joined';
    });
  });
  return sb as unknown as Server;
}

const CONNECT_OK = /^40\{"sid":"[A-Za-z0-9_-]{22}"\}$/;

describe('Socket.IO gateway', () => {
  test('CONNECT with good auth is answered with the socket id; bad auth with CONNECT_ERROR', async () => {
    const sb = await server();
    const ids: string[] = [];
    sb.on('connection', (socket) => ids.push(socket.id));
    const { engine } = gatewayOn(sb);
    engine.client('0{"token":"good"}');
    await eventually(() => engine.texts().length > 0, 'the CONNECT answer');
    assert.match(engine.texts()[0] as string, CONNECT_OK);
    await eventually(() => ids.length === 1, 'the connection');
    assert.equal(JSON.parse((engine.texts()[0] as string).slice(2)).sid, ids[0]);

    const refused = gatewayOn(sb).engine;
    refused.client('0{"token":"bad"}');
    await eventually(() => refused.texts().length > 0, 'the CONNECT_ERROR');
    assert.deepEqual(refused.texts(), ['44{"message":"bad token","data":{"code":"unauthorized"}}']);
    assert.equal(refused.closed, undefined, 'the Engine.IO connection stays up, as under Socket.IO');

    const unknown = gatewayOn(sb).engine;
    unknown.client('0/nowhere,{"token":"good"}');
    await eventually(() => unknown.texts().length > 0, 'the CONNECT_ERROR');
    assert.deepEqual(unknown.texts(), ['44/nowhere,{"message":"Invalid namespace","data":{"code":"unknown_namespace"}}']);
  });

  test('events with acks: one argument, several, none, and an error reply', async () => {
    const sb = await server();
    const { engine } = gatewayOn(sb);
    engine.client('0{"token":"good"}');
    await eventually(() => engine.texts().length === 1, 'connected');
    engine.client('21["echo",{"a":1}]');
    engine.client('22["echo",1,"two",[3]]');
    engine.client('23["echo"]');
    engine.client('24["fail"]');
    await eventually(() => engine.texts().length === 5, 'four acks');
    assert.deepEqual(engine.texts().slice(1), ['431[{"a":1}]', '432[[1,"two",[3]]]', '433[]', '434[{"error":{"code":"not_found","message":"no such thing"}}]']);
  });

  test('broadcasts reach Socket.IO sockets; the server asks and gets the ack', async () => {
    const sb = await server();
    const { engine } = gatewayOn(sb);
    engine.client('0{"token":"good"}');
    engine.client('21["join","lobby"]');
    await eventually(() => engine.texts().includes('431["joined"]'), 'joined');
    sb.to('lobby').emit('news', { text: 'hi' });
    sb.to('lobby').emit('bare', undefined);
    await eventually(() => engine.texts().length === 4, 'two events');
    assert.deepEqual(engine.texts().slice(2), ['42["news",{"text":"hi"}]', '42["bare"]']);

    const [socket] = await sb.fetchSockets();
    assert.ok(socket);
    const answer = sb.sockets.sockets.get(socket.id)?.emitWithAck('question', { q: 1 }, { timeout: 5000 });
    await eventually(() => engine.texts().length === 5, 'the request');
    const request = engine.texts()[4] as string;
    const id = /^42(\d+)\["question",\{"q":1\}\]$/.exec(request)?.[1];
    assert.ok(id, request);
    engine.client(`3${id}[{"yes":true}]`);
    assert.deepEqual(await answer, { yes: true });
  });

  test('binary both ways travels as attachments', async () => {
    const sb = await server();
    const { engine } = gatewayOn(sb);
    engine.client('0{"token":"good"}');
    await eventually(() => engine.texts().length === 1, 'connected');
    engine.client('51-1["echo",{"_placeholder":true,"num":0}]');
    engine.client(new Uint8Array([1, 2, 3]));
    await eventually(() => engine.sent.length === 3, 'the binary ack');
    assert.equal(engine.sent[1], '461-1[{"_placeholder":true,"num":0}]');
    assert.deepEqual([...(engine.sent[2] as Uint8Array)], [1, 2, 3]);
  });

  test('a packet that breaks the protocol closes the connection, as Socket.IO does', async () => {
    const sb = await server();
    for (const bad of ['2["echo"]', '0{"token":"good"', '9', '51-["x"]']) {
      const { engine } = gatewayOn(sb);
      engine.client(bad);
      if (bad === '51-["x"]') engine.client('2["after"]');
      assert.equal(engine.closed, 'close', `${bad} closes`);
    }
  });

  test('the server disconnecting the socket sends DISCONNECT; the client leaving ends the session', async () => {
    const sb = await server();
    const reasons: string[] = [];
    sb.on('connection', (socket) => {
      socket.on('disconnect', (reason) => reasons.push(reason));
      socket.on('kickme', () => void setImmediate(() => socket.disconnect()));
    });
    const { engine } = gatewayOn(sb);
    engine.client('0{"token":"good"}');
    engine.client('2["kickme"]');
    await eventually(() => engine.texts().includes('41'), 'DISCONNECT');
    await eventually(() => reasons.length === 1, 'the disconnect');
    const other = gatewayOn(sb).engine;
    other.client('0{"token":"good"}');
    await eventually(() => other.texts().length === 1, 'connected');
    other.client('1');
    await eventually(() => reasons.length === 2, 'the client leaving');
    assert.equal(reasons[1], 'client_disconnect');
    assert.equal((await sb.fetchSockets()).length, 0);
  });

  test('without recovery a lost connection ends the session at once', async () => {
    const sb = await server();
    const reasons: string[] = [];
    sb.on('connection', (socket) => socket.on('disconnect', (reason) => reasons.push(reason)));
    const { engine } = gatewayOn(sb);
    engine.client('0{"token":"good"}');
    await eventually(() => engine.texts().length === 1, 'connected');
    engine.lose();
    await eventually(() => reasons.length === 1, 'the disconnect');
    assert.equal(reasons[0], 'transport_closed');
  });

  test('recovery: pid and offsets; a reconnect gets what it missed and nothing twice', async () => {
    const sb = await server();
    const connections: string[] = [];
    sb.on('connection', (socket) => connections.push(socket.id));
    const ledger = new RecoveryLedger(60_000);
    const first = gatewayOn(sb, true, ledger).engine;
    first.client('0{"token":"good"}');
    first.client('21["join","lobby"]');
    await eventually(() => first.texts().length === 2, 'connected and joined');
    const { sid, pid } = JSON.parse((first.texts()[0] as string).slice(2)) as { sid: string; pid: string };
    assert.ok(pid);
    sb.to('lobby').emit('n', 1);
    sb.to('lobby').emit('n', 2);
    await eventually(() => first.texts().length === 4, 'two events');
    const offsets = first.texts().slice(2).map((t) => (JSON.parse(t.slice(2)) as unknown[]).at(-1));
    assert.equal(offsets.length, 2);
    assert.ok(offsets.every((o) => typeof o === 'string'));
    first.roundTrip();
    first.lose();
    sb.to('lobby').emit('n', 3);
    sb.to('lobby').emit('n', 4);

    const second = gatewayOn(sb, true, ledger).engine;
    second.client(`0${JSON.stringify({ token: 'good', pid, offset: offsets[1] })}`);
    await eventually(() => second.texts().length === 3, 'the answer and the two missed events');
    assert.deepEqual(JSON.parse((second.texts()[0] as string).slice(2)), { sid, pid });
    assert.deepEqual(
      second.texts().slice(1).map((t) => (JSON.parse(t.slice(2)) as unknown[]).slice(0, 2)),
      [['n', 3], ['n', 4]],
    );
    assert.deepEqual(connections, [sid], 'no second connection: the same socket goes on');
  });

  describe('on two nodes sharing Redis', () => {
    const keys = useRedisKeys();

    /** Nodes on one Redis prefix, each with the durable room `feed` and a `join` event. */
    async function cluster(prefix: string, count: number, limits?: { maxMessages: number }): Promise<Server[]> {
      const nodes: Server[] = [];
      for (let i = 0; i < count; i++) {
        const { sb } = await startServer({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
        servers.push(sb as unknown as Server);
        nodes.push(sb as unknown as Server);
        sb.durable('feed', limits);
        sb.on('connection', (socket) => {
          socket.on('join', async (room) => {
            await socket.join(room as string);
            return 'joined';
          });
        });
      }
      return nodes;
    }

    /** Until the session `pid` names is saved with `owner` as its node, where another node can take it over. */
    async function savedBy(prefix: string, pid: string, owner: Server): Promise<void> {
      const redis = await connectRedis();
      const node = (owner as unknown as { cluster: { nodeId: string } }).cluster.nodeId;
      try {
        for (let tries = 0; ; tries++) {
          const session = await redis.get(`${prefix}:session-token:${pid}`);
          if (session !== null && (await redis.hget(`${prefix}:session:${session}`, 'owner')) === node) return;
          assert.ok(tries < 500, 'the session is saved');
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        redis.disconnect();
      }
    }

    test('recovery on another node: same socket, rooms kept, and the gap of a durable room replayed once, in order', async () => {
      const prefix = keys.prefix('sio-takeover');
      const [a, b, c] = (await cluster(prefix, 3)) as [Server, Server, Server];
      const first = gatewayOn(a, true).engine;
      first.client('0{}');
      first.client('21["join","feed"]');
      await eventually(() => first.texts().includes('431["joined"]'), 'joined on A');
      const { sid, pid } = JSON.parse((first.texts()[0] as string).slice(2)) as { sid: string; pid: string };
      await a.to('feed').publish('n', 1);
      await a.to('feed').publish('n', 2);
      await eventually(() => first.texts().length === 4, 'two publications');
      const offset = (JSON.parse((first.texts()[3] as string).slice(2)) as unknown[]).at(-1) as string;
      assert.match(offset, /^\d+\.[A-Za-z0-9_-]+$/, 'the offset carries the durable position');
      // Saved where B can take it over (a few milliseconds after each change).
      await savedBy(prefix, pid, a);
      first.lose();
      // A's frames after this never reach the client: B takes the session over.
      await b.to('feed').publish('n', 3);
      await b.to('feed').publish('n', 4);

      const second = gatewayOn(b, true).engine;
      second.client(`0${JSON.stringify({ pid, offset })}`);
      await eventually(() => second.texts().length === 3, 'the answer and the gap');
      assert.deepEqual(JSON.parse((second.texts()[0] as string).slice(2)), { sid, pid });
      await b.to('feed').publish('n', 5);
      await eventually(() => second.texts().length === 4, 'a live publication');
      assert.deepEqual(
        second.texts().slice(1).map((t) => (JSON.parse(t.slice(2)) as unknown[]).slice(0, 2)),
        [['n', 3], ['n', 4], ['n', 5]],
      );

      // And on to a third node: B's copy is what C takes over.
      second.roundTrip();
      await savedBy(prefix, pid, b);
      const last = (JSON.parse((second.texts()[3] as string).slice(2)) as unknown[]).at(-1) as string;
      second.lose();
      await c.to('feed').publish('n', 6);
      const third = gatewayOn(c, true).engine;
      third.client(`0${JSON.stringify({ pid, offset: last })}`);
      await eventually(() => third.texts().length === 2, 'the answer and the gap on C');
      assert.deepEqual(JSON.parse((third.texts()[0] as string).slice(2)), { sid, pid });
      assert.deepEqual((JSON.parse((third.texts()[1] as string).slice(2)) as unknown[]).slice(0, 2), ['n', 6]);
    });

    test('a gap no longer in the history after a takeover is told with an `error` event unrecoverable, never skipped silently', async () => {
      const prefix = keys.prefix('sio-unrecoverable');
      const [a, b] = (await cluster(prefix, 2, { maxMessages: 2 })) as [Server, Server];
      const first = gatewayOn(a, true).engine;
      first.client('0{}');
      first.client('21["join","feed"]');
      await eventually(() => first.texts().includes('431["joined"]'), 'joined on A');
      const { pid } = JSON.parse((first.texts()[0] as string).slice(2)) as { pid: string };
      await a.to('feed').publish('n', 1);
      await eventually(() => first.texts().length === 3, 'a publication');
      const offset = (JSON.parse((first.texts()[2] as string).slice(2)) as unknown[]).at(-1) as string;
      await savedBy(prefix, pid, a);
      first.lose();
      for (let n = 2; n <= 5; n++) await b.to('feed').publish('n', n);
      const second = gatewayOn(b, true).engine;
      second.client(`0${JSON.stringify({ pid, offset })}`);
      await eventually(() => second.texts().length === 2, 'the answer and the error event');
      const [name, body] = JSON.parse((second.texts()[1] as string).slice(2)) as [string, { code: string; room: string }];
      assert.equal(name, 'error');
      assert.equal(body.code, 'unrecoverable');
      assert.equal(body.room, 'feed');
      await b.to('feed').publish('n', 6);
      await eventually(() => second.texts().length === 3, 'live publications go on');
      assert.deepEqual((JSON.parse((second.texts()[2] as string).slice(2)) as unknown[]).slice(0, 2), ['n', 6]);
    });
  });
});
