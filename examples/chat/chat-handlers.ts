import type { Socket, Switchboard } from '../../src/server/index.js';
import { ReplyError } from '../../src/server/index.js';
import { ChatErrorCode, type ChatClientEvents, type ChatServerEvents, type JoinedRoom } from './chat-events.js';
import { type ChatRoom, RoomDirectory } from './chat-rooms.js';
import { asRecord, parseMessageText, parseName, parseNonce, parseRoomName } from './chat-validation.js';

/** What the server keeps per connection (never sent anywhere). */
export interface ChatSocketData {
  name: string;
  room: ChatRoom | undefined;
  /** The room named in the handshake: the page was in it before a reconnect. */
  rejoin: string | undefined;
  lastTypingAt: number;
}

export type ChatSwitchboard = Switchboard<ChatClientEvents, ChatServerEvents, ChatSocketData>;
type ChatSocket = Socket<ChatClientEvents, ChatServerEvents, ChatSocketData>;

/** Typing notices more frequent than this per connection are dropped (the page sends one every ~2 s). */
const TYPING_MIN_INTERVAL_MS = 500;

/**
 * The chat's server side: handshake check of the display name, rooms with presence
 * notices, messages with history, typing, and the room list pushed to everyone.
 */
export function installChat(sb: ChatSwitchboard, directory = new RoomDirectory()): RoomDirectory {
  const roomList = coalescedRoomList(sb, directory);

  sb.use((socket, next) => {
    const auth = socket.handshake.auth;
    const fields = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>) : {};
    const name = parseName(fields.name);
    const rejoin = fields.room === undefined ? undefined : parseRoomName(fields.room);
    socket.data = { name, room: undefined, rejoin, lastTypingAt: 0 };
    next();
  });

  sb.on('connection', (socket) => {
    // Before any frame the page buffered while offline is handled: its messages belong in this room.
    if (socket.data.rejoin !== undefined) {
      try {
        enter(socket, socket.data.rejoin);
      } catch (err) {
        if (!(err instanceof ReplyError)) throw err;
        // e.g. room_directory_full after a restart: the page's own joinRoom will show the error.
      }
    }

    socket.on('listRooms', () => ({ rooms: directory.summaries() }));

    socket.on('joinRoom', (data) => {
      const fields = asRecord(data, ChatErrorCode.InvalidRoom, 'joinRoom needs { room: string }.');
      return enter(socket, parseRoomName(fields.room));
    });

    socket.on('sendMessage', (data) => {
      const fields = asRecord(data, ChatErrorCode.InvalidMessage, 'sendMessage needs { room: string, text: string }.');
      if (typeof fields.room !== 'string') throw new ReplyError(ChatErrorCode.InvalidMessage, 'sendMessage needs the room name as a string.');
      const room = socket.data.room;
      if (!room || directory.find(fields.room) !== room) {
        throw new ReplyError(ChatErrorCode.NotInRoom, `You are not in room "${fields.room}"; join it first.`);
      }
      const text = parseMessageText(fields.text);
      const { message, duplicate } = room.post(socket.data.name, text, parseNonce(fields.nonce));
      socket.data.lastTypingAt = 0; // the next message's typing notice goes out at once
      // The sender gets the message as the reply; everyone else as an event.
      if (!duplicate) socket.to(room.channel).emit('message', message);
      return message;
    });

    socket.on('typing', () => {
      const room = socket.data.room;
      const now = Date.now();
      if (!room || now - socket.data.lastTypingAt < TYPING_MIN_INTERVAL_MS) return;
      socket.data.lastTypingAt = now;
      socket.to(room.channel).volatile.emit('typing', { room: room.name, name: socket.data.name });
    });

    socket.on('disconnect', () => leaveCurrent(socket));
  });

  /** Put a socket in a room (leaving its previous one) and tell the room. Joining the room you are in just returns it. */
  function enter(socket: ChatSocket, name: string): JoinedRoom {
    const current = socket.data.room;
    if (current && directory.find(name) === current) return joinedReply(current);
    const { room } = directory.open(name); // may throw room_directory_full: then nothing changed
    if (current) leaveCurrent(socket);
    socket.join(room.channel);
    room.addMember(socket.id);
    socket.data.room = room;
    socket.to(room.channel).emit('joined', { room: room.name, name: socket.data.name, online: room.online, time: Date.now() });
    roomList.changed();
    return joinedReply(room);
  }

  function leaveCurrent(socket: ChatSocket): void {
    const room = socket.data.room;
    if (!room) return;
    socket.data.room = undefined;
    socket.leave(room.channel);
    if (!room.removeMember(socket.id)) return;
    sb.to(room.channel).emit('left', { room: room.name, name: socket.data.name, online: room.online, time: Date.now() });
    directory.forgetIfEmpty(room);
    roomList.changed();
  }

  return directory;
}

/** The reply to joinRoom: the room as the server spells it, its count and its recent messages. */
function joinedReply(room: ChatRoom): JoinedRoom {
  return { room: room.name, online: room.online, history: room.recent() };
}

/** How long room-list changes are collected before one push (a restart brings everyone back at once). */
const ROOM_LIST_DELAY_MS = 50;

/** Push the room list to everyone once per burst of changes. */
function coalescedRoomList(sb: ChatSwitchboard, directory: RoomDirectory): { changed(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    changed() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        sb.emit('rooms', { rooms: directory.summaries() });
      }, ROOM_LIST_DELAY_MS);
      timer.unref();
    },
  };
}
