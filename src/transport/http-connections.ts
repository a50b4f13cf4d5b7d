import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { HttpConnectionHost, HttpTransport } from './http-transport.js';
import { PollingTransport, type PollingLimits } from './long-polling.js';
import { RequestInfoRecorder } from './request-info.js';
import { SseTransport } from './sse.js';

export interface HttpConnectionsOptions {
  polling: PollingLimits;
  /** This node's id in a cluster: connection ids start with it, so any node knows where a connection lives. */
  node?: () => string;
  /** Called once for every connection when it is over (either side closed it, or it dropped). */
  onClosed?: (connection: HttpTransport) => void;
}

/** Random bytes of a connection id: 18, so 24 base64url characters, as unguessable as a session id. */
const CID_BYTES = 18;

/**
 * The HTTP connections of this process by id. A connection id is the only credential of
 * its polls and POSTs, so it is random and never reused. A polling connection the server
 * closed stays known until a poll has taken its last frames and its close, or until it
 * has waited one hold time for that poll; one shared sweep forgets those, so there is no
 * timer per connection.
 */
export class HttpConnections implements HttpConnectionHost {
  private readonly byCid = new Map<string, HttpTransport>();
  /** Closed polling connections whose close the client has not polled yet, with when they closed. */
  private readonly lingering = new Map<HttpTransport, number>();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly requests = new RequestInfoRecorder();

  constructor(private readonly options: HttpConnectionsOptions) {}

  openPolling(url: string, headers: IncomingHttpHeaders, remoteAddress: string): PollingTransport {
    const connection = new PollingTransport(this.newCid(), this.requests.record(url, headers, remoteAddress), this, this.options.polling);
    this.byCid.set(connection.cid, connection);
    return connection;
  }

  /** Start the event stream on `res` (the response of the opening GET). */
  openSse(res: ServerResponse, url: string, headers: IncomingHttpHeaders, remoteAddress: string): SseTransport {
    const connection = new SseTransport(this.newCid(), this.requests.record(url, headers, remoteAddress), this, res);
    this.byCid.set(connection.cid, connection);
    return connection;
  }

  get(cid: string): HttpTransport | undefined {
    return this.byCid.get(cid);
  }

  closed(connection: HttpTransport): void {
    this.options.onClosed?.(connection);
  }

  linger(connection: HttpTransport): void {
    if (this.byCid.get(connection.cid) !== connection) return;
    this.lingering.set(connection, Date.now());
    this.sweeper ??= setInterval(() => this.sweep(Date.now()), Math.max(10, this.options.polling.hold / 2)).unref();
  }

  forget(connection: HttpTransport): void {
    if (this.byCid.get(connection.cid) === connection) this.byCid.delete(connection.cid);
    this.lingering.delete(connection);
    if (this.lingering.size === 0) this.stopSweeping();
  }

  /** Forget closed connections whose client has not come for their close within a hold time. */
  sweep(now: number): void {
    for (const [connection, since] of this.lingering) if (now - since >= this.options.polling.hold) this.forget(connection);
  }

  /** Drop every connection (the server is shutting down, after the sessions were told). */
  closeAll(): void {
    for (const connection of [...this.byCid.values()]) connection.terminate();
    this.byCid.clear();
    this.lingering.clear();
    this.stopSweeping();
  }

  /** `<node>.<random>`: the node part routes a request that reached another node (see http-relay.ts). */
  private newCid(): string {
    const random = randomBytes(CID_BYTES).toString('base64url');
    const node = this.options.node?.();
    return node === undefined ? random : `${node}.${random}`;
  }

  private stopSweeping(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** The node a connection id names, if it names one. */
export function cidNode(cid: string): string | undefined {
  const dot = cid.indexOf('.');
  return dot > 0 ? cid.slice(0, dot) : undefined;
}
