/**
 * Long-polling requests for a connection another node holds. A sid starts with the id of
 * the node that made it, so the node a request reaches can forward it there
 * (`cluster.forward`) and write back the answer, as src/server/http-transports.ts does for
 * native connection ids: no sticky sessions needed. A node that does not answer is a lost
 * connection, which the client hears as an unknown sid (code 1) and opens a new one.
 * WebSocket upgrades cannot travel this way: they are answered where they arrive.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterAdapter } from '../../cluster/adapter.js';
import type { AnswerTarget } from '../../transport/http-answer.js';
import { closeAfterAnswer } from '../../transport/http-body.js';
import { cidNode } from '../../transport/http-connections.js';
import { type RelayedAnswer, RelayedResponse } from '../../transport/relayed-response.js';
import { answerEngineError, engineRefusal, EngineErrorCode } from './engine-errors.js';
import { readPostBody, type PostBody } from './engine-polling.js';

/** The door every forwarded Engine.IO request names, so the receiving node tells it from the native transports' own. */
export const ENGINE_DOOR = 'socket.io';

/** A polling request for an existing connection, as checked on the node that holds it. */
export interface SidRequest {
  sid: string;
  /** The `EIO` query parameter. */
  eio: string | null;
  /** The `transport` query parameter. */
  transport: string;
  method: 'GET' | 'POST';
  body?: PostBody;
}

/** A request as it travels to the node that holds its connection (see answer()). */
export type ForwardedEngineRequest =
  | ({ door: typeof ENGINE_DOOR; kind: 'request'; id: string } & SidRequest)
  /** The client of a relayed poll left before it was answered. */
  | { door: typeof ENGINE_DOOR; kind: 'unpoll'; id: string }
  /** A relayed poll's packets reached a node whose client had left. */
  | { door: typeof ENGINE_DOOR; kind: 'lost'; sid: string };

export function isForwardedEngineRequest(request: unknown): request is ForwardedEngineRequest {
  return typeof request === 'object' && request !== null && (request as { door?: unknown }).door === ENGINE_DOOR;
}

export interface EngineRelayHost {
  readonly cluster: Pick<ClusterAdapter, 'nodeId' | 'forward'>;
  /** Longest a poll may be held (a ping ends an idle one): pingInterval + pingTimeout. */
  readonly longestPoll: number;
  readonly maxPayload: number;
  /** Answer a request for a connection of this node. */
  serve(request: SidRequest, res: AnswerTarget): void;
  /** A relayed poll's packets were lost: the connection ends. */
  lost(sid: string): void;
}

/** Milliseconds a node waits for the node holding a connection to answer (a poll: plus its longest hold). */
const FORWARD_TIMEOUT_MS = 5000;
/** A poll answer that carried nothing but a noop can be lost without harm. */
const NOOP_ANSWER = '6';

export class EngineRelay {
  /** Polls that arrived at another node and are held here, by request id. */
  private readonly relayedPolls = new Map<string, RelayedResponse>();

  constructor(private readonly host: EngineRelayHost) {}

  /** The node a sid names, when it is another node this one can reach. */
  otherNode(sid: string): string | undefined {
    const node = cidNode(sid);
    const { cluster } = this.host;
    return node !== undefined && node !== cluster.nodeId && cluster.forward !== undefined ? node : undefined;
  }

  /** Read here, answered there, written here. */
  async relay(node: string, request: SidRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = randomBytes(9).toString('base64url');
    let timeoutMs = FORWARD_TIMEOUT_MS;
    if (request.method === 'GET') {
      timeoutMs += this.host.longestPoll;
      res.once('close', () => {
        if (!res.writableEnded) void this.forward(node, { door: ENGINE_DOOR, kind: 'unpoll', id }).catch(() => {});
      });
    } else {
      request.body = await readPostBody(req, this.host.maxPayload);
      if (request.body.kind === 'too-big') closeAfterAnswer(res);
    }
    let answer: RelayedAnswer | null;
    try {
      answer = (await this.forward(node, { door: ENGINE_DOOR, kind: 'request', id, ...request }, timeoutMs)) as RelayedAnswer | null;
    } catch {
      answer = null;
    }
    if (!answer || answer.status === 0) {
      answerEngineError(res, engineRefusal(EngineErrorCode.UnknownSid));
      return;
    }
    if (res.destroyed || res.writableEnded) {
      if (request.method === 'GET' && answer.status === 200 && answer.body !== NOOP_ANSWER) {
        void this.forward(node, { door: ENGINE_DOOR, kind: 'lost', sid: request.sid }).catch(() => {});
      }
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /** A request that arrived at another node for a connection of this one: answered as if it came here. */
  async answer(request: ForwardedEngineRequest): Promise<RelayedAnswer | null> {
    switch (request.kind) {
      case 'request': {
        const { door: _door, kind: _kind, id, ...sidRequest } = request;
        const relayed = new RelayedResponse();
        if (sidRequest.method === 'GET') this.relayedPolls.set(id, relayed);
        this.host.serve(sidRequest, relayed);
        const answer = await relayed.answered;
        this.relayedPolls.delete(id);
        return answer;
      }
      case 'unpoll':
        this.relayedPolls.get(request.id)?.destroy();
        return null;
      case 'lost':
        this.host.lost(request.sid);
        return null;
      default:
        return null;
    }
  }

  /** Shutdown: let every relayed poll go. */
  close(): void {
    for (const relayed of this.relayedPolls.values()) relayed.destroy();
    this.relayedPolls.clear();
  }

  private forward(node: string, request: ForwardedEngineRequest, timeoutMs?: number): Promise<unknown> {
    const { cluster } = this.host;
    return (cluster.forward as NonNullable<ClusterAdapter['forward']>).call(cluster, node, request, timeoutMs);
  }
}
