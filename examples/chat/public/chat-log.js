// The message list. User data (names, text) only ever goes through textContent: a
// message like `<img src=x onerror=alert(1)>` shows as those characters and runs nothing.

/** @typedef {import('../chat-events.js').ChatMessage} ChatMessage */

/** Messages from the same person within this many ms are grouped under one header. */
const GROUP_WINDOW_MS = 5 * 60_000;

export class ChatLog {
  /** @param {HTMLOListElement} list @param {() => string} myName */
  constructor(list, myName) {
    this.list = list;
    this.myName = myName;
    /** @type {Set<string>} ids of the messages shown, so history refreshes never duplicate */
    this.shown = new Set();
  }

  /** Empty the log (another room). */
  reset() {
    this.list.replaceChildren();
    this.shown.clear();
  }

  /** Whether a message with this id is shown. @param {string} id */
  has(id) {
    return this.shown.has(id);
  }

  /** Show messages not shown yet, in the order given, before any pending ones. @param {ChatMessage[]} messages */
  addMessages(messages) {
    this.keepScrolled(() => {
      for (const message of messages) this.insertMessage(message);
    });
  }

  /** @param {ChatMessage} message */
  addMessage(message) {
    this.addMessages([message]);
  }

  /** A line like "Grace joined · 2 online". @param {string} text @param {string} [kind] */
  addNotice(text, kind = 'info') {
    const item = element('li', 'notice');
    item.dataset.testid = 'notice';
    item.dataset.kind = kind;
    item.textContent = text;
    this.keepScrolled(() => this.list.insertBefore(item, this.firstPending()));
  }

  /**
   * A message of ours the server has not confirmed yet; it stays below everything
   * confirmed until confirm() or fail().
   * @param {string} text
   */
  addPending(text) {
    const item = this.messageElement({ id: '', room: '', name: this.myName(), text, time: Date.now() });
    item.classList.add('pending');
    item.dataset.testid = 'message-pending';
    const status = element('span', 'msg-status');
    status.append(element('span', 'when-online', 'sending…'), element('span', 'when-offline', 'waiting for the connection…'));
    item.append(status);
    this.keepScrolled(() => this.list.append(item));
    return item;
  }

  /** The server stored a pending message: it becomes a normal one in place (or goes, if a history refresh already showed it). */
  confirm(/** @type {HTMLLIElement} */ item, /** @type {ChatMessage} */ message) {
    if (!item.isConnected) return;
    if (this.shown.has(message.id)) {
      item.remove();
      return;
    }
    const confirmed = this.messageElement(message);
    this.shown.add(message.id);
    groupWith(confirmed, item.previousElementSibling);
    item.replaceWith(confirmed);
  }

  /** The server refused a pending message: it stays, marked, with the reason and a dismiss button. */
  fail(/** @type {HTMLLIElement} */ item, /** @type {string} */ reason) {
    item.classList.remove('pending');
    item.classList.add('failed');
    item.dataset.testid = 'message-failed';
    const status = element('span', 'msg-status', `Not sent: ${reason} `);
    const dismiss = /** @type {HTMLButtonElement} */ (element('button', 'link-button', 'dismiss'));
    dismiss.type = 'button';
    dismiss.addEventListener('click', () => item.remove());
    status.append(dismiss);
    item.querySelector('.msg-status')?.replaceWith(status);
  }

  // ---- internals --------------------------------------------------------------------

  /** @param {ChatMessage} message */
  insertMessage(message) {
    if (this.shown.has(message.id)) return;
    this.shown.add(message.id);
    const item = this.messageElement(message);
    const before = this.firstPending();
    groupWith(item, before ? before.previousElementSibling : this.list.lastElementChild);
    this.list.insertBefore(item, before);
  }

  /** @param {ChatMessage} message */
  messageElement(message) {
    const item = /** @type {HTMLLIElement} */ (element('li', 'msg'));
    item.dataset.testid = 'message';
    if (message.id) item.dataset.id = message.id;
    item.dataset.name = message.name;
    item.dataset.time = String(message.time);
    if (message.name === this.myName()) item.classList.add('own');

    const avatar = element('span', 'avatar', initial(message.name));
    avatar.setAttribute('aria-hidden', 'true');
    avatar.style.setProperty('--hue', String(hue(message.name)));

    const head = element('div', 'msg-head');
    const name = element('span', 'msg-name', message.name);
    name.dataset.testid = 'message-name';
    const time = /** @type {HTMLTimeElement} */ (element('time', 'msg-time', formatTime(message.time)));
    time.dateTime = new Date(message.time).toISOString();
    time.title = new Date(message.time).toLocaleString();
    head.append(name, time);

    const text = element('p', 'msg-text', message.text);
    text.dataset.testid = 'message-text';
    const body = element('div', 'msg-body');
    body.append(head, text);
    item.append(avatar, body);
    return item;
  }

  /** @returns {Element | null} */
  firstPending() {
    return this.list.querySelector(':scope > .pending, :scope > .failed');
  }

  /** Run a change, keeping the view pinned to the newest message if it was there. @param {() => void} change */
  keepScrolled(change) {
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 48;
    change();
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }
}

/**
 * Show a message under the previous one's header when the same person wrote both shortly after each other.
 * @param {HTMLElement} item @param {Element | null} previous
 */
function groupWith(item, previous) {
  if (
    previous instanceof HTMLElement &&
    previous.classList.contains('msg') &&
    !previous.classList.contains('pending') &&
    !previous.classList.contains('failed') &&
    previous.dataset.name === item.dataset.name &&
    Number(item.dataset.time) - Number(previous.dataset.time) < GROUP_WINDOW_MS
  ) {
    item.classList.add('continued');
  }
}

/** @param {string} tag @param {string} className @param {string} [text] */
function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {number} time */
export function formatTime(time) {
  return new Date(time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** @param {string} name */
function initial(name) {
  const first = [...name.trim()][0] ?? '?';
  return first.toLocaleUpperCase();
}

/** Hues far enough apart to tell people apart at a glance. */
const HUES = [232, 200, 160, 28, 340, 280, 120, 8, 48, 312];

/** A stable colour per name (FNV-1a hash into HUES). @param {string} name */
function hue(name) {
  let hash = 2166136261;
  for (const ch of name) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return HUES[hash % HUES.length];
}
