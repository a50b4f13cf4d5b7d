/**
 * The chat's events, typed once for the server, the Node tests and (through JSDoc
 * imports) the page. Requests return their reply; the server answers every invalid
 * request with a ReplyError whose code is one of ChatErrorCode.
 */

/** A message as the server stored and broadcast it. */
export interface ChatMessage {
  /** Unique across server restarts (a UUID): the page de-duplicates by it. */
  id: string;
  room: string;
  name: string;
  text: string;
  /** Server time, epoch ms. */
  time: number;
}

/** A room in the room list. */
export interface RoomSummary {
  name: string;
  /** Connections in the room right now. */
  online: number;
}

/** Someone entered or left a room. */
export interface PresenceNotice {
  room: string;
  name: string;
  /** Connections in the room after the change. */
  online: number;
  time: number;
}

/** Reply to `joinRoom`. */
export interface JoinedRoom {
  /** The room's name as the server spells it (lookup is case-insensitive). */
  room: string;
  online: number;
  /** The room's last messages, oldest first (at most 50). */
  history: ChatMessage[];
}

/** What the page sends in `connect(url, { auth })`; the auth function is called before every reconnect. */
export interface ChatAuth {
  /** Display name, 1–32 characters after trimming. */
  name: string;
  /**
   * The room the page was in. On a reconnect the server puts the new connection back in
   * it before handling anything else, so emits buffered while offline land in that room.
   */
  room?: string;
}

/** Page → server. */
export interface ChatClientEvents {
  /** The rooms and their online counts. */
  listRooms(): { rooms: RoomSummary[] };
  /** Enter a room (created if new), leaving the previous one. Idempotent: joining the room you are in returns its history. */
  joinRoom(data: { room: string }): JoinedRoom;
  /** Post to the room you are in. `nonce` makes a retry of the same message harmless. */
  sendMessage(data: { room: string; text: string; nonce?: string }): ChatMessage;
  /** "I am typing" (sent volatile, at most every ~2 s while typing). */
  typing(): void;
}

/** Server → page. */
export interface ChatServerEvents {
  /** The whole room list, pushed when a room is created or a count changes. */
  rooms(data: { rooms: RoomSummary[] }): void;
  /** A message in your room, from someone else (your own come back as the reply to sendMessage). */
  message(data: ChatMessage): void;
  joined(data: PresenceNotice): void;
  left(data: PresenceNotice): void;
  /** Someone else in your room is typing; show it for ~3 s unless refreshed. */
  typing(data: { room: string; name: string }): void;
}

/** Every error code the chat answers with (besides Switchboard's own, see docs/ERRORS.md). */
export const ChatErrorCode = {
  /** Handshake: the display name is missing, empty, longer than 32 characters or has control characters. */
  InvalidName: 'invalid_name',
  /** The room name is missing, longer than 40 characters or has characters other than letters, digits, space, - and _. */
  InvalidRoom: 'invalid_room',
  /** The server already has its maximum number of rooms. */
  RoomDirectoryFull: 'room_directory_full',
  /** sendMessage to a room you have not joined. */
  NotInRoom: 'not_in_room',
  /** The message payload is not `{ room: string, text: string }` (text not a string, bad nonce). */
  InvalidMessage: 'invalid_message',
  /** The text is empty after trimming. */
  MessageEmpty: 'message_empty',
  /** The text is longer than 1000 characters after trimming. */
  MessageTooLong: 'message_too_long',
} as const;
export type ChatErrorCode = (typeof ChatErrorCode)[keyof typeof ChatErrorCode];
