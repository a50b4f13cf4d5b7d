import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { flapTimeline, type FlapPeriod, type FlapProfile, type OutageKind } from './flap-profile.js';
import { deriveSeed, seededRandom, type SeededRandom } from './seeded-random.js';

export { HARSH_PROFILE, profile, type FlapProfile, type OutageKind } from './flap-profile.js';

/** What a link did to its client's connections so far. */
export interface FlapStats {
  outages: number;
  /** Connections accepted and forwarded while the link was up. */
  connections: number;
  /** Connections open when an outage began, by what the outage did to them. */
  blackholed: number;
  resets: number;
  fins: number;
  /** Connection attempts during an outage (closed at once, or reset after the accept). */
  refused: number;
}

type PipeState = 'open' | 'blackholed' | 'closed';

/** Chunks (or an end) waiting out their delay in one direction, in order: one timer for the head. */
interface Lane {
  queue: { due: number; action: () => void }[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One TCP connection through the link: the client's socket, the upstream one, and what is in flight each way. */
interface Pipe {
  client: Socket;
  upstream: Socket;
  state: PipeState;
  up: Lane;
  down: Lane;
}

/**
 * One logical client's network link: a TCP listener of its own on 127.0.0.1 in front of a
 * server, so that every connection this client makes (a WebSocket, or the several HTTP
 * requests of SSE and long-polling, and every reconnect) follows the same timeline.
 *
 * The timeline is drawn from the seed alone (see flapTimeline). During an outage the
 * connections that were open are blackholed (bytes dropped both ways, nothing closed: the
 * peers find out by heartbeat and those connections stay dead) or cut with an RST or a
 * FIN, and new connections are closed or reset right after the accept. While up, every
 * chunk is delayed by the profile's latency plus jitter, in order.
 */
export class FlapLink {
  readonly stats: FlapStats = { outages: 0, connections: 0, blackholed: 0, resets: 0, fins: 0, refused: 0 };
  readonly timeline: readonly FlapPeriod[];
  private readonly pipes = new Set<Pipe>();
  private readonly jitter: SeededRandom;
  private readonly attempts: SeededRandom;
  private out = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finished!: () => void;
  /** Resolves when the timeline is over: the link is up for good from then on. */
  readonly done = new Promise<void>((resolve) => {
    this.finished = resolve;
  });

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    private readonly profile: FlapProfile,
    seed: number,
    durationMs: number,
  ) {
    // Separate streams: how many chunks flow (timing) must not shift the outages.
    this.timeline = flapTimeline(profile, seededRandom(deriveSeed(seed, 'timeline')), durationMs);
    this.jitter = seededRandom(deriveSeed(seed, 'jitter'));
    this.attempts = seededRandom(deriveSeed(seed, 'attempts'));
    server.on('connection', (socket) => this.accept(socket));
  }

  /** A link to 127.0.0.1:targetPort whose outages follow `profile` for `durationMs` from start(). */
  static async open(targetPort: number, profile: FlapProfile, seed: number, durationMs: number): Promise<FlapLink> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new FlapLink(server, targetPort, profile, seed, durationMs);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The server's WebSocket URL through this link (the SDK derives its HTTP URLs from it). */
  url(path = '/ws'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  get isOut(): boolean {
    return this.out;
  }

  /** Start the timeline now. Until then the link is up (with latency), so clients can set up. */
  start(): void {
    const t0 = Date.now();
    const run = (i: number): void => {
      const period = this.timeline[i];
      if (!period) {
        this.timer = undefined;
        this.finished();
        return;
      }
      this.timer = setTimeout(() => {
        this.goOut(period.kind);
        this.timer = setTimeout(() => {
          this.out = false;
          run(i + 1);
        }, period.outMs);
      }, Math.max(0, t0 + period.outAt - Date.now()));
    };
    run(0);
  }

  /**
   * Take the link down for good, now: the timeline stops and the connections open go the
   * way `kind` says (a memory benchmark holds sessions away with this).
   */
  down(kind: OutageKind): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.goOut(kind);
    this.finished();
  }

  /** Stop the timeline and destroy every connection, the dead ones included, and the listener. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.out = false;
    this.finished();
    for (const pipe of [...this.pipes]) this.cut(pipe, false);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private goOut(kind: OutageKind): void {
    this.out = true;
    this.stats.outages++;
    for (const pipe of [...this.pipes]) {
      if (pipe.state !== 'open') continue;
      if (kind === 'blackhole') {
        this.stats.blackholed++;
        this.blackhole(pipe);
      } else {
        if (kind === 'reset') this.stats.resets++;
        else this.stats.fins++;
        this.cut(pipe, kind === 'reset');
      }
    }
  }

  private accept(client: Socket): void {
    client.on('error', () => {});
    if (this.out) {
      this.stats.refused++;
      if (this.attempts.chance(this.profile.refuseWithResetChance)) client.resetAndDestroy();
      else client.destroy();
      return;
    }
    this.stats.connections++;
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    upstream.on('error', () => {});
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pipe: Pipe = { client, upstream, state: 'open', up: { queue: [], timer: undefined }, down: { queue: [], timer: undefined } };
    this.pipes.add(pipe);
    client.on('data', (chunk: Buffer) => this.forward(pipe, chunk, 'up'));
    upstream.on('data', (chunk: Buffer) => this.forward(pipe, chunk, 'down'));
    // An end on one side is passed on after the chunks in flight, unless the pipe is dead.
    client.on('end', () => this.later(pipe, 'up', () => upstream.end()));
    upstream.on('end', () => this.later(pipe, 'down', () => client.end()));
    const gone = (other: Socket) => (): void => {
      // A blackholed pipe tells nobody: the other peer keeps its socket until its heartbeat gives up.
      if (pipe.state === 'open') this.cut(pipe, false);
      else if (pipe.state === 'blackholed' && other.destroyed) this.forget(pipe);
    };
    client.on('close', gone(upstream));
    upstream.on('close', gone(client));
  }

  private forward(pipe: Pipe, chunk: Buffer, direction: 'up' | 'down'): void {
    const target = direction === 'up' ? pipe.upstream : pipe.client;
    this.later(pipe, direction, () => target.write(chunk));
  }

  /**
   * Run `action` after latency + jitter, never before the previous action of the same
   * direction: one queue and one timer per direction, since timers of different delays
   * due in the same millisecond may fire in any order.
   */
  private later(pipe: Pipe, direction: 'up' | 'down', action: () => void): void {
    if (pipe.state !== 'open') return;
    const lane = pipe[direction];
    const delay = this.profile.latencyMs + (this.profile.jitterMs > 0 ? this.jitter.int(0, this.profile.jitterMs) : 0);
    const last = lane.queue[lane.queue.length - 1];
    lane.queue.push({ due: Math.max(last?.due ?? 0, Date.now() + delay), action });
    if (lane.timer === undefined) this.arm(pipe, lane);
  }

  private arm(pipe: Pipe, lane: Lane): void {
    const head = lane.queue[0];
    if (!head) return;
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      while (pipe.state === 'open' && (lane.queue[0]?.due ?? Infinity) <= Date.now()) lane.queue.shift()?.action();
      if (pipe.state === 'open') this.arm(pipe, lane);
    }, Math.max(0, head.due - Date.now()));
  }

  /** Drop what is in flight both ways. */
  private drop(pipe: Pipe): void {
    for (const lane of [pipe.up, pipe.down]) {
      if (lane.timer !== undefined) clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.queue = [];
    }
  }

  private blackhole(pipe: Pipe): void {
    pipe.state = 'blackholed';
    this.drop(pipe);
    // Bytes still arriving are read and dropped, so neither peer sees back-pressure either.
    if (pipe.client.destroyed && pipe.upstream.destroyed) this.forget(pipe);
  }

  private cut(pipe: Pipe, reset: boolean): void {
    pipe.state = 'closed';
    this.drop(pipe);
    for (const socket of [pipe.upstream, pipe.client]) {
      if (socket.destroyed) continue;
      if (reset && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
    this.pipes.delete(pipe);
  }

  private forget(pipe: Pipe): void {
    pipe.state = 'closed';
    this.pipes.delete(pipe);
  }
}

/** One link per logical client, all from one seed (client i gets the sub-seed `client-i`). */
export class LinkFlapper {
  private constructor(readonly links: FlapLink[]) {}

  static async open(count: number, targetPort: number, profile: FlapProfile, seed: number, durationMs: number, label = ''): Promise<LinkFlapper> {
    const links: FlapLink[] = [];
    for (let i = 0; i < count; i++) links.push(await FlapLink.open(targetPort, profile, deriveSeed(seed, `${label}client-${i}`), durationMs));
    return new LinkFlapper(links);
  }

  start(): void {
    for (const link of this.links) link.start();
  }

  /** Resolves when every link's timeline is over. */
  get done(): Promise<void> {
    return Promise.all(this.links.map((l) => l.done)).then(() => undefined);
  }

  /** Every link's stats added up. */
  totals(): FlapStats {
    const sum: FlapStats = { outages: 0, connections: 0, blackholed: 0, resets: 0, fins: 0, refused: 0 };
    for (const { stats } of this.links) for (const key of Object.keys(sum) as (keyof FlapStats)[]) sum[key] += stats[key];
    return sum;
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
  }
}
