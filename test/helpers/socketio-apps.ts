/**
 * One small application written twice — on the real `socket.io` 4.8 server and on a
 * Switchboard with its Socket.IO front door (`socketIo: true`, contract17.md) — with the
 * same behaviour as a `socket.io-client` observes it, for the differential tests
 * (test/integration/socketio-differential.test.ts, socketio-bad-input.test.ts).
 *
 * Each version is written the way an app author would write it for that server (callbacks
 * on one side, return values and ReplyError on the other): the point is that the two
 * look the same from the client, not that they share code.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type DefaultEventsMap, type Socket as IoSocket } from 'socket.io';
import { ReplyError, Switchboard, type AnyEvents } from '../../src/server/index.js';

export type ServerKind = 'socket.io' | 'switchboard';

/**
 * The servers the differential tests run against. The Switchboard gateway (`socketIo`)
 * is being built; until it exists the Switchboard runs are held back by the one marked
 * line below — delete it to run them.
 */
export const KINDS_UNDER_TEST: ServerKind[] = ['socket.io', 'switchboard'];

/** The tokens the apps accept, and whose they are. Only ada may enter `/admin`. */
export const TOKENS = { ada: 'token-ada', bob: 'token-bob', cy: 'token-cy' } as const;
const ADMINS: ReadonlySet<string> = new Set(['ada']);

/** The user a handshake's auth names, or undefined when its token is missing or unknown. */
function userOf(auth: unknown): string | undefined {
  const token = (auth as { token?: unknown } | null | undefined)?.token;
  return Object.entries(TOKENS).find(([, known]) => known === token)?.[0];
}

/** What the events carry. */
export interface Sum { a: number; b: number }
export interface Say { room: string; text: string }
export interface Upload { name: string; bytes: Uint8Array }
/** What `whoami` answers. */
export interface Identity { user: string; nsp: string }

/** A running app: its base URL (socket.io-client adds `/socket.io/`) and how to stop it. */
export interface RunningApp {
  readonly kind: ServerKind;
  readonly url: string;
  readonly port: number;
  /** Stop the server; open clients see it go away. */
  close(): Promise<void>;
}

/** Start one app of `kind` on a free loopback port. */
export function startApp(kind: ServerKind): Promise<RunningApp> {
  return kind === 'socket.io' ? startSocketIoApp() : startSwitchboardApp();
}

// ---------------------------------------------------------------------------------------
// socket.io 4.8, default options.

type Ack = (...args: unknown[]) => void;
interface IoData { user: string }

async function startSocketIoApp(): Promise<RunningApp> {
  const http = createServer();
  const io = new Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, IoData>(http);
  const refuse = (code: string): Error => Object.assign(new Error(code), { data: { code } });

  io.use((socket, next) => {
    const user = userOf(socket.handshake.auth);
    if (user === undefined) return next(refuse('unauthorized'));
    socket.data.user = user;
    next();
  });
  io.on('connection', (socket) => {
    socket.on('echo', (value: unknown, ack: Ack) => ack(value));
    socket.on('sum', ({ a, b }: Sum, ack: Ack) => ack(a + b));
    socket.on('join', (room: string, ack: Ack) => {
      void socket.join(room);
      ack();
    });
    socket.on('say', ({ room, text }: Say, ack: Ack) => {
      socket.to(room).emit('said', { from: socket.data.user, text });
      ack();
    });
    socket.on('askClient', async (question: unknown, ack: Ack) => ack(await socket.emitWithAck('question', question)));
    socket.on('bin', ({ name, bytes }: Upload, ack: Ack) => ack({ name, size: bytes.byteLength, bytes }));
    socket.on('kickme', () => socket.disconnect());
    socket.on('poke', (ack: Ack) => {
      socket.emit('poked');
      socket.emit('poked', { n: 1 });
      ack();
    });
    socket.on('fail', (ack: Ack) => ack({ error: { code: 'bad_request', message: 'always fails' } }));
    socket.on('users', async (ack: Ack) => ack((await io.fetchSockets()).map((s) => s.data.user).sort()));
    // What the handler was given, as Socket.IO gives it: the argument list.
    socket.on('arity', (...args: unknown[]) => (args.pop() as Ack)(args));
    whoami(socket);
  });

  const admin = io.of('/admin');
  admin.use((socket, next) => {
    const user = userOf(socket.handshake.auth);
    if (user === undefined) return next(refuse('unauthorized'));
    if (!ADMINS.has(user)) return next(refuse('forbidden'));
    socket.data.user = user;
    next();
  });
  admin.on('connection', (socket) => {
    socket.on('echo', (value: unknown, ack: Ack) => ack(value));
    whoami(socket);
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    kind: 'socket.io',
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}

function whoami(socket: IoSocket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, IoData>): void {
  socket.on('whoami', (ack: Ack) => ack({ user: socket.data.user, nsp: socket.nsp.name } satisfies Identity));
}

// ---------------------------------------------------------------------------------------
// Switchboard with the Socket.IO front door (contract17.md, "Socket.IO gateway").

interface SbData { user?: string }

async function startSwitchboardApp(): Promise<RunningApp> {
  // `socketIo` is the contract's option; held in a variable (not a literal) so this compiles
  // before SwitchboardOptions declares it. maxMessageBytes is the default, spelled out: it is
  // the gateway's maxPayload (65536, where Socket.IO's is 1e6 — a documented difference).
  const options = { socketIo: true, maxMessageBytes: 65_536 };
  const sb = new Switchboard<AnyEvents, AnyEvents, SbData>(0, options);

  sb.use((socket, next) => {
    const user = userOf(socket.handshake.auth);
    if (user === undefined) return next(new ReplyError('unauthorized', 'unauthorized'));
    socket.data.user = user;
    next();
  });
  sb.on('connection', (socket) => {
    socket.on('echo', (value: unknown) => value);
    socket.on('sum', ({ a, b }: Sum) => a + b);
    socket.on('join', (room: string) => {
      socket.join(room);
    });
    socket.on('say', ({ room, text }: Say) => {
      socket.to(room).emit('said', { from: socket.data.user, text });
    });
    socket.on('askClient', (question: unknown) => socket.emitWithAck('question', question));
    socket.on('bin', ({ name, bytes }: Upload) => ({ name, size: bytes.byteLength, bytes }));
    socket.on('kickme', () => {
      socket.disconnect();
    });
    socket.on('poke', () => {
      socket.emit('poked', undefined);
      socket.emit('poked', { n: 1 });
    });
    socket.on('fail', () => {
      throw new ReplyError('bad_request', 'always fails');
    });
    socket.on('users', async () => (await sb.fetchSockets()).map((s) => (s.data as SbData).user).sort());
    // What the handler was given, as the gateway gives it: one value (several arguments as their array).
    socket.on('arity', (data: unknown) => data);
    socket.on('whoami', () => ({ user: socket.data.user ?? '', nsp: socket.nsp.name }) satisfies Identity);
  });

  const admin = sb.of('/admin');
  admin.use((socket, next) => {
    const user = userOf(socket.handshake.auth);
    if (user === undefined) return next(new ReplyError('unauthorized', 'unauthorized'));
    if (!ADMINS.has(user)) return next(new ReplyError('forbidden', 'forbidden'));
    socket.data.user = user;
    next();
  });
  admin.on('connection', (socket) => {
    socket.on('echo', (value: unknown) => value);
    socket.on('whoami', () => ({ user: socket.data.user ?? '', nsp: socket.nsp.name }) satisfies Identity);
  });

  await sb.ready();
  const port = sb.port;
  return { kind: 'switchboard', port, url: `http://127.0.0.1:${port}`, close: () => sb.close() };
}
