import { io } from 'socket.io-client';
import { connect } from '../../src/client/node.js';
import { NumberTally, type ReportedGap, SessionLog } from '../../test/helpers/delivery-tally.js';
import type { FlapLink } from '../../test/helpers/link-flap.js';

/** One benchmark client behind its own flapping link: what its `tick` handler saw, and its sessions. */
export interface FlapClient {
  readonly tally: NumberTally;
  readonly sessions: SessionLog;
  /** Switchboard durable rooms: the `recovered: false` gaps (offsets). */
  readonly gaps: ReportedGap[];
  /** When the client last connected or its handler last got a message (ms, Date.now()). */
  lastActivity: number;
  /** Switchboard: what the SDK's `error` event reported (a room refused on rejoin, say), as `code: message`. */
  readonly errors: string[];
  connected(): boolean;
  close(): void;
}

interface Tick {
  s: number;
}

function blank(): Omit<FlapClient, 'connected' | 'close'> {
  return { tally: new NumberTally(), sessions: new SessionLog(), gaps: [], lastActivity: 0, errors: [] };
}

/**
 * A socket.io-client 4.8 with its defaults (reconnection 1–5 s, randomized) on the WebSocket
 * transport. After a reconnect that did not recover the connection state it joins the room
 * again, as an app must (a recovered one is still in it). Resolves once in the room.
 */
export async function openSocketIo(link: FlapLink, room: string): Promise<FlapClient> {
  const state = blank();
  const socket = io(`http://127.0.0.1:${link.port}`, { transports: ['websocket'], forceNew: true });
  let joined!: () => void;
  const inRoom = new Promise<void>((resolve) => (joined = resolve));
  socket.on('connect', () => {
    state.sessions.connected(socket.recovered, socket.id);
    state.lastActivity = Date.now();
    if (!socket.recovered) socket.emit('join', room, () => joined());
  });
  socket.on('disconnect', () => state.sessions.disconnected());
  socket.on('tick', (data: Tick) => {
    state.tally.record(data.s);
    state.lastActivity = Date.now();
  });
  await inRoom;
  return Object.assign(state, { connected: () => socket.connected, close: () => void socket.disconnect() });
}

/** A Switchboard SDK client with its defaults on the WebSocket transport, in `room` (rejoined by the SDK itself). */
export async function openSwitchboard(link: FlapLink, room: string): Promise<FlapClient> {
  const state = blank();
  let lastOffset = 0;
  const client = connect(link.url(), { transports: ['websocket'], network: false });
  client.on('connect', (info) => {
    state.sessions.connected(info?.resumed === true, client.id);
    state.lastActivity = Date.now();
  });
  client.on('disconnect', () => state.sessions.disconnected());
  client.on('tick', (data: Tick, meta) => {
    state.tally.record(data.s);
    state.lastActivity = Date.now();
    if (meta.position) lastOffset = meta.position.offset;
  });
  client.on('recovery', (info) => {
    // Fired before the room's next live event: lastOffset is the last one seen before the gap.
    if (!info.recovered) state.gaps.push({ fromOffset: lastOffset, toOffset: info.position.offset });
    lastOffset = info.position.offset;
  });
  client.on('error', (err: Error & { code?: string }) => state.errors.push(`${err.code ?? 'error'}: ${err.message}`));
  await client.join(room);
  return Object.assign(state, { connected: () => client.connected, close: () => client.close() });
}
