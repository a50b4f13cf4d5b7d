/**
 * Engine.IO spoken by hand, for the bad-input tests: plain HTTP requests under
 * `/socket.io/`, raw upgrade requests written on a TCP socket, and a `ws` WebSocket that
 * sends whatever it is told and keeps what came back.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';

const PATH = '/socket.io/';
/** How long anything may take before the test fails (a bound, not a measurement). */
const WAIT_MS = 5000;

export interface HttpAnswer {
  status: number;
  body: string;
  contentType: string | undefined;
}

/** One HTTP request on its own connection. Resolves status -1 when the connection failed. */
export function httpRequest(port: number, method: string, query: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${method} ${query} within ${WAIT_MS} ms`)), WAIT_MS);
    const req = request({ host: '127.0.0.1', port, method, path: PATH + query, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: text, contentType: res.headers['content-type'] });
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      resolve({ status: -1, body: err.message, contentType: undefined });
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** `{code, message}` of an Engine.IO JSON error body; undefined when the body is not one. */
export function engineError(answer: HttpAnswer): { code: unknown; message: unknown } | undefined {
  try {
    const { code, message } = JSON.parse(answer.body) as { code?: unknown; message?: unknown };
    return { code, message };
  } catch {
    return undefined;
  }
}

/** A polling handshake: the open packet's fields. */
export async function pollingHandshake(port: number): Promise<{ answer: HttpAnswer; open: Record<string, unknown> }> {
  const answer = await httpRequest(port, 'GET', '?EIO=4&transport=polling');
  if (!answer.body.startsWith('0')) throw new Error(`not an open packet: ${answer.status} ${answer.body}`);
  return { answer, open: JSON.parse(answer.body.slice(1)) as Record<string, unknown> };
}

/** Everything the server wrote back to a WebSocket upgrade request, until it closed or WAIT_MS passed. */
export function rawUpgrade(port: number, query: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let written = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(written);
    };
    const timer = setTimeout(done, WAIT_MS);
    socket.on('data', (chunk) => {
      written += chunk.toString('latin1');
      // An HTTP refusal is complete with its body; nothing more is wanted after a 101.
      if (/\r\n\r\n/.test(written) && !written.startsWith('HTTP/1.1 101')) socket.end();
    });
    socket.on('close', done);
    socket.on('error', done);
    socket.write(
      `GET ${PATH}${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

/** The status line's code of a raw HTTP answer. */
export function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
}

/** An Engine.IO WebSocket connection driven message by message. */
export class RawEngineSocket {
  private readonly received: (string | Buffer)[] = [];
  private wake: (() => void) | undefined;
  /** Resolves with the close code when the connection closes (1005 when the server sent none). */
  readonly closed: Promise<number>;
  private isClosed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.received.push(isBinary ? data : data.toString('utf8'));
      this.wake?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number) => {
        this.isClosed = true;
        this.wake?.();
        resolve(code);
      }),
    );
    ws.on('error', () => {}); // the close that follows is what the tests look at
  }

  /** Open a WebSocket connection and read its open packet. */
  static async open(port: number): Promise<{ socket: RawEngineSocket; open: Record<string, unknown> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${PATH}?EIO=4&transport=websocket`);
    const socket = new RawEngineSocket(ws);
    const first = await socket.next();
    if (typeof first !== 'string' || !first.startsWith('0')) throw new Error(`not an open packet: ${String(first)}`);
    return { socket, open: JSON.parse(first.slice(1)) as Record<string, unknown> };
  }

  /** Open, then CONNECT the root namespace with `auth`, checking that it was admitted. */
  static async connected(port: number, auth: unknown): Promise<RawEngineSocket> {
    const { socket } = await RawEngineSocket.open(port);
    socket.send(`40${JSON.stringify(auth)}`);
    const answer = await socket.next();
    if (typeof answer !== 'string' || !/^40\{"sid":"[^"]+"/.test(answer)) throw new Error(`not a CONNECT answer: ${String(answer)}`);
    return socket;
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The next message; rejects when the connection closes first or after WAIT_MS. */
  async next(): Promise<string | Buffer> {
    const deadline = Date.now() + WAIT_MS;
    while (this.received.length === 0) {
      if (this.isClosed) throw new Error('the connection closed');
      if (Date.now() > deadline) throw new Error(`no message within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.received.shift() as string | Buffer;
  }

  /** Messages that arrived and were not taken yet. */
  pending(): (string | Buffer)[] {
    return [...this.received];
  }

  /** The close code; rejects when the connection is still open after WAIT_MS. */
  closedWithin(): Promise<number> {
    return Promise.race([
      this.closed,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`still open after ${WAIT_MS} ms`)), WAIT_MS).unref()),
    ]);
  }

  terminate(): void {
    this.ws.terminate();
  }
}
