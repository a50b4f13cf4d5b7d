import type { StoredReply } from '../delivery/dedupe-window.js';

/** What another node needs to take over a session whose node died: everything but the frames in flight. */
export interface SessionSnapshot {
  sid: string;
  namespaces: SocketSnapshot[];
  /** Reliable publishes already handled, by sequence number: a re-send after the move is answered, not run again. */
  dedupe: [seq: number, reply: StoredReply][];
}

export interface SocketSnapshot {
  ns: string;
  handshake: { auth: unknown; headers: Record<string, string | string[] | undefined>; address: string; url: string; time: number };
  /** Rooms besides its own. */
  rooms: string[];
  /** `socket.data` through JSON. */
  data: unknown;
  authExpiresAt?: number;
  /** `socket.user`: the restored socket keeps it, and its user room. */
  user?: string;
}

/**
 * Sessions kept where every node can read them, so a client whose node died (or that a
 * load balancer sends elsewhere) resumes on any node. The in-memory adapter has none: a
 * single node keeps its sessions in its own memory.
 */
export interface SessionStore {
  /** Save a session's snapshot, the resume tokens that take it, and this node as its owner; kept for `ttlMs`. */
  save(snapshot: SessionSnapshot, tokens: readonly string[], ttlMs: number): Promise<void>;
  /** Extend the life of sessions this node holds. */
  touch(sids: readonly string[], ttlMs: number): Promise<void>;
  /**
   * The session `token` resumes, claimed for this node; `owner` is the node that held it.
   * Undefined for an unknown or expired token. The token is spent (the taker issues its own),
   * unless `keep`: a client that keeps one token for the session's life (a Socket.IO client's
   * `pid`) may come back with it again before this node's next save.
   */
  take(token: string, options?: { keep?: boolean }): Promise<{ snapshot: SessionSnapshot; owner: string } | undefined>;
  /** The session ended: forget it — unless another node took it over meanwhile. */
  drop(sid: string): Promise<void>;
  /** Whether a session with this id lives anywhere in the cluster. */
  exists(sid: string): Promise<boolean>;
}
