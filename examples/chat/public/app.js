// The chat page: plain JavaScript modules, no build step. The Switchboard browser SDK is
// served by the chat server at /switchboard/client.js.
import { connect } from '/switchboard/client.js';
import { ChatLog } from './chat-log.js';
import { ConnectionStatus } from './connection-status.js';
import { Outbox } from './outbox.js';
import { TypingIndicator } from './typing-indicator.js';

/** @typedef {import('../chat-events.js').ChatServerEvents} ChatServerEvents */
/** @typedef {import('../chat-events.js').ChatClientEvents} ChatClientEvents */
/** @typedef {import('../chat-events.js').ChatMessage} ChatMessage */
/** @typedef {import('../chat-events.js').RoomSummary} RoomSummary */
/** @typedef {import('../chat-events.js').JoinedRoom} JoinedRoom */
/** @typedef {import('../../../src/client/index.js').SwitchboardClient<ChatServerEvents, ChatClientEvents>} ChatClient */

const TEXT_MAX = 1000;
/** How often "I am typing" goes out while typing; the others show it for 3 s. */
const TYPING_EVERY_MS = 2000;
/** A message waits this long for its reply (counted from the call, offline time included) before it is re-sent. */
const SEND_TIMEOUT_MS = 30_000;
const DEFAULT_ROOM = 'lobby';
const NAME_KEY = 'switchboard-chat:name';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const ui = {
  welcome: $('welcome'),
  chat: $('chat'),
  nameForm: /** @type {HTMLFormElement} */ ($('name-form')),
  nameInput: /** @type {HTMLInputElement} */ ($('name-input')),
  nameError: $('name-error'),
  nameSubmit: /** @type {HTMLButtonElement} */ ($('name-submit')),
  me: $('me'),
  meName: $('me-name'),
  roomList: $('room-list'),
  roomForm: /** @type {HTMLFormElement} */ ($('room-form')),
  roomInput: /** @type {HTMLInputElement} */ ($('room-input')),
  roomError: $('room-error'),
  roomName: $('room-name'),
  roomOnline: $('room-online'),
  log: /** @type {HTMLOListElement} */ ($('log')),
  typing: $('typing'),
  composer: /** @type {HTMLFormElement} */ ($('composer')),
  messageInput: /** @type {HTMLTextAreaElement} */ ($('message-input')),
  send: /** @type {HTMLButtonElement} */ ($('send')),
  composerError: $('composer-error'),
  charCount: $('char-count'),
};

/** @type {ChatClient | undefined} */
let client;
let myName = '';
/** The room we are in (as the server spells it); undefined until the first join. */
let currentRoom = /** @type {string | undefined} */ (undefined);
/** @type {RoomSummary[]} */
let rooms = [];
let lastTypingSent = 0;
let everConnected = false;

const log = new ChatLog(ui.log, () => myName);
const typing = new TypingIndicator(ui.typing);
const status = new ConnectionStatus(
  { root: $('connection-status'), text: $('connection-text'), retry: /** @type {HTMLButtonElement} */ ($('retry-now')), body: document.body },
  () => client?.reconnectNow(),
);
const outbox = new Outbox(
  (message) => /** @type {ChatClient} */ (client).emitWithAck('sendMessage', { room: message.room, text: message.text, nonce: message.nonce }, { timeout: SEND_TIMEOUT_MS }),
  () => whenConnected(),
  {
    sent(message, stored) {
      if (stored.room === currentRoom) log.confirm(message.item, stored);
      else message.item.remove();
    },
    failed(message, error) {
      showError(ui.composerError, error.message);
      // Give the text back to fix it, unless something new is being written.
      if (ui.messageInput.value.trim() === '') {
        message.item.remove();
        ui.messageInput.value = message.text;
        updateComposer();
      } else {
        log.fail(message.item, error.message);
      }
    },
  },
);

// ---- name form ----------------------------------------------------------------------

ui.nameInput.value = localStorage.getItem(NAME_KEY) ?? '';
ui.nameForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = ui.nameInput.value.trim();
  if (name === '') {
    showError(ui.nameError, 'Please choose a display name.');
    return;
  }
  showError(ui.nameError, '');
  start(name);
});
ui.nameInput.addEventListener('input', () => showError(ui.nameError, ''));

/** Connect with this name; the server's middleware accepts it or says why not. @param {string} name */
function start(name) {
  client?.close();
  myName = name;
  everConnected = false;
  ui.nameSubmit.disabled = true;
  ui.nameSubmit.textContent = 'Connecting…';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  /** @type {ChatClient} */
  const c = connect(url, {
    // Called before every (re)connect: after a reconnect the server puts us back in our room
    // before it handles the messages we typed while offline.
    auth: () => (currentRoom === undefined ? { name } : { name, room: currentRoom }),
  });
  client = c;
  status.reset();
  c.on('state', (change) => {
    status.onState(change);
    updateComposer();
  });
  c.on('reconnecting', (info) => status.onReconnecting(info));
  c.on('connect_error', (error) => {
    if (c.state !== 'disconnected') return; // a failed attempt that will be retried: the badge says so
    if (!everConnected) {
      // Refused at the door (e.g. invalid_name): back to the form, with the server's words.
      c.close();
      client = undefined;
      status.idle();
      showError(ui.nameError, error.message);
      ui.nameSubmit.disabled = false;
      ui.nameSubmit.textContent = 'Start chatting';
      ui.nameInput.focus();
    }
  });
  c.on('connect', ({ resumed }) => void onConnected(c, resumed));
  c.on('error', (error) => console.warn('[chat]', error));
  c.on('rooms', ({ rooms: list }) => renderRooms(list));
  c.on('message', (message) => {
    if (message.room !== currentRoom) return;
    typing.clear(message.name);
    log.addMessage(message);
  });
  c.on('joined', (notice) => {
    if (notice.room !== currentRoom) return;
    log.addNotice(`${notice.name} joined · ${online(notice.online)}`, 'joined');
    setOnline(notice.online);
  });
  c.on('left', (notice) => {
    if (notice.room !== currentRoom) return;
    typing.clear(notice.name);
    log.addNotice(`${notice.name} left · ${online(notice.online)}`, 'left');
    setOnline(notice.online);
  });
  c.on('typing', ({ room, name: who }) => {
    if (room === currentRoom) typing.show(who);
  });
}

/**
 * Every (re)connect: enter (or re-enter) our room, refresh its history and the room list.
 * A resumed session is still in its room and the server replayed what was said meanwhile,
 * so there is nothing to rejoin.
 * @param {ChatClient} c @param {boolean} resumed
 */
async function onConnected(c, resumed) {
  if (!everConnected) {
    everConnected = true;
    localStorage.setItem(NAME_KEY, myName);
    ui.meName.textContent = myName;
    ui.me.hidden = false;
    ui.welcome.hidden = true;
    ui.chat.hidden = false;
    ui.nameSubmit.disabled = false;
    ui.nameSubmit.textContent = 'Start chatting';
    const wanted = roomFromLocation() ?? DEFAULT_ROOM;
    const list = c.emitWithAck('listRooms').then(({ rooms: fresh }) => renderRooms(fresh));
    await enterRoom(wanted, true).catch(() => (wanted === DEFAULT_ROOM ? undefined : enterRoom(DEFAULT_ROOM, true)));
    await list.catch(() => undefined);
    ui.messageInput.focus();
    return;
  }
  if (resumed) {
    log.addNotice('Reconnected', 'reconnected');
    return;
  }
  const wasIn = currentRoom;
  c.emitWithAck('listRooms').then(({ rooms: fresh }) => renderRooms(fresh), () => undefined);
  if (wasIn !== undefined) {
    try {
      const joined = await c.emitWithAck('joinRoom', { room: wasIn });
      if (client !== c || joined.room !== currentRoom) return;
      log.addMessages(joined.history);
      log.addNotice(`Reconnected · ${online(joined.online)}`, 'reconnected');
      setOnline(joined.online);
    } catch (error) {
      log.addNotice(`Could not rejoin ${wasIn}: ${/** @type {Error} */ (error).message}`, 'error');
    }
  }
}

// ---- rooms ----------------------------------------------------------------------------

/**
 * Join a room: the server leaves the previous one, and replies with the history.
 * @param {string} room @param {boolean} [quiet] report errors to the caller only
 */
async function enterRoom(room, quiet = false) {
  const c = client;
  if (!c) return;
  showError(ui.roomError, '');
  try {
    const joined = await c.emitWithAck('joinRoom', { room });
    if (client !== c) return;
    if (joined.room !== currentRoom) {
      currentRoom = joined.room;
      log.reset();
      typing.clearAll();
      ui.roomName.textContent = joined.room;
      ui.messageInput.placeholder = `Message ${joined.room}`;
      history.replaceState(null, '', `#${encodeURIComponent(joined.room)}`);
      document.title = `${joined.room} · Switchboard chat`;
      log.addMessages(joined.history);
      log.addNotice(`You joined ${joined.room} · ${online(joined.online)}`, 'self');
    } else {
      log.addMessages(joined.history);
    }
    setOnline(joined.online);
    renderRooms(rooms);
    updateComposer();
  } catch (error) {
    if (!quiet) showError(ui.roomError, /** @type {Error} */ (error).message);
    throw error;
  }
}

ui.roomForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const room = ui.roomInput.value.trim();
  if (room === '') {
    showError(ui.roomError, 'Type a room name to create or join it.');
    return;
  }
  if (!client?.connected) {
    showError(ui.roomError, 'Not connected; try again once the connection is back.');
    return;
  }
  enterRoom(room).then(
    () => {
      ui.roomInput.value = '';
      ui.messageInput.focus();
    },
    () => undefined,
  );
});
ui.roomInput.addEventListener('input', () => showError(ui.roomError, ''));

/** @param {RoomSummary[]} list */
function renderRooms(list) {
  rooms = list;
  const items = list.map((room) => {
    const item = document.createElement('li');
    item.dataset.testid = 'room';
    item.dataset.room = room.name;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'room';
    if (room.name === currentRoom) {
      button.classList.add('current');
      button.setAttribute('aria-current', 'true');
    }
    const name = document.createElement('span');
    name.className = 'room-label';
    name.textContent = room.name;
    const count = document.createElement('span');
    count.className = 'room-count';
    count.dataset.testid = 'room-count';
    count.textContent = String(room.online);
    count.title = online(room.online);
    button.append(name, count);
    button.addEventListener('click', () => {
      if (room.name === currentRoom) return;
      if (!client?.connected) {
        showError(ui.roomError, 'Not connected; try again once the connection is back.');
        return;
      }
      enterRoom(room.name).catch(() => undefined);
    });
    item.append(button);
    return item;
  });
  ui.roomList.replaceChildren(...items);
}

/** @param {number} count */
function setOnline(count) {
  ui.roomOnline.textContent = online(count);
  const entry = rooms.find((r) => r.name === currentRoom);
  if (entry && entry.online !== count) {
    entry.online = count;
    renderRooms(rooms);
  }
}

// ---- composer ---------------------------------------------------------------------------

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  sendCurrent();
});
ui.messageInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendCurrent();
  }
});
ui.messageInput.addEventListener('input', () => {
  showError(ui.composerError, '');
  updateComposer();
  const now = Date.now();
  if (client?.connected && ui.messageInput.value.trim() !== '' && now - lastTypingSent > TYPING_EVERY_MS) {
    lastTypingSent = now;
    client.volatile.emit('typing');
  }
});

function sendCurrent() {
  const text = ui.messageInput.value;
  if (!client || currentRoom === undefined || text.trim() === '') return;
  // Over the limit still goes out: the server's answer (message_too_long) is the one shown.
  const item = log.addPending(text.trim());
  outbox.add({ room: currentRoom, text, nonce: crypto.randomUUID(), item });
  ui.messageInput.value = '';
  lastTypingSent = 0;
  showError(ui.composerError, '');
  updateComposer();
}

function updateComposer() {
  const input = ui.messageInput;
  const count = [...input.value.trim()].length;
  ui.charCount.textContent = `${count} / ${TEXT_MAX}`;
  ui.charCount.classList.toggle('over', count > TEXT_MAX);
  const ready = client !== undefined && currentRoom !== undefined;
  input.disabled = !ready;
  ui.send.disabled = !ready;
  // Grow with the text, up to the CSS max-height.
  input.style.height = 'auto';
  input.style.height = `${input.scrollHeight}px`;
}

// ---- helpers --------------------------------------------------------------------------

/** @returns {Promise<void>} */
function whenConnected() {
  const c = client;
  if (!c || c.connected) return Promise.resolve();
  return new Promise((resolve) => c.once('connect', () => resolve()));
}

/** @param {HTMLElement} target @param {string} message */
function showError(target, message) {
  target.textContent = message;
}

/** @param {number} count */
function online(count) {
  return `${count} online`;
}

function roomFromLocation() {
  if (location.hash.length < 2) return undefined;
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return undefined;
  }
}

window.addEventListener('online', () => status.onNetwork(true));
window.addEventListener('offline', () => status.onNetwork(false));
