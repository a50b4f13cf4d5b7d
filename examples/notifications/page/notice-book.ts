/**
 * The seller page's state, folded from the user channel: `notice` adds a notification,
 * `read` marks some read. Folding is idempotent (a notification is known by its id, a read
 * mark is a set), so a publication seen twice — a page that read the history and then
 * joined from its position — changes nothing the second time.
 */
import type { Notice } from '../notices.js';

/** The most notifications a page keeps (the oldest go first, with their read marks). */
export const MAX_NOTICES = 200;

export interface SavedBook {
  notices: Notice[];
  read: string[];
}

export class NoticeBook {
  private readonly notices = new Map<string, Notice>();
  private readonly read = new Set<string>();

  /** False when the notification was already known. */
  add(notice: Notice): boolean {
    if (this.notices.has(notice.id)) return false;
    this.notices.set(notice.id, notice);
    if (this.notices.size > MAX_NOTICES) {
      const oldest = this.list().at(-1) as Notice;
      this.notices.delete(oldest.id);
      this.read.delete(oldest.id);
    }
    return true;
  }

  /** The ids that were unread until now. */
  markRead(ids: readonly string[]): string[] {
    const newly = ids.filter((id) => this.notices.has(id) && !this.read.has(id));
    for (const id of ids) if (this.notices.has(id)) this.read.add(id);
    return newly;
  }

  isRead(id: string): boolean {
    return this.read.has(id);
  }

  get unread(): number {
    return this.notices.size - this.read.size;
  }

  /** Newest first. */
  list(): Notice[] {
    return [...this.notices.values()].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
  }

  toJSON(): SavedBook {
    return { notices: this.list(), read: [...this.read] };
  }

  static from(saved: SavedBook): NoticeBook {
    const book = new NoticeBook();
    for (const notice of [...saved.notices].reverse()) book.add(notice);
    book.markRead(saved.read);
    return book;
  }
}
