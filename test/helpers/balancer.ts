import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A round-robin TCP balancer: ONE address for clients, whichever nodes are alive behind it,
 * as a load balancer in front of a cluster gives them (a client never knows node addresses).
 * A backend that refuses the connection (a dead node) is skipped for the next one; when a
 * backend's connection ends, the client's ends too, so the client sees its node go away.
 */
export class Balancer {
  private next = 0;
  private readonly links = new Set<{ client: Socket; server: Socket }>();

  private constructor(
    private readonly server: Server,
    private backends: number[],
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(backends: number[]): Promise<Balancer> {
    const server = createServer();
    const balancer = new Balancer(server, [...backends]);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return balancer;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  url(path = '/ws'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Stop sending new connections to this port (connections already made stay). */
  remove(port: number): void {
    this.backends = this.backends.filter((p) => p !== port);
  }

  /** Add a backend (a node started later). */
  add(port: number): void {
    this.backends.push(port);
  }

  /**
   * Stop forwarding what clients send on the links made so far: a frame written now reaches
   * no node (a link that died with data in flight), until cut() ends those links.
   */
  freeze(): void {
    for (const { client } of this.links) client.unpipe();
  }

  /** End every link made so far: their clients see their node go away and reconnect. */
  cut(): void {
    for (const { client, server } of [...this.links]) {
      client.destroy();
      server.destroy();
    }
  }

  async close(): Promise<void> {
    for (const { client, server } of this.links) {
      client.destroy();
      server.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, tried = 0): void {
    if (tried === 0) client.on('error', () => client.destroy());
    if (this.backends.length === 0 || tried >= this.backends.length) {
      client.destroy();
      return;
    }
    const port = this.backends[this.next++ % this.backends.length] as number;
    const server = connect(port, '127.0.0.1');
    client.pause();
    const refused = (): void => {
      // The node is down: try the next one for this client.
      server.destroy();
      this.accept(client, tried + 1);
    };
    server.once('error', refused);
    server.once('connect', () => {
      server.off('error', refused);
      const link = { client, server };
      this.links.add(link);
      client.pipe(server);
      server.pipe(client);
      client.resume();
      const end = (): void => {
        this.links.delete(link);
        client.destroy();
        server.destroy();
      };
      client.on('close', end);
      server.on('close', end);
      client.on('error', end);
      server.on('error', end);
    });
  }
}

/**
 * A TCP relay to one backend (e.g. Redis) that can lose a reply: armed with a marker, it
 * forwards the next client chunk containing it, then drops what the backend answers and
 * cuts the link — the request ran, the client never hears so. Later connections pass.
 */
export class ReplyCutter {
  private marker: string | undefined;
  private readonly sockets = new Set<Socket>();
  /** How many requests were cut after being forwarded. */
  cuts = 0;

  private constructor(
    private readonly server: Server,
    private readonly backend: number,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(backend: number): Promise<ReplyCutter> {
    const server = createServer();
    const relay = new ReplyCutter(server, backend);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Cut the link of the next request whose bytes contain `marker` (case-insensitive), after forwarding it. */
  arm(marker: string): void {
    this.marker = marker.toLowerCase();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = connect(this.backend, '127.0.0.1');
    let swallowing = false;
    for (const s of [client, server]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        server.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      server.write(chunk);
      if (this.marker !== undefined && chunk.toString('latin1').toLowerCase().includes(this.marker)) {
        this.marker = undefined;
        this.cuts++;
        swallowing = true;
        // Give the backend time to run it, then cut: the reply never reaches the client.
        setTimeout(() => client.destroy(), 100);
      }
    });
    server.on('data', (chunk: Buffer) => {
      if (!swallowing) client.write(chunk);
    });
  }
}
