import { LoadConnection, Tally } from './connection.js';
import { targetFor, type Dialect } from './dialects.js';

/**
 * Client source addresses 127.9.0.1 … 127.9.0.200 (all of 127/8 is loopback): each has
 * its own ~28k ephemeral ports, so thousands of connections per run, and the TIME_WAIT
 * they leave behind, never exhaust them. Away from 127.0.0.x, which the scale run uses.
 * The rotation runs on across scenarios.
 */
const SOURCE_ADDRESSES = 200;
let nextSource = 0;
const sourceAddress = (): string => `127.9.0.${1 + (nextSource++ % SOURCE_ADDRESSES)}`;

export interface OpenOptions {
  port: number;
  dialect: Dialect;
  count: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  tally?: Tally;
}

/** Open `count` connections, each up to the end of its application handshake, `concurrency` at a time. */
export async function openConnections(opts: OpenOptions): Promise<LoadConnection[]> {
  const tally = opts.tally ?? new Tally();
  const conns: LoadConnection[] = new Array(opts.count);
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < opts.count) {
      const i = started++;
      const conn = new LoadConnection(targetFor(opts.dialect, opts.port, sourceAddress()), tally, opts.dialect);
      conns[i] = conn;
      await conn.open;
      await opts.dialect.handshake(conn);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.count) }, worker));
  } catch (err) {
    closeAll(conns);
    throw err;
  }
  return conns;
}

/** Join every connection to `room`, `concurrency` joins in flight at once. */
export async function joinAll(conns: readonly LoadConnection[], dialect: Dialect, room: string, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < conns.length) await dialect.join(conns[next++] as LoadConnection, room);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, worker));
}

export function closeAll(conns: readonly (LoadConnection | undefined)[]): void {
  for (const c of conns) c?.close();
}
