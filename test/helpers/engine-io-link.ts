/**
 * A hand-driven Engine.IO v4 connection for bad-input tests: long-polling over plain HTTP
 * requests (a TCP connection each, as socket.io-client in Node makes them) or a `ws`
 * WebSocket, sending whatever it is told — well-formed or not — and keeping every packet
 * the server sends, in order. It answers the server's pings, so a slow test is not closed
 * for `ping timeout`. Nothing here checks the server's answers: the tests do.
 */
import { request } from 'node:http';
import WebSocket from 'ws';

export type EngineMessage = string | Uint8Array;

/** One HTTP answer. */
export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A plain HTTP request on a connection of its own; `status` 0 when the connection failed. */
export function httpRequest(url: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', () => resolve({ status: 0, body: '', headers: {} }));
    });
    req.on('error', () => resolve({ status: 0, body: '', headers: {} }));
    req.end(options.body);
  });
}

/** A long-polling payload: text packets as they are, binary ones as `b` + base64, joined by "\x1e". */
export function encodeEnginePayload(packets: readonly EngineMessage[]): string {
  return packets.map((p) => (typeof p === 'string' ? p : `b${Buffer.from(p).toString('base64')}`)).join('\x1e');
}

function decodeEnginePayload(body: string): EngineMessage[] {
  return body.split('\x1e').map((p) => (p.startsWith('b') ? new Uint8Array(Buffer.from(p.slice(1), 'base64')) : p));
}

export interface EngineLink {
  readonly transport: 'polling' | 'websocket';
  /** Every packet the server sent, in order (the open packet first). */
  readonly received: EngineMessage[];
  /** The connection is over: a close packet, code 1 for its sid, or the WebSocket closed. */
  readonly closed: boolean;
  /** How it ended, for failure messages (`close packet`, `400 code 1`, `ws 1009`, …). */
  readonly ending: string | undefined;
  /** WebSocket close code, when it closed. */
  readonly closeCode: number | undefined;
  /** Send packets: WebSocket messages, or one POST; resolves with the POST's status (WebSocket: 0). */
  send(packets: readonly EngineMessage[]): Promise<number>;
  /** Polling: a POST with exactly this body (WebSocket: one text message). */
  sendRaw(body: string): Promise<HttpAnswer | undefined>;
  /** Until `match` holds for a received packet, the connection ends, or `ms` pass. */
  until(match: (p: EngineMessage) => boolean, ms: number): Promise<'packet' | 'closed' | 'timeout'>;
  /** Leave politely (a close packet) if still open, and let go of everything. */
  close(): Promise<void>;
}

/** Open a connection at `base` (`http://host:port/socket.io/`); undefined when the handshake is refused. */
export async function openEngineLink(base: string, transport: 'polling' | 'websocket'): Promise<EngineLink | undefined> {
  return transport === 'polling' ? PollingLink.open(base) : WebSocketLink.open(base);
}

class PollingLink implements EngineLink {
  readonly transport = 'polling';
  readonly received: EngineMessage[] = [];
  closed = false;
  ending: string | undefined;
  readonly closeCode = undefined;

  private constructor(private readonly url: string) {}

  static async open(base: string): Promise<PollingLink | undefined> {
    const answer = await httpRequest(`${base}?EIO=4&transport=polling`);
    if (answer.status !== 200 || !answer.body.startsWith('0{')) return undefined;
    const { sid } = JSON.parse(answer.body.slice(1)) as { sid: string };
    const link = new PollingLink(`${base}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
    link.received.push(answer.body);
    return link;
  }

  async send(packets: readonly EngineMessage[]): Promise<number> {
    return (await this.sendRaw(encodeEnginePayload(packets))).status;
  }

  async sendRaw(body: string): Promise<HttpAnswer> {
    const answer = await httpRequest(this.url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
    this.checkGone(answer);
    return answer;
  }

  async until(match: (p: EngineMessage) => boolean, ms: number): Promise<'packet' | 'closed' | 'timeout'> {
    const deadline = Date.now() + ms;
    let seen = 0;
    for (;;) {
      for (; seen < this.received.length; seen++) if (match(this.received[seen] as EngineMessage)) return 'packet';
      if (this.closed) return 'closed';
      if (Date.now() > deadline) return 'timeout';
      const answer = await httpRequest(this.url);
      if (this.checkGone(answer)) continue;
      if (answer.status !== 200) {
        this.gone(`GET ${answer.status} ${answer.body.slice(0, 80)}`);
        continue;
      }
      const packets = decodeEnginePayload(answer.body);
      this.received.push(...packets);
      if (packets.includes('1')) this.gone('close packet');
      else if (packets.includes('2')) await this.send(['3']);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.send(['1']);
    this.gone('closed by the client');
  }

  /** A 400 with code 1: the server no longer knows the sid. */
  private checkGone(answer: HttpAnswer): boolean {
    if (answer.status === 400 && answer.body.startsWith('{"code":1,')) {
      this.gone('400 code 1');
      return true;
    }
    if (answer.status === 0) {
      this.gone('connection failed');
      return true;
    }
    return false;
  }

  private gone(how: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ending = how;
  }
}

class WebSocketLink implements EngineLink {
  readonly transport = 'websocket';
  readonly received: EngineMessage[] = [];
  closed = false;
  ending: string | undefined;
  closeCode: number | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const packet: EngineMessage = isBinary ? new Uint8Array(data) : data.toString();
      this.received.push(packet);
      if (packet === '2') this.sendNow('3');
      this.wake?.();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.ending ??= `ws ${code}`;
      this.wake?.();
    });
    ws.on('error', () => {});
  }

  static open(base: string): Promise<WebSocketLink | undefined> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}?EIO=4&transport=websocket`, { maxPayload: 64 * 1024 * 1024 });
    return new Promise((resolve) => {
      ws.once('open', () => resolve(new WebSocketLink(ws)));
      ws.once('unexpected-response', () => resolve(undefined));
      ws.once('error', () => resolve(undefined));
    });
  }

  async send(packets: readonly EngineMessage[]): Promise<number> {
    for (const p of packets) this.sendNow(p);
    return 0;
  }

  async sendRaw(body: string): Promise<undefined> {
    this.sendNow(body);
    return undefined;
  }

  until(match: (p: EngineMessage) => boolean, ms: number): Promise<'packet' | 'closed' | 'timeout'> {
    return new Promise((resolve) => {
      let seen = 0;
      const check = (): boolean => {
        for (; seen < this.received.length; seen++) {
          if (match(this.received[seen] as EngineMessage)) {
            resolve('packet');
            return true;
          }
        }
        if (!this.closed) return false;
        resolve('closed');
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve('timeout');
      }, ms);
      this.wake = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.wake = undefined;
      };
    });
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.sendNow('1');
      this.ws.close(1000);
    }
    if (this.ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.ws.terminate();
          resolve();
        }, 2000);
        this.ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private sendNow(packet: EngineMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(packet);
  }
}
