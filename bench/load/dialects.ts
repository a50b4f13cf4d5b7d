import type { LoadConnection, Target, TextHandler } from './connection.js';

/**
 * What the load generator must say to each server: the path, the handshake after the
 * WebSocket opens, how to join the bench room, how to frame a request and find the ref
 * of its reply, and what to answer to heartbeats. Everything else is counted unread.
 */
export interface Dialect extends TextHandler {
  readonly path: string;
  readonly subprotocol?: string;
  /** Until the application-level handshake is complete (Switchboard: `welcome`; Socket.IO: the namespace's `40`). */
  handshake(conn: LoadConnection): Promise<void>;
  join(conn: LoadConnection, room: string): Promise<void>;
  /** The text of request `ref` carrying `dataJson`. */
  request(ref: number, dataJson: string): string;
  /** The ref a decoded frame answers, if it is a reply to one of our requests. */
  replyRef(text: string): number | undefined;
  /** After every counted frame (Switchboard acknowledges what it received). */
  onCount?(conn: LoadConnection): void;
}

export type ServerName = 'switchboard' | 'switchboard-noresume' | 'ws-naive' | 'ws-coalesced' | 'socket.io' | 'switchboard-socketio';

const REF = /"ref":(\d+)/;
const nextRef = (conn: LoadConnection): number => {
  const ref = ((conn.state.ref as number | undefined) ?? 0) + 1;
  conn.state.ref = ref;
  return ref;
};
const refOf = (text: string): number | undefined => {
  const m = REF.exec(text);
  return m ? Number(m[1]) : undefined;
};

const UNACKED_FRAMES = /"maxUnackedFrames":(\d+)/;

/**
 * As the SDK (src/client/ack-cadence.ts): acknowledge every quarter of the welcome's
 * `limits.maxUnackedFrames` (250 by default), and never when the session is not resumable
 * (`resume: null`, `maxUnackedFrames: null`); the SDK's one-second timer is left out.
 */
function ackEveryFrom(welcome: string): number {
  const bound = UNACKED_FRAMES.exec(welcome);
  return bound ? Math.max(1, Math.floor(Number(bound[1]) / 4)) : Infinity;
}

/** docs/PROTOCOL.md: hello/welcome, join requests, `{"type":"ping"}` answered with pong, acks. */
export const switchboardDialect: Dialect = {
  path: '/ws',
  subprotocol: 'switchboard.v1',
  onText(conn, text) {
    if (text === '{"type":"ping"}') {
      conn.sendText('{"type":"pong"}');
      return true;
    }
    // The frame count of the session starts after the welcome.
    if (text.startsWith('{"type":"welcome"')) {
      conn.received = 0;
      conn.ackEvery = ackEveryFrom(text);
    }
    return false;
  },
  async handshake(conn) {
    conn.sendText('{"type":"hello","v":1}');
    const answer = await conn.next((t) => t.startsWith('{"type":"welcome"') || t.startsWith('{"type":"error"'));
    if (!answer.startsWith('{"type":"welcome"')) throw new Error(`handshake refused: ${answer}`);
  },
  async join(conn, room) {
    const ref = nextRef(conn);
    conn.sendText(JSON.stringify({ type: 'join', ref, room }));
    const reply = await conn.next((t) => t.startsWith('{"type":"reply"') && refOf(t) === ref);
    if (reply.includes('"error"')) throw new Error(`join refused: ${reply}`);
  },
  request: (ref, data) => `{"type":"event","ref":${ref},"event":"echo","data":${data}}`,
  replyRef: (text) => (text.startsWith('{"type":"reply"') ? refOf(text) : undefined),
  onCount(conn) {
    if (conn.received - conn.acked >= conn.ackEvery) {
      conn.acked = conn.received;
      conn.sendText(`{"type":"ack","received":${conn.received}}`);
    }
  },
};

/** The two ws servers: join by a JSON frame the server answers; requests are echoed back unchanged. */
export const wsDialect: Dialect = {
  path: '/ws',
  onText: () => false,
  handshake: async () => {},
  async join(conn, room) {
    const ref = nextRef(conn);
    conn.sendText(JSON.stringify({ type: 'join', ref, room }));
    await conn.next((t) => t.startsWith('{"type":"reply"') && refOf(t) === ref);
  },
  request: (ref, data) => `{"type":"event","ref":${ref},"event":"echo","data":${data}}`,
  replyRef: refOf,
};

/**
 * Engine.IO v4 and Socket.IO v5 packets over the WebSocket transport: the open packet `0{…}`,
 * `40` to connect the main namespace, `42<id>[…]` events with an ack id answered by
 * `43<id>[…]`, and Engine.IO's ping `2` answered with `3`. The same for the real socket.io
 * server and Switchboard's Socket.IO front door: both join the room in a `join` event
 * handler that acknowledges it.
 */
export const socketIoDialect: Dialect = {
  path: '/socket.io/?EIO=4&transport=websocket',
  onText(conn, text) {
    if (text === '2') {
      conn.sendText('3');
      return true;
    }
    return false;
  },
  async handshake(conn) {
    await conn.next((t) => t.startsWith('0{'));
    conn.sendText('40');
    const answer = await conn.next((t) => t.startsWith('40') || t.startsWith('44'));
    if (!answer.startsWith('40')) throw new Error(`namespace refused: ${answer}`);
  },
  async join(conn, room) {
    const ref = nextRef(conn);
    conn.sendText(`42${ref}${JSON.stringify(['join', room])}`);
    await conn.next((t) => t.startsWith(`43${ref}[`));
  },
  request: (ref, data) => `42${ref}["echo",${data}]`,
  replyRef(text) {
    const m = /^43(\d+)\[/.exec(text);
    return m ? Number(m[1]) : undefined;
  },
};

export const DIALECTS: Record<ServerName, Dialect> = {
  switchboard: switchboardDialect,
  'switchboard-noresume': switchboardDialect,
  'ws-naive': wsDialect,
  'ws-coalesced': wsDialect,
  'socket.io': socketIoDialect,
  'switchboard-socketio': socketIoDialect,
};

export function targetFor(dialect: Dialect, port: number, localAddress?: string): Target {
  return { host: '127.0.0.1', port, path: dialect.path, subprotocol: dialect.subprotocol, localAddress };
}
