/**
 * What travels on a seller's user channel (`userRoom(seller)`, durable): the server, the
 * worker and the pages share these names and shapes. The channel is a log the page folds
 * (see page/notice-state.ts): `notice` adds a notification, `read` marks some read. Keeping
 * read marks in the same durable log is what lets a page that was closed, or a second tab,
 * rebuild the same unread count from the channel alone.
 */

/** Event names on the user channel. */
export const NoticeEvent = {
  /** A new notification: `Notice`. */
  Notice: 'notice',
  /** Notifications marked read, by any tab of the user: `ReadMark`. */
  Read: 'read',
} as const;

/** The page asks the server to mark a notification read: `{ ids }`, answered `{ ok: true }`. */
export const MARK_READ = 'markRead';

export type NoticeKind = 'order' | 'summary' | 'shipping';

export interface Notice {
  /** Unique per notification: the page's dedupe key (an order id, or the worker's idempotency key). */
  id: string;
  kind: NoticeKind;
  title: string;
  text: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface ReadMark {
  ids: string[];
}

/** Events the server sends to pages. */
export interface ShopServerEvents {
  notice(notice: Notice): void;
  read(mark: ReadMark): void;
}

/** Events the seller page sends. */
export interface ShopClientEvents {
  markRead(mark: ReadMark): { ok: true };
}

/** Where the shop mounts the publish HTTP API. */
export const HTTP_API_PATH = '/api/switchboard';

/** How long a seller's channel keeps notifications: a week, at most 1000 of them. */
export const USER_CHANNEL_LIMITS = { maxMessages: 1000, maxAge: 7 * 24 * 3600 * 1000 } as const;

/** A notification as the server checks it (the worker's, coming through the HTTP API, is checked by the page). */
export function isNotice(value: unknown): value is Notice {
  const n = value as Partial<Notice> | null;
  return (
    typeof n === 'object' && n !== null &&
    typeof n.id === 'string' && n.id.length > 0 && n.id.length <= 200 &&
    (n.kind === 'order' || n.kind === 'summary' || n.kind === 'shipping') &&
    typeof n.title === 'string' && typeof n.text === 'string' && typeof n.at === 'number'
  );
}
