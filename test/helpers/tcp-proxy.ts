import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** One client connection through the proxy and its upstream connection to the server. */
export interface ProxyLink {
  readonly id: number;
  /** The socket the client (SDK) connected to the proxy with. */
  readonly client: Socket;
  /** The proxy's socket to the server. */
  readonly server: Socket;
  /** The server's HTTP 101 went through: WebSocket frames flow from here on. */
  readonly upgraded: boolean;
  /** Complete WebSocket frames forwarded from the server to the client. */
  readonly framesToClient: number;
}

export interface CutOptions {
  /** Which socket goes first (default 'server'). Either way both are gone afterwards. */
  first?: 'server' | 'client';
  /** End with a TCP RST instead of a FIN (a crashed peer or a NAT dropping state). Default false. */
  reset?: boolean;
}

/** What a mid-frame cut did. */
export interface MidFrameCut {
  link: number;
  /** Bytes of the chunk forwarded to the client before the cut. */
  forwarded: number;
  /** Length of the chunk the cut fell in. */
  chunk: number;
  /** Bytes of the interrupted frame the client got (header included); never the whole frame. */
  partialFrameBytes: number;
}

/** Minimal knowledge of RFC 6455 framing: where frames start and end in one direction of a stream. */
class FrameTracker {
  private http = true;
  private httpTail = '';
  /** Header bytes of the frame being read, until its length is known. */
  private header: number[] = [];
  /** Payload bytes still to come of the current frame. */
  private remaining = 0;
  /** Bytes of the current frame seen so far (header included). */
  private frameBytes = 0;
  private inFrame = false;
  frames = 0;

  get upgraded(): boolean {
    return !this.http;
  }

  /**
   * Feed one chunk. Returns where the frame region starts in it (-1: none, still HTTP) and,
   * for every position 0..chunk.length, how many bytes of an unfinished frame precede it
   * (0 = a frame boundary).
   */
  feed(chunk: Buffer): { frameStart: number; partialAt: Int32Array } {
    const partialAt = new Int32Array(chunk.length + 1);
    let i = 0;
    if (this.http) {
      const text = this.httpTail + chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) {
        this.httpTail = text.slice(-3);
        return { frameStart: -1, partialAt };
      }
      this.http = false;
      i = end + 4 - this.httpTail.length;
      this.httpTail = '';
    }
    const frameStart = i;
    partialAt[i] = this.inFrame ? this.frameBytes : 0;
    while (i < chunk.length) {
      if (this.inFrame && this.header.length === 0) {
        // Payload bytes.
        const take = Math.min(this.remaining, chunk.length - i);
        for (let k = 1; k <= take; k++) partialAt[i + k] = this.frameBytes + k;
        i += take;
        this.frameBytes += take;
        this.remaining -= take;
        if (this.remaining === 0) this.finishFrame(partialAt, i);
        continue;
      }
      // Header bytes, one at a time until the header's length is known and read.
      this.inFrame = true;
      this.header.push(chunk[i] as number);
      i++;
      this.frameBytes++;
      partialAt[i] = this.frameBytes;
      const length = headerLength(this.header);
      if (length !== undefined && this.header.length === length) {
        this.remaining = payloadLength(this.header);
        this.header = [];
        if (this.remaining === 0) this.finishFrame(partialAt, i);
      }
    }
    return { frameStart, partialAt };
  }

  private finishFrame(partialAt: Int32Array, at: number): void {
    this.inFrame = false;
    this.frameBytes = 0;
    this.frames++;
    partialAt[at] = 0;
  }
}

function headerLength(header: number[]): number | undefined {
  if (header.length < 2) return undefined;
  const len7 = (header[1] as number) & 0x7f;
  const masked = ((header[1] as number) & 0x80) !== 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
}

function payloadLength(header: number[]): number {
  const len7 = (header[1] as number) & 0x7f;
  if (len7 === 126) return ((header[2] as number) << 8) | (header[3] as number);
  if (len7 === 127) {
    let n = 0;
    for (let k = 2; k < 10; k++) n = n * 256 + (header[k] as number);
    return n;
  }
  return len7;
}

interface LinkState extends ProxyLink {
  readonly tracker: FrameTracker;
  /** A mid-frame cut waits for the next server chunk. */
  armed: { pick: (max: number) => number; done: (cut: MidFrameCut | undefined) => void } | undefined;
  /** Half-open: the client side is gone, the server side is kept and what it sends is swallowed. */
  held: boolean;
  closed: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a server, for fault injection: clients connect to
 * the proxy, which forwards bytes both ways and can, on command, cut links the way networks
 * fail — both sockets destroyed (the server sees 1006, no close frame), a cut in the middle
 * of a WebSocket frame, a half-open link — or refuse new connections for a while.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly live = new Set<LinkState>();
  private nextId = 1;
  private refusing = false;
  /** Links accepted and forwarded since the start. */
  linkCount = 0;
  /** Connections destroyed on arrival while refusing. */
  refusedCount = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    server: Server,
  ) {
    this.server = server;
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy({ host: targetHost, port: targetPort }, server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The WebSocket URL of the server as seen through the proxy. */
  url(path = '/ws'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Links currently forwarding (held half-open links are not counted: their client is gone). */
  get links(): ProxyLink[] {
    return [...this.live].filter((l) => !l.held && !l.closed);
  }

  /** While on, new connections are destroyed at once (the client sees its attempt fail). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  /** Cut every live link: both sockets destroyed. Returns how many were cut. */
  cutAll(options: CutOptions = {}): number {
    let n = 0;
    for (const link of [...this.live]) {
      if (link.closed) continue;
      this.cut(link, options);
      n++;
    }
    return n;
  }

  /** Cut one link: both sockets destroyed, `first` one first. */
  cut(link: ProxyLink, options: CutOptions = {}): void {
    const state = link as LinkState;
    state.held = false;
    const order = options.first === 'client' ? [state.client, state.server] : [state.server, state.client];
    for (const socket of order) kill(socket, options.reset ?? false);
    this.forget(state);
  }

  /**
   * Half-open link: the client's socket is destroyed but the server's stays open, and what
   * the server sends into it is swallowed, as when a client vanishes without a FIN reaching
   * the server. After `holdMs` (or at release()/close()) the server side is destroyed too.
   */
  halfOpen(link: ProxyLink, holdMs: number): void {
    const state = link as LinkState;
    if (state.closed || state.held) return;
    state.held = true;
    state.armed?.done(undefined);
    state.armed = undefined;
    kill(state.client, false);
    const timer = setTimeout(() => this.releaseLink(state), holdMs);
    timer.unref();
  }

  /** Destroy the server side of every held half-open link. */
  release(): void {
    for (const link of [...this.live]) if (link.held) this.releaseLink(link);
  }

  /**
   * Cut the link in the middle of a WebSocket frame: of the next chunk from the server,
   * forward only a prefix that ends inside a frame, then destroy both sockets. Resolves with
   * what was cut, or undefined if the link closed first. `pick(max)` chooses an integer in
   * [0, max) (pass a seeded random so cuts replay).
   */
  cutMidFrame(link: ProxyLink, pick: (max: number) => number = (max) => Math.floor(Math.random() * max)): Promise<MidFrameCut | undefined> {
    const state = link as LinkState;
    if (state.closed || state.held) return Promise.resolve(undefined);
    state.armed?.done(undefined);
    return new Promise((resolve) => {
      state.armed = { pick, done: resolve };
    });
  }

  /** Withdraw every mid-frame cut still waiting for data (each resolves with undefined). */
  disarm(): void {
    for (const link of this.live) {
      link.armed?.done(undefined);
      link.armed = undefined;
    }
  }

  /** Stop listening and destroy every link. */
  async close(): Promise<void> {
    for (const link of [...this.live]) {
      kill(link.client, false);
      kill(link.server, false);
      this.forget(link);
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      this.refusedCount++;
      client.on('error', () => {});
      client.destroy();
      return;
    }
    this.linkCount++;
    const server = createConnection(this.target);
    const tracker = new FrameTracker();
    const link: LinkState = {
      id: this.nextId++,
      client,
      server,
      tracker,
      get upgraded() {
        return tracker.upgraded;
      },
      get framesToClient() {
        return tracker.frames;
      },
      armed: undefined,
      held: false,
      closed: false,
    };
    this.live.add(link);
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      if (link.closed || link.held) return;
      if (!server.write(chunk)) client.pause();
    });
    server.on('drain', () => client.resume());
    server.on('data', (chunk: Buffer) => this.fromServer(link, chunk));
    client.on('drain', () => server.resume());
    // Errors (ECONNRESET after a cut) are expected here: the fate of a link is its close.
    client.on('error', () => {});
    server.on('error', () => {});
    // A link cut on purpose is already forgotten: the cut decides what happens to the other side.
    client.on('close', () => {
      if (link.closed || link.held) return; // held: the server side is kept on purpose
      kill(server, false);
      this.forget(link);
    });
    server.on('close', () => {
      if (link.closed) return;
      link.held = false;
      kill(client, false);
      this.forget(link);
    });
  }

  private fromServer(link: LinkState, chunk: Buffer): void {
    if (link.closed) return;
    const { frameStart, partialAt } = link.tracker.feed(chunk);
    if (link.held) return; // swallowed: nobody is there any more
    const armed = link.armed;
    if (armed && frameStart !== -1) {
      // Positions after the HTTP response that end inside a frame (some frame bytes delivered, not all).
      const candidates: number[] = [];
      for (let p = frameStart + 1; p <= chunk.length; p++) if ((partialAt[p] as number) > 0) candidates.push(p);
      if (candidates.length > 0) {
        link.armed = undefined;
        const at = candidates[armed.pick(candidates.length)] as number;
        const cut: MidFrameCut = { link: link.id, forwarded: at, chunk: chunk.length, partialFrameBytes: partialAt[at] as number };
        kill(link.server, false);
        this.forget(link);
        // end(), not destroy(): the partial frame must reach the client before the FIN.
        link.client.end(chunk.subarray(0, at));
        const timer = setTimeout(() => link.client.destroy(), 1000);
        timer.unref();
        link.client.once('close', () => clearTimeout(timer));
        armed.done(cut);
        return;
      }
    }
    if (!link.client.write(chunk)) link.server.pause();
  }

  private releaseLink(link: LinkState): void {
    kill(link.server, false);
    link.held = false;
    this.forget(link);
  }

  private forget(link: LinkState): void {
    if (link.held) return;
    link.closed = true;
    link.armed?.done(undefined);
    link.armed = undefined;
    this.live.delete(link);
  }
}

function kill(socket: Socket, reset: boolean): void {
  if (socket.destroyed) return;
  if (reset && typeof socket.resetAndDestroy === 'function' && !socket.connecting) socket.resetAndDestroy();
  else socket.destroy();
}
