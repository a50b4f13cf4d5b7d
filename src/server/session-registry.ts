import { randomBytes } from 'node:crypto';
import type { ClusterAdapter } from '../cluster/adapter.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { SessionStore } from '../cluster/session-store.js';
import type { Transport, TransportRequestInfo } from '../transport/transport.js';
import type { Admission } from './admission.js';
import { DeadlineClock } from './deadline-clock.js';
import type { DurableFeed } from './durable-feed.js';
import type { AnyNamespace } from './namespace.js';
import type { ResolvedOptions } from './options.js';
import type { ResumeLog } from './resume-log.js';
import type { FrameTracer } from './frame-trace.js';
import type { ServerCounters } from './server-counters.js';
import { Session, type SessionHost } from './session.js';
import { isSessionIdShaped } from './session-id.js';
import { SessionHandshake } from './session-handshake.js';
import { FrameIntake } from './session-intake.js';
import { SessionOutbox } from './session-outbox.js';
import { SessionResume, type ResumeTokens } from './session-resume.js';
import { SessionSnapshots } from './session-snapshots.js';
import { DisconnectReason } from './socket.js';

/** What the node's sessions need of the server. */
export interface SessionServer {
  readonly options: ResolvedOptions;
  /** Whether the server is shutting down. */
  closing(): boolean;
  readonly cluster: ClusterAdapter;
  readonly admission: Admission;
  readonly feed: DurableFeed;
  readonly resumeLog: ResumeLog;
  /** The node's numbers (stats()). */
  readonly counters: ServerCounters;
  /** Frame tracing (`traceFrames`, `DEBUG=switchboard:frames`); undefined when it is off. */
  readonly tracer: FrameTracer | undefined;
  namespace(name: string): AnyNamespace | undefined;
  reportError(err: unknown, context: Record<string, unknown>): void;
}

/**
 * This node's sessions: by id (each also names its sockets' private rooms), by resume
 * token, their places while they wait to be resumed, their snapshots for the cluster, and
 * the client requests in flight. It is the host every Session talks to; the server holds
 * it privately, so none of this is the server's public API.
 */
export class SessionRegistry implements SessionHost {
  /** Live sessions by id: the id is also each socket's private room. */
  private readonly sessions = new Map<string, Session>();
  /** Resume token → session; a token is retired when its session resumes or ends. */
  private readonly resumeTokens = new Map<string, Session>();
  /** One timer for every socket's credential expiry and reauth deadline, and every session's handshake timeout and resume TTL. */
  readonly deadlines = new DeadlineClock();
  /** This node's sessions, saved for other nodes to take over (with a cluster adapter that keeps sessions). */
  snapshots: SessionSnapshots | undefined;
  private inflight = 0;
  private drained: (() => void) | undefined;
  readonly tokens: ResumeTokens<Session>;
  // One of each for all sessions: what they keep of a session is fields of the session.
  readonly intake: FrameIntake;
  readonly outbox: SessionOutbox;
  readonly handshake: SessionHandshake;
  readonly resumes: SessionResume<Session>;
  readonly counters: ServerCounters;

  constructor(private readonly server: SessionServer) {
    this.counters = server.counters;
    const reportError = (err: unknown, context: Record<string, unknown>): void => server.reportError(err, context);
    this.intake = new FrameIntake(server.options, reportError, this, server.counters);
    this.outbox = new SessionOutbox(server.options, reportError, server.counters);
    this.handshake = new SessionHandshake(this);
    this.tokens = {
      issue: (session) => {
        const token = randomBytes(24).toString('base64url');
        this.resumeTokens.set(token, session);
        return token;
      },
      adopt: (session, token) => {
        this.resumeTokens.set(token, session);
        return token;
      },
      retire: (session, token) => {
        if (this.resumeTokens.get(token) === session) this.resumeTokens.delete(token);
      },
    };
    this.resumes = new SessionResume(this.tokens, server.resumeLog, server.options);
  }

  get options(): ResolvedOptions {
    return this.server.options;
  }

  get closing(): boolean {
    return this.server.closing();
  }

  get feed(): DurableFeed {
    return this.server.feed;
  }

  get resumeLog(): ResumeLog {
    return this.server.resumeLog;
  }

  namespace(name: string): AnyNamespace | undefined {
    return this.server.namespace(name);
  }

  reportError(err: unknown, context: Record<string, unknown>): void {
    this.server.reportError(err, context);
  }

  /** Sessions, including those waiting to be resumed and connections still handshaking. */
  get size(): number {
    return this.sessions.size;
  }

  /** Sessions with a connection (not waiting to be resumed). */
  get connectionCount(): number {
    let count = 0;
    for (const session of this.sessions.values()) if (session.connected) count++;
    return count;
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** A new connection, on any transport: its session starts with the handshake. */
  start(transport: Transport, info: TransportRequestInfo): void {
    // Decided once here: sessions that are not traced keep their transport as it is.
    const { tracer } = this.server;
    const session = new Session(this, tracer ? tracer.wrap(transport, info) : transport, info);
    this.sessions.set(session.id, session);
  }

  /** Sessions can be saved in `store` for other nodes to take over. */
  keepSnapshotsIn(store: SessionStore): void {
    this.snapshots = new SessionSnapshots(store, this.server.options.resume.ttl, () => this.sessions.values(), (err, context) => this.reportError(err, context));
  }

  /** Another node took session `sid` over. */
  movedAway(sid: string): void {
    this.sessions.get(sid)?.movedAway();
  }

  /** The session a resume token names ends as if its connection had closed with `code`; false when there is none. */
  endByToken(token: string, code: number, reason: string): boolean {
    const session = this.resumeTokens.get(token);
    session?.close(code, reason, DisconnectReason.ClientDisconnect);
    return session !== undefined;
  }

  resumable(token: string): Session | undefined {
    return this.resumeTokens.get(token);
  }

  hasSession(id: string): boolean {
    return this.sessions.has(id);
  }

  async isSessionRoom(room: string): Promise<boolean> {
    if (this.sessions.has(room)) return true;
    // A session id of another node: only a cluster that keeps sessions knows them; only names of that shape are asked about.
    if (!this.snapshots || !isSessionIdShaped(room)) return false;
    try {
      return await this.snapshots.exists(room);
    } catch {
      // Unknown while the store is away: refuse rather than let a client into another's private room.
      return true;
    }
  }

  adopt(session: Session, sid: string, owner: string): void {
    // A copy of this session still here (its client came back through another node and then here): the newest wins.
    const stale = this.sessions.get(sid);
    if (stale && stale !== session) stale.movedAway();
    this.sessions.delete(session.id);
    session.id = sid;
    this.sessions.set(sid, session);
    const { cluster } = this.server;
    if (owner !== cluster.nodeId) cluster.announceTakeover?.(sid);
  }

  sessionClosed(session: Session, why?: DisconnectReason): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    for (const token of session.tokens) this.tokens.retire(session, token);
    // Ended for good, unless the server is closing (the client resumes on another node) or another node has it now.
    if (this.snapshots && why !== undefined && session.welcomed && !session.moved && why !== DisconnectReason.ServerShutdown) this.snapshots.ended(session.id);
  }

  holdPlace(session: Session, address: string, end: () => void): void {
    this.server.admission.hold(session, address, end);
  }

  releasePlace(session: Session): void {
    this.server.admission.release(session);
  }

  requestStarted(): void {
    this.inflight++;
  }

  requestFinished(): void {
    this.inflight--;
    if (this.inflight === 0) this.drained?.();
  }

  /**
   * The server shuts down: in-flight requests get up to `deadline` ms, then every session
   * is saved (for another node to resume) and closed with 1001; peers that do not answer
   * the close within `grace` ms are dropped.
   */
  async closeAll(deadline: number, grace: number): Promise<void> {
    await this.drain(deadline);
    const open = [...this.sessions.values()];
    const { snapshots } = this;
    if (snapshots) {
      // Saved as they are now, so each client resumes its session on another node.
      for (const session of open) session.changed();
      await snapshots.close();
    }
    for (const session of open) session.close(CloseCode.GoingAway, 'server shutting down', DisconnectReason.ServerShutdown);
    await waitUntil(() => this.sessions.size === 0, grace);
    for (const session of [...this.sessions.values()]) session.terminate(DisconnectReason.ServerShutdown);
  }

  /** Resolves when no client request is in flight, or after `deadline` ms. */
  private async drain(deadline: number): Promise<void> {
    if (this.inflight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadline);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function waitUntil(done: () => boolean, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const check = (): void => {
      if (done() || Date.now() - started >= maxMs) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
}
