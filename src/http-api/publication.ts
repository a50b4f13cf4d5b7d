import { MAX_FRAME_DEPTH, MAX_NAME_LENGTH, ROOT_NAMESPACE } from '../protocol/constants.js';
import { assertEmittable } from '../protocol/event-names.js';
import { nestsDeeperThan } from '../protocol/nesting.js';
import { MAX_USER_ID_LENGTH } from '../protocol/user-rooms.js';
import { badField } from './http-errors.js';

/** Longest idempotency key. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** A publication the API was asked for, checked: where it goes and what it carries. */
export interface Publication {
  ns: string;
  /** Exactly one of `room` and `user`. */
  room?: string;
  user?: string;
  event: string;
  data: unknown;
  /** Rooms whose members are left out (a socket id is a room). */
  except: string[];
  volatile: boolean;
  idempotencyKey?: string;
}

const PUBLICATION_FIELDS = new Set(['ns', 'room', 'user', 'event', 'data', 'except', 'volatile', 'idempotencyKey']);

/**
 * Check a publication of a request body (`where` is its place in the body, '' for the body
 * itself, `publications[2]` in a batch). Unknown fields are refused: a misspelt `evnet`
 * must not publish an event without a name. The message names the field at fault.
 */
export function parsePublication(value: unknown, where = ''): Publication {
  const at = (field: string): string => (where ? `${where}.${field}` : field);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badField(where || 'body', 'must be a JSON object');
  const body = value as Record<string, unknown>;
  for (const field of Object.keys(body)) {
    if (!PUBLICATION_FIELDS.has(field)) throw badField(at(field), `unknown field (a publication has ${[...PUBLICATION_FIELDS].join(', ')})`);
  }
  const ns = body.ns === undefined ? ROOT_NAMESPACE : namespaceName(body.ns, at('ns'));
  if ((body.room === undefined) === (body.user === undefined)) throw badField(at(body.room === undefined ? 'room' : 'user'), 'give exactly one of room and user');
  const publication: Publication = { ns, event: eventName(body.event, at('event')), data: body.data, except: [], volatile: false };
  if (body.room !== undefined) publication.room = roomName(body.room, at('room'));
  else publication.user = userId(body.user, at('user'));
  if (body.data !== undefined && nestsDeeperThan(body.data, MAX_FRAME_DEPTH - 1)) throw badField(at('data'), `nests arrays and objects more than ${MAX_FRAME_DEPTH - 1} levels deep`);
  if (body.except !== undefined) {
    const except = typeof body.except === 'string' ? [body.except] : body.except;
    if (!Array.isArray(except)) throw badField(at('except'), 'must be a room name or an array of room names');
    publication.except = except.map((room, i) => roomName(room, `${at('except')}[${i}]`));
  }
  if (body.volatile !== undefined) {
    if (typeof body.volatile !== 'boolean') throw badField(at('volatile'), 'must be true or false');
    publication.volatile = body.volatile;
  }
  if (body.idempotencyKey !== undefined) publication.idempotencyKey = idempotencyKey(body.idempotencyKey, at('idempotencyKey'));
  return publication;
}

export function namespaceName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > MAX_NAME_LENGTH) throw badField(field, `must be a namespace name: a string starting with "/", at most ${MAX_NAME_LENGTH} characters`);
  return value;
}

export function roomName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) throw badField(field, `must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
  return value;
}

export function userId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_USER_ID_LENGTH) throw badField(field, `must be a user id: a string of 1 to ${MAX_USER_ID_LENGTH} characters`);
  return value;
}

export function eventName(value: unknown, field: string): string {
  if (typeof value !== 'string') throw badField(field, 'must be an event name (a string)');
  try {
    assertEmittable(value);
  } catch (err) {
    throw badField(field, (err as Error).message);
  }
  return value;
}

/** A key is 1 to 255 visible ASCII characters (a UUID, a hash, `order-42-notice`). */
export function idempotencyKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value) || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw badField(field, `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters`);
  }
  return value;
}

/**
 * A publication's identity for idempotency: the same publication gives the same text
 * whatever the order of the keys in its JSON (objects are written with sorted keys).
 * The idempotency key itself is left out: it names the request, it is not part of it.
 */
export function publicationFingerprint(route: string, p: Publication): string {
  return canonicalJson([route, p.ns, p.room ?? null, p.user ?? null, p.event, p.data, p.except, p.volatile]);
}

/** Text written between values: a class of its own, never confused with the data's objects. */
class Piece {
  constructor(readonly text: string) {}
}

/** JSON with object keys sorted. Iterative over a stack: the value is as deep as the body allowed. */
export function canonicalJson(value: unknown): string {
  let out = '';
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof Piece) {
      out += item.text;
    } else if (Array.isArray(item)) {
      out += '[';
      stack.push(new Piece(']'));
      for (let i = item.length - 1; i >= 0; i--) {
        stack.push(item[i]);
        if (i > 0) stack.push(new Piece(','));
      }
    } else if (typeof item === 'object' && item !== null) {
      const keys = Object.keys(item).sort();
      out += '{';
      stack.push(new Piece('}'));
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        stack.push((item as Record<string, unknown>)[key]);
        stack.push(new Piece(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`));
      }
    } else {
      out += JSON.stringify(item ?? null);
    }
  }
  return out;
}
