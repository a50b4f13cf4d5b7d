/**
 * The seller page: a bell with the unread count, toasts, and the list of notifications,
 * kept from the seller's durable user channel (`userRoom(user)`).
 *
 * - Receive-mostly: the page only listens and now and then marks something read, so it
 *   runs on Server-Sent Events alone (`transports: ['sse']`): one streaming GET, POSTs for
 *   the few frames going up (acknowledgements, pongs, `markRead`).
 * - Exactly once across closes: the folded state and the channel position it reflects are
 *   saved together in localStorage; the next visit joins the channel with `since` that
 *   position and the server replays only what came after. Without saved state (or when the
 *   gap is no longer in history: `recovered: false`) the page rebuilds from the history.
 * - Read state: marking read asks the server (`markRead`), which publishes `read` on the
 *   same channel, so every tab of the seller — and any page opened later — agrees.
 */
import { connect, type StreamPosition, userRoom } from '../../../src/client/index.js';
import { MARK_READ, type Notice, NoticeEvent, type ReadMark, type ShopClientEvents, type ShopServerEvents } from '../notices.js';
import { NoticeBook, type SavedBook } from './notice-book.js';
import { signedInUser, signOut } from './sign-in.js';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

interface Saved extends SavedBook {
  position: StreamPosition;
}

const user = await signedInUser();
const storageKey = `shop-notices:${user}`;
const room = userRoom(user);
element('me-name').textContent = user;
element('workspace').hidden = false;
element('sign-out').addEventListener('click', () => void signOut());

const saved = load();
const book = saved ? NoticeBook.from(saved) : new NoticeBook();

const client = connect<ShopServerEvents, ShopClientEvents>(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, {
  transports: ['sse'],
});

client.on(NoticeEvent.Notice, (notice) => {
  if (!book.add(notice)) return;
  toast(notice);
  save();
  render();
});
client.on(NoticeEvent.Read, ({ ids }: ReadMark) => {
  book.markRead(ids);
  save();
  render();
});
// After a reconnect into a new session the SDK rejoins with the position it tracked; when
// the server no longer has the gap, the list is rebuilt from the history.
client.on('recovery', ({ recovered }) => {
  if (!recovered) void rebuild();
});
client.on('state', ({ state, reason }) => showConnection(state, reason));

if (saved) {
  // Joined before the welcome: the SDK tracks the room from `since`, so nothing is handled twice.
  void client.join(room, { since: saved.position }).then((reply) => {
    if ('recovered' in reply && reply.recovered === false) void rebuild();
    else save();
  });
} else {
  void rebuild();
}

/**
 * The list from the channel's history, then the channel itself from where the history ends.
 * Folded into the book as it is, not into a new one: an event that arrived while the history
 * was on its way may be newer than what the history holds, and folding twice is harmless.
 */
async function rebuild(): Promise<void> {
  const history = await client.history(room, { limit: 200 });
  for (const publication of history.publications) {
    if (publication.event === NoticeEvent.Notice) book.add(publication.data as Notice);
    else if (publication.event === NoticeEvent.Read) book.markRead((publication.data as ReadMark).ids);
  }
  render();
  if (client.position(room) === undefined) await client.join(room, { since: history.position });
  save();
}

function load(): Saved | undefined {
  try {
    const raw = localStorage.getItem(storageKey);
    const value = raw ? (JSON.parse(raw) as Saved) : undefined;
    return value?.position && Array.isArray(value.notices) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The state and the position it reflects, together: the next visit resumes from exactly there. */
function save(): void {
  const position = client.position(room);
  if (position) localStorage.setItem(storageKey, JSON.stringify({ ...book.toJSON(), position } satisfies Saved));
}

function markRead(ids: string[]): void {
  if (ids.length > 0) client.emitWithAck(MARK_READ, { ids }).catch((err: Error) => console.warn(`markRead: ${err.message}`));
}

function render(): void {
  const unread = book.unread;
  const count = element('bell-count');
  count.textContent = String(unread);
  count.hidden = unread === 0;
  element('bell').setAttribute('aria-label', `${unread} unread notification${unread === 1 ? '' : 's'}`);
  const list = element('notices');
  list.replaceChildren(
    ...book.list().map((notice) => {
      const item = document.createElement('li');
      item.className = `notice notice-${notice.kind}${book.isRead(notice.id) ? '' : ' unread'}`;
      item.dataset.id = notice.id;
      item.dataset.testid = 'notice';
      const title = document.createElement('strong');
      title.textContent = notice.title;
      const text = document.createElement('span');
      text.textContent = notice.text;
      const time = document.createElement('time');
      time.dateTime = new Date(notice.at).toISOString();
      time.textContent = new Date(notice.at).toLocaleTimeString();
      item.append(title, text, time);
      if (!book.isRead(notice.id)) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'mark-read';
        button.textContent = 'Mark read';
        button.addEventListener('click', () => markRead([notice.id]));
        item.append(button);
      }
      return item;
    }),
  );
  element('empty').hidden = book.list().length > 0;
}

function toast(notice: Notice): void {
  const box = element('toasts');
  const item = document.createElement('div');
  item.className = `toast toast-${notice.kind}`;
  item.dataset.testid = 'toast';
  item.dataset.id = notice.id;
  item.setAttribute('role', 'status');
  const title = document.createElement('strong');
  title.textContent = notice.title;
  const text = document.createElement('span');
  text.textContent = notice.text;
  item.append(title, text);
  box.prepend(item);
  while (box.children.length > 3) box.lastElementChild?.remove();
  setTimeout(() => item.remove(), 6000);
}

function showConnection(state: string, reason: string): void {
  const badge = element('connection-status');
  badge.dataset.state = state;
  // user_disconnected: the server closed every page of this user (sign-out somewhere); the SDK does not reconnect.
  element('connection-text').textContent = state === 'connected' ? `live (${client.transport})` : reason === 'user_disconnected' ? 'signed out' : state;
}

element('mark-all').addEventListener('click', () => markRead(book.list().filter((n) => !book.isRead(n.id)).map((n) => n.id)));
render();

// For tests and the curious.
Object.assign(window, {
  sellerPage: {
    unread: () => book.unread,
    ids: () => book.list().map((n) => n.id),
    transport: () => client.transport,
    position: () => client.position(room),
  },
});
