// The chat from a terminal, through an unchanged Socket.IO client: the `socket.io-client`
// package used exactly as an existing Socket.IO app uses it, talking to the chat's
// Switchboard through its Socket.IO front door (chat-server.ts turns it on with
// `socketIo: { recovery: true }`). Browsers on the page and this script share the rooms.
//
// Usage, from a clone of the repository (socket.io-client is one of its devDependencies):
//
//   npm start                                                  # the chat, in another terminal
//   node examples/chat/socketio-client.mjs Ada                 # joins "lobby" on http://localhost:3000
//   node examples/chat/socketio-client.mjs Ada talk http://localhost:4000
//   TRANSPORTS=polling node examples/chat/socketio-client.mjs Ada   # HTTP long-polling only
//
// It prints the room's recent messages, then what is said, who joins and leaves and who is
// typing; each line you type is sent to the room. Ctrl-D (end of input) or Ctrl-C leaves.
import { clearLine, createInterface, cursorTo, emitKeypressEvents } from 'node:readline';
import { io } from 'socket.io-client';

const [name = '', room = 'lobby', url = 'http://localhost:3000'] = process.argv.slice(2);
if (name.trim() === '') {
  console.error('usage: node examples/chat/socketio-client.mjs <name> [room] [url]');
  process.exit(2);
}
/** As the page: "I am typing" at most this often while typing; the others show it ~3 s. */
const TYPING_EVERY_MS = 2000;
/** Another person's typing is printed again only after this long. */
const TYPING_SHOWN_MS = 3000;

const transports = process.env.TRANSPORTS ? process.env.TRANSPORTS.split(',') : undefined;
const socket = io(url, { auth: { name }, ...(transports ? { transports } : {}) });

const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
const lines = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: '> ' });

/** Print a line above what is being typed (in a terminal the prompt is redrawn under it). */
function print(text) {
  if (!tty) return void console.log(text);
  clearLine(process.stdout, 0);
  cursorTo(process.stdout, 0);
  console.log(text);
  lines.prompt(true);
}

/** Ids of the messages printed, so a rejoin after a reconnect prints only what is new. */
const printed = new Set();
const typingShownAt = new Map();

function clock(time) {
  return new Date(time).toTimeString().slice(0, 5);
}

function printMessage(message) {
  if (printed.has(message.id)) return;
  printed.add(message.id);
  typingShownAt.delete(message.name);
  print(`[${clock(message.time)}] ${message.name}: ${message.text}`);
}

function isError(answer) {
  return typeof answer === 'object' && answer !== null && 'error' in answer;
}

/** Lines typed before the first join are sent once we are in the room. */
let inRoom;
const firstJoin = new Promise((resolve) => (inRoom = resolve));

async function join() {
  const joined = await socket.emitWithAck('joinRoom', { room });
  if (isError(joined)) {
    print(`! ${joined.error.code}: ${joined.error.message}`);
    process.exit(1);
  }
  for (const message of joined.history) printMessage(message);
  inRoom();
  print(`* in ${joined.room} · ${joined.online} online (as ${name}, over ${socket.io.engine.transport.name})`);
}

socket.on('connect', () => {
  // With recovery the server kept the socket in its room and sent what was missed: nothing to redo.
  if (socket.recovered) print('* reconnected, nothing missed');
  else void join();
});
socket.on('connect_error', (err) => {
  // The server refused us (a bad name): Socket.IO does not retry that. Otherwise it reconnects by itself.
  if (!socket.active) {
    print(`! refused: ${err.message}${err.data?.code ? ` (${err.data.code})` : ''}`);
    process.exit(1);
  }
});
socket.on('disconnect', (reason) => {
  print(`* disconnected (${reason})${socket.active ? ', reconnecting…' : ''}`);
  if (!socket.active && !leaving) process.exit(1);
});

socket.on('message', printMessage);
socket.on('joined', (notice) => print(`* ${notice.name} joined · ${notice.online} online`));
socket.on('left', (notice) => print(`* ${notice.name} left · ${notice.online} online`));
socket.on('typing', ({ name: who }) => {
  const now = Date.now();
  if (now - (typingShownAt.get(who) ?? 0) < TYPING_SHOWN_MS) return;
  typingShownAt.set(who, now);
  print(`* ${who} is typing…`);
});
socket.on('error', (error) => print(`! ${error.code}: ${error.message}`));

// Lines are sent one after the other, in order; typing a line tells the room you are typing.
let leaving = false;
let sending = firstJoin;
let lastTypingSent = 0;
emitKeypressEvents(process.stdin);
process.stdin.on('keypress', () => {
  const now = Date.now();
  if (!socket.connected || now - lastTypingSent < TYPING_EVERY_MS) return;
  lastTypingSent = now;
  socket.volatile.emit('typing');
});
lines.on('line', (text) => {
  if (text.trim() === '') return;
  sending = sending.then(async () => {
    lastTypingSent = 0;
    const answer = await socket.emitWithAck('sendMessage', { room, text });
    if (isError(answer)) print(`! ${answer.error.code}: ${answer.error.message}`);
    else printMessage(answer);
  });
});
lines.on('close', async () => {
  await sending;
  leave();
});
function leave() {
  leaving = true;
  socket.disconnect();
  process.exit(0);
}
lines.on('SIGINT', leave);
process.on('SIGINT', leave);
