/**
 * A client process of the scale run: opens idle Switchboard connections with the `ws`
 * package, each from a loopback source address of its list (`localAddress`), speaks just
 * enough of the protocol to stay connected the way the SDK does (hello; pong to every ping;
 * ack of the frames received), and counts the heartbeats each connection receives.
 *
 * argv: <ws url> <comma-separated source addresses> <first connection index>
 */
import WebSocket from 'ws';
import type { FromClient, OpenResult, ToClient } from './messages.js';

const [url, addressList, firstIndexArg] = process.argv.slice(2);
if (!url || !addressList) throw new Error('usage: client.ts <url> <addresses> [first index]');
const addresses = addressList.split(',');
const firstIndex = Number(firstIndexArg ?? 0);

const HELLO = JSON.stringify({ type: 'hello', v: 1 });
const PONG = JSON.stringify({ type: 'pong' });

function send(msg: FromClient): void {
  process.send?.(msg);
}

const kConn = Symbol('conn');
type Tagged = WebSocket & { [kConn]: Conn };

/** One connection. Listeners are shared functions, as in the server, so a connection costs no closures. */
class Conn {
  welcomed = false;
  closed = false;
  /** Frames received after the welcome: what `ack` reports. */
  received = 0;
  appPings = 0;
  wsPings = 0;
  constructor(
    readonly ws: WebSocket,
    readonly batch: Batch,
  ) {}
}

interface Batch {
  started: number;
  remaining: number;
  inflight: number;
  concurrency: number;
  result: OpenResult;
}

const conns: Conn[] = [];
let otherFrames = 0;
const closes: Record<string, number> = {};
let nextIndex = firstIndex;

function onOpen(this: WebSocket): void {
  this.send(HELLO);
}

function onMessage(this: WebSocket, data: WebSocket.RawData): void {
  const conn = (this as Tagged)[kConn];
  const text = (data as Buffer).toString();
  if (!conn.welcomed) {
    if (text.startsWith('{"type":"welcome"')) {
      conn.welcomed = true;
      settle(conn, undefined);
    } else {
      settle(conn, `frame ${text.slice(0, 60)}`);
    }
    return;
  }
  conn.received++;
  if (text === '{"type":"ping"}') {
    conn.appPings++;
    this.send(PONG);
    // The SDK acknowledges within a second of the first unacknowledged frame; an idle
    // connection's only frames are pings, so one ack per ping is the same rate.
    this.send(`{"type":"ack","received":${conn.received}}`);
  } else {
    otherFrames++;
  }
}

function onPing(this: WebSocket): void {
  // ws answers the ping control frame with a pong by itself.
  (this as Tagged)[kConn].wsPings++;
}

function onError(this: WebSocket, err: NodeJS.ErrnoException): void {
  const conn = (this as Tagged)[kConn];
  if (!conn.welcomed) settle(conn, err.code ?? err.message);
}

function onUnexpectedResponse(this: WebSocket, _req: unknown, res: { statusCode?: number }): void {
  const conn = (this as Tagged)[kConn];
  settle(conn, `http ${res.statusCode}`);
  this.terminate();
}

function onClose(this: WebSocket, code: number): void {
  const conn = (this as Tagged)[kConn];
  if (conn.closed) return;
  conn.closed = true;
  if (conn.welcomed) closes[String(code)] = (closes[String(code)] ?? 0) + 1;
  else settle(conn, `close ${code}`);
}

const settled = new WeakSet<Conn>();
function settle(conn: Conn, failure: string | undefined): void {
  if (settled.has(conn)) return;
  settled.add(conn);
  const batch = conn.batch;
  batch.inflight--;
  if (failure === undefined) batch.result.opened++;
  else batch.result.failed[failure] = (batch.result.failed[failure] ?? 0) + 1;
  pump(batch);
}

function openOne(batch: Batch): void {
  const index = nextIndex++;
  const localAddress = addresses[index % addresses.length];
  const ws = new WebSocket(url!, 'switchboard.v1', { localAddress, perMessageDeflate: false, handshakeTimeout: 60_000 });
  const conn = new Conn(ws, batch);
  (ws as Tagged)[kConn] = conn;
  ws.on('open', onOpen);
  ws.on('message', onMessage);
  ws.on('ping', onPing);
  ws.on('error', onError);
  ws.on('unexpected-response', onUnexpectedResponse);
  ws.on('close', onClose);
  conns.push(conn);
}

function pump(batch: Batch): void {
  while (batch.remaining > 0 && batch.inflight < batch.concurrency) {
    batch.remaining--;
    batch.inflight++;
    openOne(batch);
  }
  if (batch.remaining === 0 && batch.inflight === 0 && batch.result.ms < 0) {
    batch.result.ms = Date.now() - batch.started;
    send({ type: 'opened', ...batch.result });
  }
}

function histogram(values: number[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const v of values) h[String(v)] = (h[String(v)] ?? 0) + 1;
  return h;
}

process.on('message', (msg: ToClient) => {
  switch (msg.type) {
    case 'open': {
      const batch: Batch = { started: Date.now(), remaining: msg.count, inflight: 0, concurrency: msg.concurrency, result: { opened: 0, failed: {}, ms: -1 } };
      pump(batch);
      break;
    }
    case 'reset':
      for (const c of conns) c.appPings = c.wsPings = 0;
      otherFrames = 0;
      send({ type: 'reset' });
      break;
    case 'report': {
      const live = conns.filter((c) => c.welcomed && !c.closed);
      send({
        type: 'report',
        welcomed: conns.filter((c) => c.welcomed).length,
        open: live.length,
        closes: { ...closes },
        appPings: histogram(live.map((c) => c.appPings)),
        wsPings: histogram(live.map((c) => c.wsPings)),
        otherFrames,
      });
      break;
    }
    case 'exit':
      process.exit(0);
  }
});

send({ type: 'ready' });
