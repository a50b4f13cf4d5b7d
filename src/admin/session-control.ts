import { ReplyError } from '../server/index.js';
import type { AdminServer } from './server-ports.js';

/** What the page asks for: `disconnectSession` with `{ ns, id }`. */
export interface DisconnectRequest {
  ns: string;
  id: string;
}

/**
 * Disconnects one session, on whichever node holds it: the socket `id` of namespace `ns`
 * (one of the dashboard's `namespaces`) is disconnected with its whole connection
 * (`disconnectSockets(true)`: the client does not reconnect by itself). Resolves
 * `{ found: false }` when no such session exists any more.
 */
export async function disconnectSession(server: AdminServer, namespaces: readonly string[], request: unknown): Promise<{ found: boolean }> {
  const { ns, id } = parse(request, namespaces);
  const selection = server.of(ns).in(id);
  // `in(id)` selects the members of the room named `id`: only the session's private room
  // has exactly that socket, so a room name sent as an id disconnects nobody.
  const members = await selection.fetchSockets();
  if (members.length === 0 || members.some((socket) => socket.id !== id)) return { found: false };
  await selection.disconnectSockets(true);
  return { found: true };
}

function parse(request: unknown, namespaces: readonly string[]): DisconnectRequest {
  const { ns, id } = (typeof request === 'object' && request !== null ? request : {}) as Partial<Record<keyof DisconnectRequest, unknown>>;
  if (typeof ns !== 'string' || !namespaces.includes(ns)) {
    throw new ReplyError('bad_request', `disconnectSession: ns must be one of the dashboard's namespaces (${namespaces.join(', ')})`);
  }
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw new ReplyError('bad_request', 'disconnectSession: id must be a session id');
  return { ns, id };
}
