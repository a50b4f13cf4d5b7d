import { once } from 'node:events';
import WebSocket from 'ws';

/**
 * A client that knows nothing but docs/PROTOCOL.md: raw JSON frames over `ws`.
 * Tests use it to check the wire format without the SDK's help.
 */
export class BareClient {
  readonly frames: Record<string, unknown>[] = [];
  private waiters: { match: (f: Record<string, unknown>) => boolean; resolve: (f: Record<string, unknown>) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;
  /** Frames received after the session's welcomes (welcomes not counted), for resume. */
  received = 0;
  private welcomed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, binary) => {
      if (binary) return;
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.type === 'welcome') this.welcomed = true;
      else if (this.welcomed) this.received++;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  }

  static async open(url: string, protocols: string | string[] = 'switchboard.v1', headers?: Record<string, string>): Promise<BareClient> {
    const ws = new WebSocket(url, protocols, headers ? { headers } : {});
    const client = new BareClient(ws);
    await once(ws, 'open');
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or future) that matches; fails after `ms` (generous: a loaded machine is slow, not wrong). */
  next(match: Record<string, unknown> | ((f: Record<string, unknown>) => boolean), ms = 10_000): Promise<Record<string, unknown>> {
    const test = typeof match === 'function' ? match : (f: Record<string, unknown>) => Object.entries(match).every(([k, v]) => f[k] === v);
    const seen = this.frames.find(test);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame matching ${JSON.stringify(match)} within ${ms} ms; got ${JSON.stringify(this.frames)}`)), ms);
      this.waiters.push({
        match: test,
        resolve: (f) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f);
        },
      });
    });
  }

  /** Handshake as the protocol describes and return the welcome frame. */
  async hello(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    this.send({ type: 'hello', v: 1, ...extra });
    return this.next({ type: 'welcome' });
  }

  close(): void {
    this.ws.close();
  }
}
