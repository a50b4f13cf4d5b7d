/**
 * Real socket.io-client sockets against a Switchboard with its Socket.IO front door, for
 * tests: quick reconnects, every socket closed after the test, and small promises for
 * what a test waits on (the connect, a connect_error, the next event).
 */
import { afterEach } from 'node:test';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { eventually } from './server.js';

export type SioOptions = Partial<ManagerOptions & SocketOptions>;

/** Every socket opened by sio() in this file; closed after each test. */
const opened = new Set<Socket>();

/** Close the sockets of the test that just ran (call once per test file). */
export function closeSocketsAfterEach(): void {
  afterEach(() => {
    for (const socket of opened) socket.io.engine?.close();
    for (const socket of opened) socket.disconnect();
    opened.clear();
  });
}

/**
 * A socket.io-client socket on its own Manager, reconnecting fast (a test waits out the
 * backoff). `url` is the server's `http://host:port` (plus a namespace, as io() takes it).
 */
export function sio(url: string, options: SioOptions = {}): Socket {
  const socket = io(url, { forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 200, randomizationFactor: 0, ...options });
  opened.add(socket);
  return socket;
}

/** Remember a socket made another way (Manager.socket()) for the cleanup. */
export function track(socket: Socket): Socket {
  opened.add(socket);
  return socket;
}

/** Resolves on the socket's next `connect`; rejects with its `connect_error`. */
export function connected(socket: Socket): Promise<Socket> {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const ok = () => {
      socket.off('connect_error', fail);
      resolve(socket);
    };
    const fail = (err: Error) => {
      socket.off('connect', ok);
      reject(err);
    };
    socket.once('connect', ok);
    socket.once('connect_error', fail);
  });
}

/** The `connect_error` the socket gets next. */
export function refusal(socket: Socket): Promise<Error & { data?: unknown }> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected; expected connect_error')));
    socket.once('connect_error', (err) => resolve(err as Error & { data?: unknown }));
  });
}

/** The arguments of the next `event` the socket receives. */
export function nextEvent(socket: Socket, event: string): Promise<unknown[]> {
  return new Promise((resolve) => socket.once(event, (...args: unknown[]) => resolve(args)));
}

/** Collects every event a socket receives (name and arguments, offset included), in order. */
export class Received {
  readonly events: { event: string; args: unknown[] }[] = [];

  constructor(socket: Socket) {
    socket.onAny((event: string, ...args: unknown[]) => this.events.push({ event, args }));
  }

  /** The first argument of each `event`, in order. */
  of(event: string): unknown[] {
    return this.events.filter((e) => e.event === event).map((e) => e.args[0]);
  }

  /** Wait until `count` events named `event` arrived. */
  async count(event: string, count: number, what = `${count} "${event}" events`): Promise<void> {
    await eventually(() => this.of(event).length >= count, what);
  }
}

/** 0..n-1. */
export function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}
