/**
 * What the differential tests observe through the real `socket.io-client`: ack arguments,
 * events, connect errors and disconnect reasons, as plain values that compare with
 * deepStrictEqual (binary values become `{ binary, bytes }`).
 */
import { io, Manager, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { RunningApp } from './socketio-apps.js';

/** How long any single observation may take before the test fails (a bound, not a measurement). */
const WAIT_MS = 5000;

export type TransportList = ('polling' | 'websocket')[];

export interface ClientSetup {
  nsp?: string;
  /** The handshake auth's token; null sends no auth at all. */
  token: string | null;
  transports?: TransportList;
}

/** The clients and managers a test opened, closed together at its end. */
export class Clients {
  private readonly sockets: Socket[] = [];
  private readonly managers: Manager[] = [];

  constructor(private readonly app: RunningApp) {}

  /** A socket on its own connection (`forceNew`), without reconnection so a test sees every disconnect. */
  open(setup: ClientSetup): Socket {
    const options: Partial<ManagerOptions & SocketOptions> = { forceNew: true, reconnection: false };
    if (setup.token !== null) options.auth = { token: setup.token };
    if (setup.transports) options.transports = setup.transports;
    const socket = io(this.app.url + (setup.nsp ?? ''), options);
    this.sockets.push(socket);
    return socket;
  }

  /** A Manager (one Engine.IO connection) on which several namespaces are opened. */
  manager(transports?: TransportList): Manager {
    const manager = new Manager(this.app.url, { reconnection: false, ...(transports ? { transports } : {}) });
    this.managers.push(manager);
    return manager;
  }

  /** A socket of `manager` for `nsp`. */
  of(manager: Manager, nsp: string, token: string | null): Socket {
    const socket = manager.socket(nsp, token === null ? {} : { auth: { token } });
    this.sockets.push(socket);
    return socket;
  }

  closeAll(): void {
    for (const socket of this.sockets) socket.disconnect();
    for (const manager of this.managers) manager.engine?.close();
  }
}

/** Resolve when `socket` connects; reject with what it was told when it is refused. */
export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    const timer = setTimeout(() => reject(new Error(`no connect within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err: Error) => {
      clearTimeout(timer);
      reject(new Error(`connect_error: ${err.message}`));
    });
  });
}

/** What a refused socket saw: `connect_error`'s message and data, and whether it will retry. */
export interface Refusal { message: string; data: unknown; active: boolean }

export function refused(socket: Socket): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect_error within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      reject(new Error('connected, but a refusal was expected'));
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      clearTimeout(timer);
      // `active` is read after the listeners: socket.io-client decides on reconnecting first.
      queueMicrotask(() => resolve({ message: err.message, data: err.data, active: socket.active }));
    });
  });
}

/** The arguments of the server's ack to `event` (normalised by `plain`); rejects after WAIT_MS. */
export async function ackArgs(socket: Socket, event: string, ...args: unknown[]): Promise<unknown[]> {
  const answer = await new Promise<unknown[]>((resolve, reject) => {
    socket.timeout(WAIT_MS).emit(event, ...args, (err: Error | null, ...reply: unknown[]) => (err ? reject(new Error(`no ack to ${event}: ${err.message}`)) : resolve(reply)));
  });
  return answer.map(plain);
}

/** The reason of the socket's next `disconnect`. */
export function disconnection(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no disconnect within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once('disconnect', (reason: string) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** The Engine.IO transport of a connected socket once it is done upgrading (or was never going to). */
export function settledTransport(socket: Socket, upgrades: boolean): Promise<string> {
  const engine = socket.io.engine;
  if (!upgrades || engine.transport.name === 'websocket') return Promise.resolve(engine.transport.name);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upgrade within ${WAIT_MS} ms`)), WAIT_MS);
    engine.once('upgrade', () => {
      clearTimeout(timer);
      resolve(engine.transport.name);
    });
  });
}

/** Events of one name as they arrive, each as its argument list; `take` waits for the next. */
export class Inbox {
  private readonly arrived: unknown[][] = [];
  private waiter: (() => void) | undefined;

  constructor(socket: Socket, event: string) {
    socket.on(event, (...args: unknown[]) => {
      this.arrived.push(args.map(plain));
      this.waiter?.();
    });
  }

  async take(): Promise<unknown[]> {
    const deadline = Date.now() + WAIT_MS;
    while (this.arrived.length === 0) {
      if (Date.now() > deadline) throw new Error(`no event within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.arrived.shift() as unknown[];
  }
}

/** `value` with every binary value replaced by `{ binary: <class>, bytes: [...] }`, for deepStrictEqual. */
export function plain(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { binary: 'ArrayBuffer', bytes: [...new Uint8Array(value)] };
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { binary: value.constructor.name, bytes: [...bytes] };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
