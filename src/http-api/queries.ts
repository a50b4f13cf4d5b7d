import { ROOT_NAMESPACE } from '../protocol/constants.js';
import type { StreamPosition } from '../protocol/frames.js';
import { MAX_HISTORY_LIMIT } from '../protocol/constants.js';
import { userRoom } from '../protocol/user-rooms.js';
import { encodeTextForm, hasBinary } from '../protocol/binary.js';
import { badField } from './http-errors.js';
import type { HttpApiAction } from './options.js';
import { namespaceName, roomName, userId } from './publication.js';
import type { ApiServer } from './server-ports.js';

/** One answer of a query route: the JSON body of a 200. */
export type QueryAnswer = Record<string, unknown>;

/** The parameters of a GET route: each known name at most once, no unknown ones. */
export function queryParams(search: URLSearchParams, allowed: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of search) {
    if (!allowed.includes(name)) throw badField(name, `unknown parameter (this route takes ${allowed.join(', ')})`);
    if (params.has(name)) throw badField(name, 'given more than once');
    params.set(name, value);
  }
  return params;
}

function nsParam(params: Map<string, string>): string {
  const ns = params.get('ns');
  return ns === undefined ? ROOT_NAMESPACE : namespaceName(ns, 'ns');
}

/** The room or the user a request names: exactly one. */
function roomOrUser(params: Map<string, string>): { room: string; user?: undefined } | { user: string; room?: undefined } {
  const room = params.get('room');
  const user = params.get('user');
  if ((room === undefined) === (user === undefined)) throw badField(room === undefined ? 'room' : 'user', 'give exactly one of room and user');
  return room !== undefined ? { room: roomName(room, 'room') } : { user: userId(user, 'user') };
}

export const PRESENCE_PARAMS = ['ns', 'room'] as const;
export const HISTORY_PARAMS = ['ns', 'room', 'user', 'sinceEpoch', 'sinceOffset', 'limit'] as const;
export const SESSIONS_PARAMS = ['ns', 'user'] as const;

export function presenceAction(params: Map<string, string>): HttpApiAction {
  const room = params.get('room');
  if (room === undefined) throw badField('room', 'required');
  return { action: 'presence', ns: nsParam(params), room: roomName(room, 'room') };
}

export async function presence(server: ApiServer, action: HttpApiAction): Promise<QueryAnswer> {
  return { members: await server.of(action.ns).presence(action.room as string) };
}

/** A history request: the action the authorize hook sees, and where to read from. */
export interface HistoryRequest {
  action: HttpApiAction;
  since?: StreamPosition;
  limit?: number;
}

export function historyAction(params: Map<string, string>): HistoryRequest {
  const request: HistoryRequest = { action: { action: 'history', ns: nsParam(params), ...roomOrUser(params) } };
  const epoch = params.get('sinceEpoch');
  const offset = params.get('sinceOffset');
  if ((epoch === undefined) !== (offset === undefined)) throw badField(epoch === undefined ? 'sinceEpoch' : 'sinceOffset', 'sinceEpoch and sinceOffset go together');
  if (epoch !== undefined && offset !== undefined) {
    if (epoch === '') throw badField('sinceEpoch', 'must not be empty');
    if (!/^\d{1,15}$/.test(offset)) throw badField('sinceOffset', 'must be a non-negative integer');
    request.since = { epoch, offset: Number(offset) };
  }
  const limit = params.get('limit');
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_HISTORY_LIMIT) throw badField('limit', `must be an integer from 1 to ${MAX_HISTORY_LIMIT}`);
    request.limit = Number(limit);
  }
  return request;
}

/**
 * A durable room's (or user channel's) history. A publication whose data holds binary
 * values (published by a Node server or a client) is given in the text form of
 * docs/PROTOCOL.md: `{"$bin":"<base64>"}` markers and `"bin": n`.
 */
export async function history(server: ApiServer, request: HistoryRequest): Promise<QueryAnswer> {
  const { action } = request;
  const room = action.room ?? userRoom(action.user as string);
  const options: { since?: StreamPosition; limit?: number } = {};
  if (request.since) options.since = request.since;
  if (request.limit !== undefined) options.limit = request.limit;
  const reply = await server.of(action.ns).history(room, options);
  const publications = reply.publications.map((p) => (hasBinary(p.data) ? (JSON.parse(encodeTextForm(p)) as unknown) : p));
  return { publications, position: reply.position };
}

export function sessionsAction(params: Map<string, string>): HttpApiAction {
  const user = params.get('user');
  if (user === undefined) throw badField('user', 'required');
  const action: HttpApiAction = { action: 'sessions', ns: nsParam(params), user: userId(user, 'user') };
  return action;
}

/** A user's sessions: in one namespace when `ns` is given, in every namespace otherwise. */
export async function sessions(server: ApiServer, action: HttpApiAction, nsGiven: boolean): Promise<QueryAnswer> {
  const user = action.user as string;
  return { sessions: nsGiven ? await server.of(action.ns).userSessions(user) : await server.userSessions(user) };
}

const DISCONNECT_FIELDS = new Set(['ns', 'user']);

export function disconnectAction(body: Record<string, unknown>): HttpApiAction {
  for (const field of Object.keys(body)) if (!DISCONNECT_FIELDS.has(field)) throw badField(field, 'unknown field (a disconnect has ns, user)');
  if (body.user === undefined) throw badField('user', 'required');
  return { action: 'disconnect', ns: body.ns === undefined ? ROOT_NAMESPACE : namespaceName(body.ns, 'ns'), user: userId(body.user, 'user') };
}

/** Disconnect a user: in one namespace when `ns` is given, everywhere otherwise. */
export async function disconnect(server: ApiServer, action: HttpApiAction, nsGiven: boolean): Promise<QueryAnswer> {
  const user = action.user as string;
  if (nsGiven) await server.of(action.ns).disconnectUser(user);
  else await server.disconnectUser(user);
  return {};
}
