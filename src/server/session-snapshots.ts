import type { SessionSnapshot, SessionStore } from '../cluster/session-store.js';

/** What the snapshots need of a session. */
export interface SnapshotSubject {
  readonly id: string;
  /** Handshaken and not ended: there is something to save. */
  readonly saveable: boolean;
  snapshot(): SessionSnapshot;
  /** The tokens that may resume it now (the current one, and the previous until acknowledged). */
  readonly tokens: readonly string[];
}

/** Milliseconds changes wait to be saved together: many joins of one page load become one write. */
const SAVE_DELAY_MS = 20;

/**
 * Keeps this node's sessions in the cluster's session store, so another node can take one
 * over when this one dies. A session is saved when it changes (handshake, namespaces,
 * rooms, handled reliable publishes, a new resume token, a lost connection) — batched
 * over a few milliseconds — and every session this node holds is renewed well before its
 * TTL. `socket.data` is saved with those changes, not on every assignment.
 */
export class SessionSnapshots {
  private readonly dirty = new Set<SnapshotSubject>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly touchTimer: ReturnType<typeof setInterval>;
  /** How long a saved session lives without renewal: the resume TTL plus one renewal period. */
  readonly ttlMs: number;

  constructor(
    private readonly store: SessionStore,
    resumeTtlMs: number,
    private readonly held: () => Iterable<SnapshotSubject>,
    private readonly reportError: (err: unknown, context: Record<string, unknown>) => void,
  ) {
    const touchEvery = Math.max(1000, Math.min(30_000, Math.floor(resumeTtlMs / 2)));
    this.ttlMs = resumeTtlMs + touchEvery;
    this.touchTimer = setInterval(() => void this.touchAll(), touchEvery);
    this.touchTimer.unref();
  }

  changed(session: SnapshotSubject): void {
    this.dirty.add(session);
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => void this.flush(), SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Save every changed session now. */
  async flush(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const sessions = [...this.dirty];
    this.dirty.clear();
    await Promise.all(
      sessions.map(async (session) => {
        if (!session.saveable) return;
        try {
          await this.store.save(session.snapshot(), session.tokens, this.ttlMs);
        } catch (err) {
          this.reportError(err, { session: session.id, phase: 'session snapshot' });
        }
      }),
    );
  }

  /** The session ended for good: no node may take it over. */
  ended(sid: string): void {
    this.store.drop(sid).catch((err: unknown) => this.reportError(err, { session: sid, phase: 'session snapshot drop' }));
  }

  /** The session another node saved, claimed for this one; undefined when unknown, expired, or the store is unreachable (the client starts anew). */
  async take(token: string, keep = false): Promise<{ snapshot: SessionSnapshot; owner: string } | undefined> {
    try {
      return await this.store.take(token, { keep });
    } catch (err) {
      this.reportError(err, { phase: 'session take-over' });
      return undefined;
    }
  }

  async exists(sid: string): Promise<boolean> {
    return this.store.exists(sid);
  }

  /** Save what is pending and stop (a server closing: its sessions stay resumable elsewhere). */
  async close(): Promise<void> {
    clearInterval(this.touchTimer);
    await this.flush();
  }

  private async touchAll(): Promise<void> {
    const sids: string[] = [];
    for (const session of this.held()) if (session.saveable) sids.push(session.id);
    try {
      await this.store.touch(sids, this.ttlMs);
    } catch (err) {
      this.reportError(err, { phase: 'session snapshot renewal' });
    }
  }
}
