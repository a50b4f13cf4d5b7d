import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode } from '../protocol/close-codes.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { answerError, answerJson, answerTaken, type AnswerTarget } from '../transport/http-answer.js';
import { closeAfterAnswer, readBody } from '../transport/http-body.js';
import { cidNode, HttpConnections } from '../transport/http-connections.js';
import { openingPollBody, parseSendBody, pollBody } from '../transport/http-frames.js';
import type { HttpTransport } from '../transport/http-transport.js';
import { PollingTransport } from '../transport/long-polling.js';
import { type RelayedAnswer, RelayedResponse } from '../transport/relayed-response.js';
import type { Transport, TransportRequestInfo } from '../transport/transport.js';
import type { Admission } from './admission.js';
import type { ClusterAdapter } from '../cluster/adapter.js';
import { type ConnectionError, withOrigin } from './connection-refusals.js';
import { Cors } from './cors.js';
import type { ResolvedOptions, TransportName } from './options.js';

/** What the HTTP transports need of the server. */
export interface HttpTransportsHost {
  readonly options: ResolvedOptions;
  readonly admission: Admission;
  /** The server is shutting down: no new connections. */
  closing(): boolean;
  /** The client's IP of a request (`trustProxy`). */
  clientAddress(req: IncomingMessage): string;
  /** Whether a page from `origin` may connect (`allowedOrigins`); false when the check throws. */
  originAllowed(origin: string, req: IncomingMessage, address?: string): boolean;
  /** Why `origin` is refused. */
  originRefusal(origin: string): string;
  /** A new connection: start its session. */
  startSession(transport: Transport, info: TransportRequestInfo): void;
  /**
   * A client closed on purpose (1000, 1001) a connection that is already gone here, naming
   * its session by resume token: end that session now. False when no session has the token.
   */
  endSessionByToken(token: string, code: number, reason: string): boolean;
  /** A failure that must not take the server down. */
  reportError(err: unknown, context: Record<string, unknown>): void;
  /** A request refused before any session existed (`connection_error`). */
  connectionError(error: ConnectionError): void;
  /** A frame over `maxMessageBytes` closed a connection (1009): for the server's count of refusals. */
  messageTooBig?(transport: string, info: TransportRequestInfo): void;
  /** This node's id starts every connection id made here; `forward` (an adapter that can) reaches the node of another's. */
  readonly cluster: Pick<ClusterAdapter, 'nodeId' | 'forward'>;
}

/** A request for a connection another node holds, as it travels there (see answerForwarded). */
type Forwarded =
  | { kind: 'poll'; cid: string; id: string }
  | { kind: 'unpoll'; id: string }
  | { kind: 'lost'; cid: string }
  | { kind: 'send'; cid: string; body: string | null }
  | { kind: 'close'; cid: string; body: string };

type Endpoint = 'poll' | 'sse' | 'send' | 'close';

const METHODS: Readonly<Record<Endpoint, readonly string[]>> = { poll: ['GET'], sse: ['GET'], send: ['POST'], close: ['POST'] };

/** Milliseconds a node waits for the node holding a connection to answer a forwarded request (a poll: plus its hold). */
const FORWARD_TIMEOUT_MS = 5000;
/** The answer of a poll that carried nothing. */
const EMPTY_POLL = pollBody([]).toString();

/** The largest `POST close` body: a close code and a reason of at most 123 bytes fit easily. */
const MAX_CLOSE_BODY_BYTES = 1024;
const MAX_REASON_BYTES = 123;

/**
 * The HTTP endpoints of long-polling and Server-Sent Events under the WebSocket path:
 * `GET {path}/poll` and `GET {path}/sse` open a connection (with the same origin check,
 * admission and shutdown refusal as a WebSocket upgrade), `GET {path}/poll?cid=` polls,
 * `POST {path}/send?cid=` carries frames up, `POST {path}/close?cid=` closes. Answers to
 * pages on allowed origins carry CORS headers, credentials allowed.
 */
export class HttpTransports {
  private readonly connections: HttpConnections;
  private readonly routes = new Map<string, Endpoint>();
  private readonly cors: Cors;
  /** Polls that arrived at another node and wait here for frames, by request id. */
  private readonly relayedPolls = new Map<string, RelayedResponse>();

  constructor(private readonly host: HttpTransportsHost) {
    const { options, admission } = host;
    this.connections = new HttpConnections({
      polling: options.polling,
      node: () => host.cluster.nodeId,
      onClosed: (connection) => admission.closed(connection.info.remoteAddress, true),
    });
    const base = options.path.endsWith('/') ? options.path.slice(0, -1) : options.path;
    for (const endpoint of Object.keys(METHODS) as Endpoint[]) this.routes.set(`${base}/${endpoint}`, endpoint);
    // Never `*`: a page that sends cookies (credentials) is only answered with its own origin.
    // Refusals are readable: a refused origin gets nothing but its 403 (see handle()).
    this.cors = new Cors(
      {
        allowsAny: false,
        allows: (origin, req) => host.originAllowed(origin, req),
        refusal: (origin) => host.originRefusal(origin),
      },
      true,
    );
  }

  /** Answer `req` if it is for an HTTP transport endpoint; false (and `res` untouched) otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const endpoint = this.routes.get(query === -1 ? url : url.slice(0, query));
    if (endpoint === undefined) return false;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    const origin = req.headers.origin;
    const allowed = origin === undefined || this.host.originAllowed(origin, req);
    if (this.cors.handle(req, res, METHODS[endpoint], allowed)) return true;
    // Every request of a refused page gets this and nothing else: the CORS headers that let it read the refusal let it read no more.
    if (!allowed) {
      this.refuse(req, res, endpoint, 403, ErrorCode.OriginNotAllowed, this.host.originRefusal(origin as string));
      return true;
    }
    if (!this.enabled(endpoint)) {
      const message = `this server does not offer ${describe(endpoint)} (option transports: ${this.host.options.transports.join(', ')})`;
      this.refuse(req, res, endpoint, 403, ErrorCode.TransportDisabled, message);
      return true;
    }
    if (!METHODS[endpoint].includes(req.method ?? '')) {
      answerError(res, 405, ErrorCode.BadRequest, `${req.method} is not answered here; use ${METHODS[endpoint].join(', ')}`, { Allow: [...METHODS[endpoint], 'OPTIONS'].join(', ') });
      return true;
    }
    const cid = query === -1 ? null : new URLSearchParams(url.slice(query + 1)).get('cid');
    const elsewhere = cid === null || endpoint === 'sse' ? undefined : this.otherNode(cid);
    if (elsewhere !== undefined) this.settle(this.relay(elsewhere, endpoint, cid as string, req, res), res, endpoint);
    else if (endpoint === 'sse' || (endpoint === 'poll' && cid === null)) this.open(endpoint === 'sse' ? 'sse' : 'polling', req, res);
    else if (endpoint === 'poll') this.poll(cid as string, res);
    else if (endpoint === 'send') this.settle(this.send(this.openConnection(cid), req, res), res, endpoint);
    else this.settle(this.closeConnection(this.openConnection(cid), req, res), res, endpoint);
    return true;
  }

  /** Refuse a request with `{code, message}`, and report it to `connection_error` (a poll or a send, too: it is a page that cannot connect). */
  private refuse(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, status: number, code: ErrorCode, message: string, headers?: Record<string, string>, address?: string): void {
    answerError(res, status, code, message, headers);
    const transport = endpoint === 'sse' ? 'sse' : 'polling';
    this.host.connectionError(withOrigin({ code, message, transport, address: address ?? this.host.clientAddress(req), status }, req));
  }

  /** A bug while handling a POST is reported, and the request answered, never left hanging or crashing the process. */
  private settle(handling: Promise<void>, res: ServerResponse, endpoint: Endpoint): void {
    handling.catch((err: unknown) => {
      this.host.reportError(err, { phase: `http ${endpoint}` });
      answerError(res, 500, ErrorCode.InternalError, 'the request could not be handled; details are in the server log');
    });
  }

  /** The node a connection id names when it is another node this one can reach: no sticky routing needed. */
  private otherNode(cid: string): string | undefined {
    const node = cidNode(cid);
    return node !== undefined && node !== this.host.cluster.nodeId && this.host.cluster.forward !== undefined ? node : undefined;
  }

  /**
   * A request for a connection another node holds: read here, answered there, written here.
   * A poll this node's client gave up on is called off there; one whose frames arrived
   * after its client left makes that node drop the connection, so the session resumes and
   * replays them — frames are never silently lost between nodes. A node that does not
   * answer is a lost connection (404): the client resumes, on whichever node.
   */
  private async relay(node: string, endpoint: Endpoint, cid: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { cluster } = this.host;
    const forward = (to: string, request: Forwarded, timeoutMs?: number): Promise<unknown> => (cluster.forward as NonNullable<ClusterAdapter['forward']>).call(cluster, to, request, timeoutMs);
    let request: Forwarded;
    let timeoutMs = FORWARD_TIMEOUT_MS;
    if (endpoint === 'poll') {
      const id = randomBytes(9).toString('base64url');
      request = { kind: 'poll', cid, id };
      timeoutMs += this.host.options.polling.hold;
      res.once('close', () => {
        if (!res.writableEnded) void forward(node, { kind: 'unpoll', id } satisfies Forwarded).catch(() => {});
      });
    } else {
      const limit = endpoint === 'send' ? 4 * this.host.options.maxMessageBytes : MAX_CLOSE_BODY_BYTES;
      const read = await readBody(req, limit);
      if (!read.ok && !read.tooBig) return;
      if (!read.ok) closeAfterAnswer(res);
      if (read.ok && !isUtf8(read.body)) {
        answerError(res, 400, ErrorCode.BadRequest, 'the body is not valid UTF-8');
        return;
      }
      const body = read.ok ? read.body.toString() : null;
      if (endpoint === 'close' && body === null) {
        answerError(res, 400, ErrorCode.BadRequest, `a close body is at most ${MAX_CLOSE_BODY_BYTES} bytes`);
        return;
      }
      request = endpoint === 'send' ? { kind: 'send', cid, body } : { kind: 'close', cid, body: body as string };
    }
    let answer: RelayedAnswer;
    try {
      answer = (await forward(node, request, timeoutMs)) as RelayedAnswer;
    } catch {
      unknownConnection(res);
      return;
    }
    if (!answer || answer.status === 0) {
      unknownConnection(res);
      return;
    }
    if (res.destroyed) {
      if (endpoint === 'poll' && answer.status === 200 && answer.body !== EMPTY_POLL) void forward(node, { kind: 'lost', cid } satisfies Forwarded).catch(() => {});
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /** A request that arrived at another node for a connection of this one: answered as if it came here. */
  async answerForwarded(request: unknown): Promise<RelayedAnswer | null> {
    const r = request as Forwarded;
    switch (r.kind) {
      case 'poll': {
        const relayed = new RelayedResponse();
        this.relayedPolls.set(r.id, relayed);
        this.poll(r.cid, relayed);
        const answer = await relayed.answered;
        this.relayedPolls.delete(r.id);
        return answer;
      }
      case 'unpoll':
        this.relayedPolls.get(r.id)?.destroy();
        return null;
      case 'lost':
        // A poll's frames reached the other node after its client left: a lost connection, which the session resumes from.
        this.connections.get(r.cid)?.terminate();
        return null;
      case 'send': {
        const relayed = new RelayedResponse();
        const connection = this.openConnection(r.cid);
        if (r.body === null) {
          if (connection) this.tooBig(connection, relayed, `the body is larger than ${4 * this.host.options.maxMessageBytes} bytes (4 × maxMessageBytes)`);
          else unknownConnection(relayed);
        } else this.deliver(connection, r.body, relayed);
        return relayed.answered;
      }
      case 'close': {
        const relayed = new RelayedResponse();
        this.closeWith(this.openConnection(r.cid), r.body, relayed);
        return relayed.answered;
      }
      default:
        return null;
    }
  }

  /** Drop every HTTP connection (shutdown, once the sessions were closed). */
  close(): void {
    this.connections.closeAll();
  }

  private enabled(endpoint: Endpoint): boolean {
    const { transports } = this.host.options;
    if (endpoint === 'poll') return transports.includes('polling');
    if (endpoint === 'sse') return transports.includes('sse');
    return transports.includes('polling') || transports.includes('sse');
  }

  /** A new connection, with the checks of a WebSocket upgrade in the same order. */
  private open(kind: Exclude<TransportName, 'websocket'>, req: IncomingMessage, res: ServerResponse): void {
    const { host } = this;
    if (host.closing()) {
      answerError(res, 503, ErrorCode.ShuttingDown, 'Switchboard is shutting down; reconnect to another server.');
      return;
    }
    // The origin was checked in handle().
    const address = host.clientAddress(req);
    const endpoint = kind === 'sse' ? 'sse' : 'poll';
    const refused = host.admission.check(address);
    if (refused) {
      this.refuse(req, res, endpoint, refused.status, refused.code, refused.message, refused.headers, address);
      return;
    }
    if (host.admission.isFull()) {
      const max = host.options.maxConnections;
      this.refuse(req, res, endpoint, 503, ErrorCode.ServerFull, `the server holds its maximum of ${max} connections (option maxConnections); try again later`, undefined, address);
      return;
    }
    host.admission.open(address, true);
    const url = req.url ?? '/';
    let connection: HttpTransport;
    if (kind === 'sse') {
      connection = this.connections.openSse(res, url, req.headers, address);
    } else {
      connection = this.connections.openPolling(url, req.headers, address);
      answerJson(res, 200, openingPollBody(connection.cid));
    }
    host.startSession(connection, connection.info);
  }

  private poll(cid: string, res: AnswerTarget): void {
    const connection = this.connections.get(cid);
    if (!(connection instanceof PollingTransport)) {
      unknownConnection(res);
      return;
    }
    connection.poll(res);
  }

  /** The open connection `cid` names, if any: POSTs to a closed one are refused like those to an unknown one. */
  private openConnection(cid: string | null): HttpTransport | undefined {
    const connection = cid === null ? undefined : this.connections.get(cid);
    return connection?.isOpen ? connection : undefined;
  }

  /** Frames from the client, handed to the session in order as if they came on a WebSocket. */
  private async send(connection: HttpTransport | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (connection === undefined) {
      unknownConnection(res);
      return;
    }
    const max = this.host.options.maxMessageBytes;
    const read = await readBody(req, 4 * max);
    if (!read.ok) {
      if (!read.tooBig) return;
      closeAfterAnswer(res);
      this.tooBig(connection, res, `the body is larger than ${4 * max} bytes (4 × maxMessageBytes)`);
      return;
    }
    if (!isUtf8(read.body)) {
      answerError(res, 400, ErrorCode.BadRequest, 'the body is not valid UTF-8');
      return;
    }
    this.deliver(connection, read.body.toString(), res);
  }

  /** A POST body's frames, handed to the session in order. */
  private deliver(connection: HttpTransport | undefined, text: string, res: AnswerTarget): void {
    if (connection === undefined || !connection.isOpen) {
      unknownConnection(res);
      return;
    }
    const max = this.host.options.maxMessageBytes;
    const body = parseSendBody(text);
    if (!body.ok) {
      answerError(res, 400, ErrorCode.BadRequest, body.message);
      return;
    }
    connection.touched();
    for (const frame of body.frames) {
      if (Buffer.byteLength(frame) > max) {
        this.tooBig(connection, res, `a frame is larger than maxMessageBytes (${max} bytes)`);
        return;
      }
      connection.receive(frame);
      if (!connection.isOpen) break;
    }
    answerTaken(res);
  }

  /** As on a WebSocket, a frame over the limit closes the connection with 1009; the client resumes on a new one. */
  private tooBig(connection: HttpTransport, res: AnswerTarget, message: string): void {
    this.host.messageTooBig?.(connection.kind, connection.info);
    connection.close(CloseCode.MessageTooBig, ErrorCode.MessageTooBig);
    answerError(res, 413, ErrorCode.MessageTooBig, `${message}; the connection is closed (1009)`);
  }

  private async closeConnection(connection: HttpTransport | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Read even for a connection that is gone: the body may name its session (see closeWith).
    const read = await readBody(req, MAX_CLOSE_BODY_BYTES);
    if (!read.ok) {
      if (!read.tooBig) return;
      closeAfterAnswer(res);
      answerError(res, 400, ErrorCode.BadRequest, `a close body is at most ${MAX_CLOSE_BODY_BYTES} bytes`);
      return;
    }
    this.closeWith(connection, read.body.toString(), res);
  }

  private closeWith(connection: HttpTransport | undefined, text: string, res: AnswerTarget): void {
    const close = parseClose(text);
    if (connection === undefined) {
      // A closing page's beacon can arrive after its event stream was seen to drop (1006: the
      // session waits for a resume); its resume token names the session, which ends now.
      const leaving = typeof close !== 'string' && close.resume !== undefined && leftOnPurpose(close.code);
      if (leaving && this.host.endSessionByToken(close.resume as string, close.code, close.reason)) answerTaken(res);
      else unknownConnection(res);
      return;
    }
    if (typeof close === 'string') {
      answerError(res, 400, ErrorCode.BadRequest, close);
      return;
    }
    connection.closedByClient(close.code, close.reason);
    answerTaken(res);
  }
}

/** Codes with which a client leaves for good, as on a WebSocket: the session ends. */
function leftOnPurpose(code: number): boolean {
  return code === CloseCode.Normal || code === CloseCode.GoingAway;
}

/**
 * A `POST close` body: `{"code":N,"reason":"...","resume":"..."}`, all optional; a string
 * says what is wrong. `resume` is the session's resume token, used when the connection is gone.
 */
export function parseClose(text: string): { code: number; reason: string; resume?: string } | string {
  if (text.trim() === '') return { code: CloseCode.Normal, reason: '' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the close body is not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the close body must be an object {"code":N,"reason":"..."}';
  const { code = CloseCode.Normal, reason = '' } = value as { code?: unknown; reason?: unknown };
  // The codes a WebSocket client may send (RFC 6455 7.4): 1005, 1006 and 1015 only report what happened locally.
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 1000 || code > 4999 || code === 1005 || code === 1006 || code === 1015) {
    return `close code ${JSON.stringify(code)} is not one a client may send (1000–4999, not 1005, 1006 or 1015)`;
  }
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_REASON_BYTES) return `the close reason must be a string of at most ${MAX_REASON_BYTES} bytes`;
  const { resume } = value as { resume?: unknown };
  if (resume === undefined) return { code, reason };
  if (typeof resume !== 'string') return 'resume must be a resume token (a string)';
  return { code, reason, resume };
}

function unknownConnection(res: AnswerTarget): void {
  answerError(res, 404, ErrorCode.UnknownConnection, 'no open connection with this cid here (unknown, closed, or on another server): open a new connection and resume the session');
}

function describe(endpoint: Endpoint): string {
  if (endpoint === 'poll') return 'HTTP long-polling';
  if (endpoint === 'sse') return 'Server-Sent Events';
  return 'HTTP transports';
}
