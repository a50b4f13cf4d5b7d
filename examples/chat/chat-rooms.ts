import { randomUUID } from 'node:crypto';
import { ReplyError } from '../../src/server/index.js';
import { ChatErrorCode, type ChatMessage, type RoomSummary } from './chat-events.js';

/** Messages kept per room for newcomers and for pages catching up after a reconnect. */
export const HISTORY_LIMIT = 50;
/** Rooms one server keeps; beyond that, creating a room fails with `room_directory_full`. */
export const MAX_ROOMS = 100;
export const DEFAULT_ROOM = 'lobby';

interface StoredMessage {
  message: ChatMessage;
  /** The sender's retry key, kept server-side so a re-sent message is recognised, never broadcast. */
  nonce: string | undefined;
}

/** The last `capacity` items, oldest first, in a fixed array. */
export class HistoryRing<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    const end = (this.start + this.count) % this.capacity;
    this.items[end] = item;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  find(match: (item: T) => boolean): T | undefined {
    for (let i = this.count - 1; i >= 0; i--) {
      const item = this.items[(this.start + i) % this.capacity] as T;
      if (match(item)) return item;
    }
    return undefined;
  }
}

/** One chat room: who is in it (connection ids) and what was said lately. */
export class ChatRoom {
  private readonly members = new Set<string>();
  private readonly history = new HistoryRing<StoredMessage>(HISTORY_LIMIT);

  constructor(
    /** Display name, as first spelled. */
    readonly name: string,
    /** The Switchboard room: prefixed so that no chat room can be named like a connection's private room. */
    readonly channel: string,
  ) {}

  get online(): number {
    return this.members.size;
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** Returns false when the connection was already in. */
  addMember(connectionId: string): boolean {
    if (this.members.has(connectionId)) return false;
    this.members.add(connectionId);
    return true;
  }

  /** Returns false when the connection was not in. */
  removeMember(connectionId: string): boolean {
    return this.members.delete(connectionId);
  }

  /**
   * Store a message. A `nonce` already seen from the same sender returns the stored
   * message with `duplicate: true`: the page re-sent it after a lost reply.
   */
  post(name: string, text: string, nonce: string | undefined): { message: ChatMessage; duplicate: boolean } {
    if (nonce !== undefined) {
      const seen = this.history.find((m) => m.nonce === nonce && m.message.name === name);
      if (seen) return { message: seen.message, duplicate: true };
    }
    const message: ChatMessage = { id: randomUUID(), room: this.name, name, text, time: Date.now() };
    this.history.push({ message, nonce });
    return { message, duplicate: false };
  }

  recent(): ChatMessage[] {
    return this.history.toArray().map((m) => m.message);
  }

  summary(): RoomSummary {
    return { name: this.name, online: this.members.size };
  }
}

/**
 * Every room of the server, looked up case-insensitively ("Lobby" is "lobby"). The
 * default room always exists; any other room is forgotten, history and all, once its last
 * member leaves, so the room list shows only rooms someone is in (and the default room).
 */
export class RoomDirectory {
  private readonly rooms = new Map<string, ChatRoom>();

  constructor(
    private readonly maxRooms = MAX_ROOMS,
    readonly defaultRoom = DEFAULT_ROOM,
  ) {
    this.open(defaultRoom);
  }

  get size(): number {
    return this.rooms.size;
  }

  find(name: string): ChatRoom | undefined {
    return this.rooms.get(keyOf(name));
  }

  /** The room called `name`, created if new. Throws `room_directory_full` when full. */
  open(name: string): { room: ChatRoom; created: boolean } {
    const key = keyOf(name);
    const existing = this.rooms.get(key);
    if (existing) return { room: existing, created: false };
    if (this.rooms.size >= this.maxRooms) {
      throw new ReplyError(ChatErrorCode.RoomDirectoryFull, `This server already has ${this.maxRooms} rooms; join one of them instead.`);
    }
    const room = new ChatRoom(name, `chat:${key}`);
    this.rooms.set(key, room);
    return { room, created: true };
  }

  /** Forget a room nobody is in (never the default room). Returns whether it went. */
  forgetIfEmpty(room: ChatRoom): boolean {
    if (!room.isEmpty || keyOf(room.name) === keyOf(this.defaultRoom)) return false;
    return this.rooms.delete(keyOf(room.name));
  }

  /** The default room first, then the others by name. */
  summaries(): RoomSummary[] {
    const first = this.find(this.defaultRoom);
    const others = [...this.rooms.values()].filter((r) => r !== first).sort((a, b) => a.name.localeCompare(b.name));
    return (first ? [first, ...others] : others).map((r) => r.summary());
  }
}

function keyOf(name: string): string {
  return name.toLocaleLowerCase('en');
}
