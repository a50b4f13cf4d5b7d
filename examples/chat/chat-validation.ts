import { ReplyError } from '../../src/server/index.js';
import { ChatErrorCode } from './chat-events.js';

/**
 * Checks for everything that arrives from a page. Each function returns the cleaned
 * value or throws a ReplyError whose message is written to be shown to a person as is.
 * Lengths count characters as people see them (code points), so an emoji counts 1.
 */

export const NAME_MAX = 32;
export const ROOM_MAX = 40;
export const TEXT_MAX = 1000;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** C0/C1 controls, line/paragraph separators and bidi overrides: invisible, and able to garble a line. */
const CONTROL = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
/** The same minus newline and tab, which a message may contain. */
const CONTROL_IN_TEXT = /[\0-\x08\x0B-\x1F\x7F-\x9F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
const ROOM_CHARS = /^[\p{L}\p{N} _-]+$/u;

export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** A display name: 1–32 characters after trimming, no control characters. */
export function parseName(value: unknown): string {
  if (typeof value !== 'string') throw new ReplyError(ChatErrorCode.InvalidName, 'Please choose a display name.');
  const name = value.trim();
  if (name === '') throw new ReplyError(ChatErrorCode.InvalidName, 'Please choose a display name.');
  if (characterCount(name) > NAME_MAX) throw new ReplyError(ChatErrorCode.InvalidName, `Names are at most ${NAME_MAX} characters.`);
  if (CONTROL.test(name)) throw new ReplyError(ChatErrorCode.InvalidName, 'Names cannot contain control characters.');
  return name;
}

/** A room name: 1–40 letters, digits, spaces, - and _ (runs of spaces become one). */
export function parseRoomName(value: unknown): string {
  if (typeof value !== 'string') throw new ReplyError(ChatErrorCode.InvalidRoom, 'Please name the room.');
  const room = value.trim().replace(/ {2,}/g, ' ');
  if (room === '') throw new ReplyError(ChatErrorCode.InvalidRoom, 'Please name the room.');
  if (characterCount(room) > ROOM_MAX) throw new ReplyError(ChatErrorCode.InvalidRoom, `Room names are at most ${ROOM_MAX} characters.`);
  if (!ROOM_CHARS.test(room)) throw new ReplyError(ChatErrorCode.InvalidRoom, 'Room names can use letters, digits, spaces, - and _ only.');
  return room;
}

/** Message text: trimmed, invisible control characters removed, then 1–1000 characters. */
export function parseMessageText(value: unknown): string {
  if (typeof value !== 'string') throw new ReplyError(ChatErrorCode.InvalidMessage, 'The message text must be a string.');
  const text = value.replace(/\r\n?/g, '\n').replace(CONTROL_IN_TEXT, '').trim();
  if (text === '') throw new ReplyError(ChatErrorCode.MessageEmpty, 'Type a message first.');
  const count = characterCount(text);
  if (count > TEXT_MAX) {
    throw new ReplyError(ChatErrorCode.MessageTooLong, `Messages are at most ${TEXT_MAX} characters; this one has ${count}.`);
  }
  return text;
}

/** The optional retry key of sendMessage. */
export function parseNonce(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && NONCE_PATTERN.test(value)) return value;
  throw new ReplyError(ChatErrorCode.InvalidMessage, 'The message nonce must be 1–64 letters, digits, - or _.');
}

/** The payload of a request must at least be an object; `code` says which request it was. */
export function asRecord(value: unknown, code: ChatErrorCode, message: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new ReplyError(code, message);
}
