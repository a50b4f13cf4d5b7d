/**
 * Users as addresses: every socket whose middleware set `socket.user` is in the room named
 * by its user, so a message to that room reaches every tab and device of the user. The
 * prefix keeps user rooms apart from the app's own room names; the server admits a client
 * to its own user room and refuses every other one (see docs/PROTOCOL.md "User rooms").
 */

/** What every user room's name starts with. */
export const USER_ROOM_PREFIX = '#user:';

/** Longest user id, in UTF-16 code units: with the prefix, a user room stays a valid room name (256). */
export const MAX_USER_ID_LENGTH = 200;

/** Why `id` is not a user id (a string of 1 to 200 UTF-16 code units), or undefined when it is one. */
export function userIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `a user id is a string, got ${id === null ? 'null' : typeof id}`;
  if (id.length === 0) return 'a user id cannot be empty';
  if (id.length > MAX_USER_ID_LENGTH) return `a user id has at most ${MAX_USER_ID_LENGTH} UTF-16 code units, got ${id.length}`;
  return undefined;
}

/** The room every socket of user `id` is in: `'#user:' + id`. Throws a TypeError for an id that is not 1 to 200 code units. */
export function userRoom(id: string): string {
  const problem = userIdProblem(id);
  if (problem) throw new TypeError(problem);
  return USER_ROOM_PREFIX + id;
}

/**
 * The rooms of `ids` (one id or several). An empty list throws a TypeError: `to([])`
 * selects the whole namespace, and a list of users that happens to be empty must never
 * turn into a message to everyone.
 */
export function userRooms(ids: string | readonly string[]): string | string[] {
  if (typeof ids === 'string') return userRoom(ids);
  if (ids.length === 0) throw new TypeError('toUser() needs at least one user id: an empty list would select every socket');
  return ids.map(userRoom);
}

/** Whether `room` is a user room (any user's). */
export function isUserRoom(room: string): boolean {
  return room.startsWith(USER_ROOM_PREFIX);
}
