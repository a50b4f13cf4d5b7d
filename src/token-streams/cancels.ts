import { ErrorCode } from '../protocol/error-codes.js';
import { ReplyError } from '../protocol/errors.js';
import { Namespace, Switchboard } from '../server/index.js';
import type { CancelNamespace, CancelServer, CancelSocket } from './cancel-ports.js';
import type { TokenStreamPublisher } from './publisher.js';
import { streamRegistry } from './stream-registry.js';
import { readCancelRequest, TokenStreamErrorCode, TokenStreamRequest } from './wire.js';

type AnyServer = CancelServer<CancelSocket>;
type AnyNamespace = CancelNamespace<CancelSocket>;

/** Options of `acceptTokenStreamCancels()`. */
export interface TokenStreamCancelOptions<S extends CancelSocket = CancelSocket> {
  /** The namespace whose clients may send cancel requests. Default `/`. */
  namespace?: string;
  /**
   * Who may cancel message `id` of `room`: return (or resolve) `true` to allow; `false`, or
   * an error thrown, refuses with `forbidden`. Default: a socket that is in the room (it
   * may read it) may cancel any of its messages.
   */
  authorize?: (socket: S, room: string, id: string) => boolean | Promise<boolean>;
  /**
   * Called when no node of the cluster is streaming the message, nor ended it recently — a
   * producer in a process without a Switchboard (an `Emitter` worker): hand the request to
   * it (your job queue, your own channel; it then calls `stream.cancel()`) and return (or
   * resolve) `true`, and the request is accepted. Default: none (`unknown_stream`).
   */
  relay?: (room: string, id: string, socket: S) => boolean | Promise<boolean>;
}

/** What a node answers another about a cancel: it cancelled the stream, the stream had ended, or it knows none. */
type NodeAnswer = 'cancelled' | 'ended' | null;

/** What one node asks the others (as a server event named like the request). */
interface NodeCancel {
  ns: string;
  room: string;
  id: string;
  message: string;
}

/** What the fail event of a stream cancelled by a reader says. */
export const CANCELLED_BY_READER = 'cancelled by a reader';

/** Per Switchboard: the namespaces that accept cancels, and the one server-event handler that serves them all. */
const accepting = new WeakMap<AnyServer, Map<string, AnyNamespace>>();

/**
 * Answer `token-stream:cancel` requests of clients in one namespace (opt-in): a client's
 * `reader.cancel(id)` stops message `id` of the reader's room — its `TokenStream` is
 * cancelled (`signal` aborted, `token-stream:fail` with code `cancelled` and the text so far).
 * The stream may be on any node: the node that gets the request asks the others
 * (`serverSideEmitWithAck`), and the one streaming the message cancels it, so call this on
 * every node. Found are the streams `startTokenStream()` started in the node's process
 * through this Switchboard, this namespace, or an `Emitter` (any publisher that is not a
 * Switchboard or a Namespace). Returns a function that stops accepting.
 */
export function acceptTokenStreamCancels<S extends CancelSocket>(server: CancelServer<S>, options: TokenStreamCancelOptions<S> = {}): () => void {
  if (typeof server?.of !== 'function' || typeof server.onServerEvent !== 'function' || typeof server.serverSideEmitWithAck !== 'function') {
    throw new TypeError('acceptTokenStreamCancels: the first argument must be a Switchboard');
  }
  const sb = server as unknown as AnyServer;
  const name = options.namespace ?? '/';
  const nsp = server.of(name);
  const authorize = options.authorize ?? ((socket: S, room: string) => socket.rooms.has(room));
  const relay = options.relay;

  let namespaces = accepting.get(sb);
  if (!namespaces) {
    namespaces = new Map();
    accepting.set(sb, namespaces);
    sb.onServerEvent(TokenStreamRequest.Cancel, (data) => answerNode(sb, data));
  }
  if (namespaces.has(name)) throw new Error(`acceptTokenStreamCancels: the namespace "${name}" already accepts cancels`);
  namespaces.set(name, nsp as unknown as AnyNamespace);

  const handlers = new Map<S, (data: unknown) => Promise<void>>();

  /** One handler per socket: it knows its socket. */
  const attach = (socket: S): void => {
    if (handlers.has(socket)) return;
    const onCancel = async (data: unknown): Promise<void> => {
      const request = readCancelRequest(data);
      if (!request) throw new ReplyError(ErrorCode.BadRequest, `${TokenStreamRequest.Cancel}: { room, id } with a room of 1 to 256 characters and an id of 1 to 128`);
      let allowed = false;
      try {
        allowed = (await authorize(socket, request.room, request.id)) === true;
      } catch {
        allowed = false;
      }
      if (!allowed) throw new ReplyError(ErrorCode.Forbidden, `not allowed to cancel message "${request.id}" of "${request.room}"`);
      return handleCancel(sb, nsp as unknown as AnyNamespace, request.room, request.id, relay && (() => relay(request.room, request.id, socket)));
    };
    handlers.set(socket, onCancel);
    socket.on(TokenStreamRequest.Cancel, onCancel);
    socket.on('disconnect', () => handlers.delete(socket));
  };

  for (const socket of nsp.sockets.values()) attach(socket);
  nsp.on('connection', attach);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    nsp.off('connection', attach);
    for (const [socket, onCancel] of handlers) socket.off(TokenStreamRequest.Cancel, onCancel);
    handlers.clear();
    namespaces.delete(name);
  };
}

/** Whether `publisher` is the way `nsp` of `sb` publishes: `sb` itself for `/`, the namespace, or a publisher of no Switchboard (an `Emitter`) with the namespace's name. */
function ownedBy(sb: AnyServer, nsp: AnyNamespace): (publisher: TokenStreamPublisher) => boolean {
  return (publisher) => {
    const it: unknown = publisher;
    if (it === nsp) return true;
    if (it === sb) return nsp.name === '/';
    if (publisher instanceof Switchboard || publisher instanceof Namespace) return false;
    const name = (publisher as { name?: unknown }).name;
    return (typeof name === 'string' ? name : '/') === nsp.name;
  };
}

/** Cancel the stream if this node streams it: `cancelled`, or `ended` when it ended recently, or `null` when this node knows no such stream. */
async function cancelHere(sb: AnyServer, nsp: AnyNamespace, room: string, id: string, message: string): Promise<NodeAnswer> {
  const lookup = streamRegistry.find(room, id, ownedBy(sb, nsp));
  if (lookup.found === 'none') return null;
  if (lookup.found === 'ended') return 'ended';
  // The look-up and the cancel run in one turn: the stream is still streaming, so this cancels it.
  // A rejection means its `fail` could not be published; it stopped all the same.
  await lookup.stream.cancel(message).catch(() => {});
  return 'cancelled';
}

async function handleCancel(sb: AnyServer, nsp: AnyNamespace, room: string, id: string, relay?: () => boolean | Promise<boolean>): Promise<void> {
  const here = await cancelHere(sb, nsp, room, id, CANCELLED_BY_READER);
  if (here === 'cancelled') return;
  if (here === 'ended') throw closed(room, id);
  let answers: unknown[];
  try {
    answers = await sb.serverSideEmitWithAck(TokenStreamRequest.Cancel, { ns: nsp.name, room, id, message: CANCELLED_BY_READER } satisfies NodeCancel);
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    throw new ReplyError(typeof code === 'string' ? code : ErrorCode.InternalError, `the other nodes could not be asked to cancel "${id}"`);
  }
  if (answers.includes('cancelled')) return;
  if (answers.includes('ended')) throw closed(room, id);
  if (relay && (await relay()) === true) return;
  throw new ReplyError(TokenStreamErrorCode.UnknownStream, `no message "${id}" is streaming to "${room}"`);
}

/** Another node's request: cancel the stream if this node holds it, in a namespace that accepts cancels. */
async function answerNode(sb: AnyServer, data: unknown): Promise<NodeAnswer> {
  const { ns, room, id, message } = (data ?? {}) as Partial<NodeCancel>;
  const nsp = typeof ns === 'string' ? accepting.get(sb)?.get(ns) : undefined;
  if (!nsp || typeof room !== 'string' || typeof id !== 'string') return null;
  return cancelHere(sb, nsp, room, id, typeof message === 'string' ? message : CANCELLED_BY_READER);
}

function closed(room: string, id: string): ReplyError {
  return new ReplyError(TokenStreamErrorCode.StreamClosed, `message "${id}" of "${room}" already ended`);
}
