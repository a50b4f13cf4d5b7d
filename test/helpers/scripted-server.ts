/**
 * A scripted Switchboard server for the client SDK's tests: a plain `ws` WebSocketServer
 * that speaks just enough of switchboard.v1, records every frame it receives, and lets a
 * test answer, stay silent, or drop the socket on command. Deliberately not the real
 * server, so the SDK is tested against the protocol, not against one implementation.
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { type ClientOptions, connect, type SwitchboardClient } from '../../src/client/node.js';
import { realClearTimeout, realSetTimeout } from './real-timers.js';

export type Frame = Record<string, unknown> & { type: string };

export interface Script {
  /** Answer a hello. Default: a welcome with `welcome` below. */
  hello(conn: ScriptedConnection, frame: Frame): void;
  /** Answer a `connect`. Default: ok. */
  connect(conn: ScriptedConnection, frame: Frame): void;
  /** Answer a `join` or `leave`. Default: ok. */
  room(conn: ScriptedConnection, frame: Frame): void;
  /** Answer a `history` request. Default: error `not_durable`. */
  history(conn: ScriptedConnection, frame: Frame): void;
  /** Fields merged into the default welcome. */
  welcome: Partial<Frame>;
}

export class ScriptedConnection {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly claimed = new Set<Frame>();
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly socket: WebSocket,
    readonly protocol: string,
    readonly index: number,
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  record(frame: Frame): void {
    this.frames.push(frame);
    for (const wake of this.waiters.splice(0)) wake();
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  close(code: number, reason = ''): void {
    this.socket.close(code, reason);
  }

  /** Drop the TCP connection without a close frame (what a crash or network loss looks like). */
  terminate(): void {
    this.socket.terminate();
  }

  /** The first frame not yet returned by nextFrame that matches; waits for it if needed. */
  async nextFrame(match: string | ((f: Frame) => boolean), timeoutMs = 10_000): Promise<Frame> {
    const test = typeof match === 'string' ? (f: Frame) => f.type === match : match;
    const deadline = performance.now() + timeoutMs; // not Date: a test may mock it
    for (;;) {
      const found = this.frames.find((f) => !this.claimed.has(f) && test(f));
      if (found) {
        this.claimed.add(found);
        return found;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = realSetTimeout(resolve, left);
        this.waiters.push(() => {
          realClearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Frames of one type received so far, in order. */
  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }
}

export class ScriptedServer {
  readonly connections: ScriptedConnection[] = [];
  readonly script: Script = {
    hello: (conn) => this.welcome(conn),
    connect: (conn, f) => conn.send({ type: 'reply', ref: f.ref, data: { ns: f.ns } }),
    room: (conn, f) => conn.send({ type: 'reply', ref: f.ref, data: { room: f.room } }),
    history: (conn, f) => conn.send({ type: 'reply', ref: f.ref, error: { code: 'not_durable', message: `room ${String(f.room)} keeps no history` } }),
    welcome: {},
  };
  private taken = 0;
  private readonly clients: SwitchboardClient[] = [];
  /** Resume token → session id, for resumable(). */
  private readonly tokens = new Map<string, string>();
  private tokenCount = 0;
  private readonly arrivals: Array<() => void> = [];
  /** Every client-side socket of the clients opened here that has not closed yet. */
  private readonly clientSockets = new Set<WebSocket>();

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (socket) => this.accept(socket));
  }

  static async start(): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ port: 0, handleProtocols: (offered) => (offered.has('switchboard.v1') ? 'switchboard.v1' : false) });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return new ScriptedServer(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }

  /** Connections in the order they arrived, one per call; waits for the next one. */
  async nextConnection(timeoutMs = 10_000): Promise<ScriptedConnection> {
    const deadline = performance.now() + timeoutMs; // not Date: a test may mock it
    while (this.connections.length <= this.taken) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no connection #${this.taken + 1} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = realSetTimeout(resolve, left);
        this.arrivals.push(() => {
          realClearTimeout(timer);
          resolve();
        });
      });
    }
    return this.connections[this.taken++] as ScriptedConnection;
  }

  /** Send a welcome: the default one, then `script.welcome`, then `fields`. */
  welcome(conn: ScriptedConnection, fields: Partial<Frame> = {}): void {
    conn.send({
      type: 'welcome',
      v: 1,
      sid: `sid-${conn.index}`,
      ns: '/',
      resume: null,
      resumed: false,
      heartbeat: { interval: 60_000, timeout: 60_000 },
      limits: { maxMessageBytes: 65_536 },
      ...this.script.welcome,
      ...fields,
    });
  }

  /**
   * Answer hellos like a server with session resume: every welcome carries a fresh token, and
   * a hello presenting the latest token of a session and its count of frames `received`
   * resumes it (same sid, `resumed: true`). What the session kept and replays (rooms,
   * replies, frames after `received`) is up to the test to send.
   */
  resumable(): void {
    this.script.hello = (conn, frame) => this.welcomeSession(conn, frame);
  }

  /** The welcome resumable() sends; call it by hand after holding a hello. */
  welcomeSession(conn: ScriptedConnection, hello: Frame): void {
    const presented = typeof hello.resume === 'string' ? hello.resume : undefined;
    const resumedSid = presented === undefined || typeof hello.received !== 'number' ? undefined : this.tokens.get(presented);
    if (presented !== undefined) this.tokens.delete(presented);
    const sid = resumedSid ?? `sid-${conn.index}`;
    const token = `token-${++this.tokenCount}`;
    this.tokens.set(token, sid);
    this.welcome(conn, { sid, resume: token, resumed: resumedSid !== undefined });
  }

  /** Every session is gone (the server restarted, or the TTL passed): no token resumes any more. */
  forgetSessions(): void {
    this.tokens.clear();
  }

  /** Close this client with the server (for clients a test connected itself). */
  adopt(client: SwitchboardClient): SwitchboardClient {
    this.clients.push(client);
    return client;
  }

  /** A client of this server with fast reconnects, closed by close(). */
  open(options: ClientOptions = {}): SwitchboardClient {
    const sockets = this.clientSockets;
    const Base = (options.WebSocket ?? WebSocket) as typeof WebSocket;
    class TrackedWebSocket extends Base {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        sockets.add(this);
        this.once('close', () => sockets.delete(this));
      }
    }
    const client = connect(this.url, { reconnect: { delay: 10, maxDelay: 50 }, ...options, WebSocket: TrackedWebSocket as never });
    this.clients.push(client);
    return client;
  }

  /** A client whose first connection has been welcomed, with that connection. */
  async openConnected(options: ClientOptions = {}): Promise<{ client: SwitchboardClient; conn: ScriptedConnection }> {
    const client = this.open(options);
    const connected = nextEvent(client, 'connect');
    const conn = await this.nextConnection();
    await connected;
    return { client, conn };
  }

  async close(): Promise<void> {
    for (const client of this.clients.splice(0)) client.close();
    for (const conn of this.connections) conn.terminate();
    // The client side too: a socket still closing when the next test mocks the timers would
    // clear its real close timer with the mocked clearTimeout, and hold the process for 30 s.
    await Promise.all([...this.clientSockets].map((socket) => new Promise((resolve) => socket.once('close', resolve))));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    const conn = new ScriptedConnection(socket, socket.protocol, this.connections.length + 1);
    this.connections.push(conn);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      conn.record(frame);
      if (frame.type === 'hello') this.script.hello(conn, frame);
      else if (frame.type === 'connect') this.script.connect(conn, frame);
      else if (frame.type === 'join' || frame.type === 'leave') this.script.room(conn, frame);
      else if (frame.type === 'history') this.script.history(conn, frame);
      else if (frame.type === 'ping') conn.send({ type: 'pong' });
    });
    for (const wake of this.arrivals.splice(0)) wake();
  }
}

/** Resolve with the arguments of the next `event` on `target`, or fail after timeoutMs. */
export function nextEvent(
  target: { once(event: string, fn: (...args: never[]) => unknown): unknown; off(event: string, fn?: (...args: never[]) => unknown): unknown },
  event: string,
  timeoutMs = 10_000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      realClearTimeout(timer);
      resolve(args);
    };
    const timer = realSetTimeout(() => {
      target.off(event, listener);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    target.once(event, listener);
  });
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
