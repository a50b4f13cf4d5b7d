/**
 * What a user of `switchboard connect` can ask for, parsed from an interactive line
 * (`join lobby --since kx9Qe2:12`) or from a `--json` line (`{"cmd":"join","room":"lobby"}`).
 * Pure: both front ends share one set of commands, so they cannot drift apart.
 */
import type { StreamPosition } from '../../protocol/frames.js';

/** The id a `--json` line may carry, echoed on its reply so scripts can match them. */
export type CommandId = string | number;

export type ConnectAction =
  | { cmd: 'join'; room: string; since?: StreamPosition }
  | { cmd: 'leave'; room: string }
  | { cmd: 'emit'; event: string; data?: unknown }
  | { cmd: 'request'; event: string; data?: unknown; timeout?: number }
  | { cmd: 'history'; room: string; limit?: number; since?: StreamPosition }
  | { cmd: 'presence'; room: string }
  | { cmd: 'rooms' }
  | { cmd: 'status' }
  | { cmd: 'reconnect' }
  | { cmd: 'help' }
  | { cmd: 'quit' };

export type ActionName = ConnectAction['cmd'];

/** Usage of each command, in the order `help` lists them. */
export const COMMAND_USAGE: Readonly<Record<ActionName, string>> = {
  join: 'join <room> [--since <epoch:offset>]   join a room (a durable one from a position)',
  leave: 'leave <room>                            leave a room',
  emit: 'emit <event> [json]                     send an event (no reply)',
  request: 'request <event> [json]                  send a request; shows the reply or error and the latency',
  history: 'history <room> [limit] [--since <epoch:offset>]   read a durable room\'s history',
  presence: 'presence <room>                         who is in a room with presence tracking',
  rooms: 'rooms                                   the rooms joined with `join`',
  status: 'status                                  state, session id, transport, namespace, rooms',
  reconnect: 'reconnect                               try to connect now (after the client stopped)',
  help: 'help                                    this list',
  quit: 'quit                                    close the connection and exit',
};

export const ACTION_NAMES = Object.keys(COMMAND_USAGE) as ActionName[];

/** Bad input: the message is shown on one line and the session goes on. */
export class CommandError extends Error {
  override name = 'CommandError';
  readonly code = 'bad_command';
  constructor(message: string, readonly id?: CommandId) {
    super(message);
  }
}

/** `epoch:offset` (the epoch may itself contain colons: the offset is after the last one). */
export function parsePosition(text: string): StreamPosition {
  const at = text.lastIndexOf(':');
  const epoch = text.slice(0, at);
  const offsetText = text.slice(at + 1);
  if (at <= 0 || !/^\d+$/.test(offsetText)) throw new CommandError(`a position is <epoch>:<offset>, e.g. kx9Qe2:12 (got "${text}")`);
  return { epoch, offset: Number(offsetText) };
}

export function formatPosition(position: StreamPosition): string {
  return `${position.epoch}:${position.offset}`;
}

/** Parse one interactive line. Returns undefined for a blank line. */
export function parseCommandLine(line: string): ConnectAction | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  const [word = '', rest = ''] = splitFirst(trimmed);
  const cmd = word.toLowerCase();
  switch (cmd) {
    case 'join': {
      const { words, since } = takeSince(rest);
      return { cmd, room: oneWord(cmd, words, 'room'), ...(since && { since }) };
    }
    case 'leave':
    case 'presence':
      return { cmd, room: oneWord(cmd, rest.split(/\s+/).filter(Boolean), 'room') };
    case 'emit':
    case 'request': {
      const [event = '', json = ''] = splitFirst(rest);
      if (event === '') throw new CommandError(`usage: ${COMMAND_USAGE[cmd]}`);
      return json === '' ? { cmd, event } : { cmd, event, data: parseJson(json) };
    }
    case 'history': {
      const { words, since } = takeSince(rest);
      const [room, limitText, ...extra] = words;
      if (room === undefined || extra.length > 0) throw new CommandError(`usage: ${COMMAND_USAGE.history}`);
      const limit = limitText === undefined ? undefined : parseLimit(limitText);
      return { cmd, room, ...(limit !== undefined && { limit }), ...(since && { since }) };
    }
    case 'rooms':
    case 'status':
    case 'reconnect':
    case 'help':
    case 'quit':
      if (rest !== '') throw new CommandError(`${cmd} takes no arguments`);
      return { cmd };
    case 'exit':
      return { cmd: 'quit' };
    default:
      throw new CommandError(`unknown command "${word}" (type help for the list)`);
  }
}

/** Parse one `--json` line: the action and the id it carries, if any. */
export function parseJsonCommand(line: string): { action: ConnectAction; id?: CommandId } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new CommandError(`not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CommandError('a command is a JSON object like {"cmd":"join","room":"lobby"}');
  const fields = value as Record<string, unknown>;
  const id = fields.id;
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') throw new CommandError('"id" must be a string or a number');
  try {
    return { action: actionFromFields(fields), ...(id !== undefined && { id }) };
  } catch (error) {
    if (error instanceof CommandError) throw new CommandError(error.message, id);
    throw error;
  }
}

function actionFromFields(f: Record<string, unknown>): ConnectAction {
  const cmd = f.cmd;
  if (typeof cmd !== 'string' || !ACTION_NAMES.includes(cmd as ActionName)) {
    throw new CommandError(`"cmd" must be one of ${ACTION_NAMES.join(', ')}`);
  }
  const known = new Set(['cmd', 'id', ...FIELDS[cmd as ActionName]]);
  const unknown = Object.keys(f).find((k) => !known.has(k));
  if (unknown !== undefined) throw new CommandError(`${cmd} has no field "${unknown}"`);
  switch (cmd as ActionName) {
    case 'join':
      return { cmd: 'join', room: str(f, 'room'), ...(f.since !== undefined && { since: since(f.since) }) };
    case 'leave':
      return { cmd: 'leave', room: str(f, 'room') };
    case 'presence':
      return { cmd: 'presence', room: str(f, 'room') };
    case 'emit':
      return { cmd: 'emit', event: str(f, 'event'), ...('data' in f && { data: f.data }) };
    case 'request': {
      if (f.timeout !== undefined && (typeof f.timeout !== 'number' || !(f.timeout >= 0))) throw new CommandError('"timeout" must be a number of milliseconds (0: none)');
      return { cmd: 'request', event: str(f, 'event'), ...('data' in f && { data: f.data }), ...(f.timeout !== undefined && { timeout: f.timeout as number }) };
    }
    case 'history': {
      if (f.limit !== undefined && (typeof f.limit !== 'number' || !Number.isInteger(f.limit))) throw new CommandError('"limit" must be an integer');
      return { cmd: 'history', room: str(f, 'room'), ...(f.limit !== undefined && { limit: f.limit as number }), ...(f.since !== undefined && { since: since(f.since) }) };
    }
    default:
      return { cmd: cmd as 'rooms' | 'status' | 'reconnect' | 'help' | 'quit' };
  }
}

const FIELDS: Readonly<Record<ActionName, readonly string[]>> = {
  join: ['room', 'since'],
  leave: ['room'],
  emit: ['event', 'data'],
  request: ['event', 'data', 'timeout'],
  history: ['room', 'limit', 'since'],
  presence: ['room'],
  rooms: [],
  status: [],
  reconnect: [],
  help: [],
  quit: [],
};

function str(f: Record<string, unknown>, key: string): string {
  const value = f[key];
  if (typeof value !== 'string' || value === '') throw new CommandError(`${String(f.cmd)} needs "${key}" (a non-empty string)`);
  return value;
}

/** `since` as `{epoch, offset}` or as the interactive `"epoch:offset"`. */
function since(value: unknown): StreamPosition {
  if (typeof value === 'string') return parsePosition(value);
  const p = value as Partial<StreamPosition> | null;
  if (typeof p === 'object' && p !== null && typeof p.epoch === 'string' && Number.isInteger(p.offset)) return { epoch: p.epoch, offset: p.offset as number };
  throw new CommandError('"since" must be {"epoch":string,"offset":integer} or "epoch:offset"');
}

function splitFirst(text: string): [string, string] {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text.trim());
  return match ? [match[1] ?? '', (match[2] ?? '').trim()] : ['', ''];
}

function takeSince(rest: string): { words: string[]; since?: StreamPosition } {
  const words = rest.split(/\s+/).filter(Boolean);
  const at = words.indexOf('--since');
  if (at === -1) return { words };
  const value = words[at + 1];
  if (value === undefined) throw new CommandError('--since needs a position <epoch>:<offset>');
  words.splice(at, 2);
  return { words, since: parsePosition(value) };
}

function oneWord(cmd: ActionName, words: string[], what: string): string {
  if (words.length !== 1) throw new CommandError(`usage: ${COMMAND_USAGE[cmd]}` + (words.length === 0 ? ` (the ${what} is missing)` : ''));
  return words[0] as string;
}

function parseLimit(text: string): number {
  if (!/^\d+$/.test(text)) throw new CommandError(`the limit is a whole number (got "${text}")`);
  return Number(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CommandError(`bad JSON: ${(error as Error).message}`);
  }
}
