import { encodeFrame } from '../protocol/codec.js';
import { CloseCode } from '../protocol/close-codes.js';
import { PROTOCOL_VERSION, ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ConnectFrame, HelloFrame, WelcomeFrame } from '../protocol/frames.js';
import type { ResumePolicy, TransportRequestInfo } from '../transport/transport.js';
import type { SessionSnapshot } from '../cluster/session-store.js';
import { announcedLimits } from './announced-limits.js';
import { parseCookies } from './cookies.js';
import { rejectionPayload } from './middleware.js';
import type { AnyNamespace } from './namespace.js';
import type { NamespaceSockets } from './namespace-sockets.js';
import type { ResolvedOptions } from './options.js';
import type { OutboxSession, SessionOutbox } from './session-outbox.js';
import { awaitsRestoreAck, type ResumeState } from './session-resume.js';
import type { SessionSnapshots } from './session-snapshots.js';
import { SessionState } from './session-state.js';
import { type AnySocket, DisconnectReason, type Handshake, type SocketSession } from './socket.js';
import { queryOf } from './handshake-query.js';

/** What the handshakes need of the server. */
export interface HandshakeServer {
  readonly options: ResolvedOptions;
  namespace(name: string): AnyNamespace | undefined;
  /** The session a resume token belongs to, if it is still alive. */
  resumable(token: string): HandshakingSession | undefined;
  /** Where sessions are saved for other nodes to take over; undefined on a single node. */
  readonly snapshots: SessionSnapshots | undefined;
  readonly outbox: SessionOutbox;
  readonly resumes: { restoredBy(session: HandshakingSession, presented: string): void };
  /** This connection took over session `sid` from another node: it goes by that id now. */
  adopt(session: HandshakingSession, sid: string, owner: string): void;
}

/** What the handshakes keep of each session (fields of the session: no object per session). */
export interface HandshakeState {
  /** The latest connection's request: a resume replaces it (see reconnected()). */
  requestInfo: TransportRequestInfo;
  /** The hello's `auth`, for namespaces connected without their own. */
  helloAuth: unknown;
  /** The upgrade's cookies, parsed once for every namespace's handshake. */
  cookies: Readonly<Record<string, string>> | undefined;
}

/** What the handshakes need of the session they admit a client to. */
export interface HandshakingSession extends SocketSession, OutboxSession, HandshakeState, ResumeState {
  readonly sockets: NamespaceSockets<AnySocket>;
  /** How the client on the connection resumes (its transport's `resumePolicy`). */
  readonly resumePolicy: ResumePolicy | undefined;
  /** This connection resumes `previous` (see Session.handOver). */
  handOver(previous: HandshakingSession, ns: string, received: number, restored?: boolean): void;
  /** The handshake is done: welcome sent, heartbeat from now. */
  /** `user`: the user of the namespace's socket (default: that of the socket the session has in `ns`). */
  sendWelcome(ns: string, resumed?: boolean, restored?: boolean, user?: string): void;
  /** The client's requests (made on the first). */
  readonly requests: { eventDispatch(): { restoreHandled(handled: SessionSnapshot['dedupe']): void } };
  heardAfterHello: boolean;
  changed(): void;
}

/**
 * Handshakes: admission to sessions and their namespaces. The hello (a new session, a
 * resume, or a takeover from another node), `connect` frames for further namespaces, and
 * the handshake every namespace's middleware sees. One per server; what it keeps of a
 * session is the session's HandshakeState.
 */
export class SessionHandshake {
  constructor(private readonly server: HandshakeServer) {}

  async hello(session: HandshakingSession, hello: HelloFrame): Promise<void> {
    const { server } = this;
    const { outbox } = server;
    // A connection already being closed (the handshake timed out) is not admitted.
    if (!session.handshaking) return;
    if (hello.v !== PROTOCOL_VERSION) {
      const older = hello.v < PROTOCOL_VERSION ? 'client' : 'server';
      outbox.fail(
        session,
        ErrorCode.UnsupportedVersion,
        `the client speaks switchboard protocol v${hello.v} and this server speaks v${PROTOCOL_VERSION}: upgrade the ${older}`,
        CloseCode.UnsupportedVersion,
      );
      return;
    }
    const name = hello.ns ?? ROOT_NAMESPACE;
    if (hello.resume !== undefined) {
      const previous = server.resumable(hello.resume);
      const other = previous !== session ? previous : undefined;
      if (other && awaitsRestoreAck(other, hello.resume)) {
        // The client never got this node's restoring welcome: its count is the old node's.
        // Restored again, here: it counts from 0, and every frame since is sent again.
        if (canResume(other, name, 0)) {
          session.handOver(other, name, 0, true);
          return;
        }
      } else if (other && canResume(other, name, hello.received)) {
        session.handOver(other, name, hello.received as number);
        return;
      }
      // Unknown or expired token, or frames the client missed are gone: a new session
      // (`resumed: false`). The old one cannot be resumed any more either.
      if (other) other.close(CloseCode.Normal, 'not resumable', DisconnectReason.TransportClosed);
      else if (!previous && server.snapshots) {
        // Not held here: another node may have held it (and died, or the client came through another route).
        const taken = await server.snapshots.take(hello.resume, session.resumePolicy === 'stable-token');
        if (!session.handshaking) return;
        if (taken?.snapshot.namespaces.some((s) => s.ns === name) && server.namespace(name)) {
          this.restore(session, taken.snapshot, taken.owner, name, hello.resume);
          return;
        }
      }
    }
    const nsp = server.namespace(name);
    if (!nsp) {
      outbox.fail(session, ErrorCode.BadHandshake, `unknown namespace "${name}"`, CloseCode.BadHandshake);
      return;
    }
    session.helloAuth = hello.auth;
    let socket: AnySocket;
    try {
      socket = await nsp.admit(session, this.handshake(session, hello.auth));
    } catch (err) {
      const rejection = rejectionPayload(err);
      outbox.fail(session, rejection.code, rejection.message, CloseCode.PolicyViolation);
      return;
    }
    // Timed out (or the connection went) while the middleware decided.
    if (!session.handshaking) return;
    session.sendWelcome(name, false, false, socket.user);
    session.sockets.set(name, socket);
    nsp.attach(socket);
    session.changed();
  }

  /**
   * Take over a session another node saved: its id, namespaces (their connection handlers
   * run again, with `socket.recovered`), rooms, `data` and handled reliable publishes. The
   * frames that node sent and the client did not acknowledge are not here: the welcome says
   * `resumed: false, restored: true`, and the client rejoins its durable rooms with `since`.
   */
  private restore(session: HandshakingSession, snapshot: SessionSnapshot, owner: string, ns: string, presented: string): void {
    const { server } = this;
    server.adopt(session, snapshot.sid, owner);
    // A session in use on another node, not an abandoned connection: it keeps the whole TTL.
    session.heardAfterHello = true;
    server.resumes.restoredBy(session, presented);
    session.sendWelcome(ns, false, true, snapshot.namespaces.find((s) => s.ns === ns)?.user);
    if (snapshot.dedupe.length > 0) session.requests.eventDispatch().restoreHandled(snapshot.dedupe);
    session.helloAuth = snapshot.namespaces.find((s) => s.ns === ns)?.handshake.auth;
    for (const saved of snapshot.namespaces) {
      const nsp = server.namespace(saved.ns);
      if (!nsp || session.sockets.has(saved.ns)) continue;
      const socket = nsp.restore(session, saved);
      // The saved handshake is the old connection's; this one is who is connected now.
      socket.reconnected(this.handshake(session, socket.handshake.auth));
      session.sockets.set(saved.ns, socket);
      nsp.attach(socket, saved.rooms);
    }
    session.changed();
  }

  async connect(session: HandshakingSession, frame: ConnectFrame): Promise<void> {
    const { server } = this;
    const answers = server.outbox;
    const name = frame.ns;
    const connected = session.sockets.get(name);
    if (connected) {
      answers.reply(session, frame.ref, connectReply(name, connected));
      return;
    }
    const nsp = server.namespace(name);
    if (!nsp) {
      answers.replyError(session, frame.ref, { code: ErrorCode.UnknownNamespace, message: `unknown namespace "${name}"` });
      return;
    }
    let socket: AnySocket;
    try {
      const admitted = nsp.admit(session, this.handshake(session, frame.auth === undefined ? session.helloAuth : frame.auth));
      socket = await this.bounded(admitted, `middleware of namespace "${name}"`);
    } catch (err) {
      answers.replyError(session, frame.ref, rejectionPayload(err));
      return;
    }
    if (session.over) return;
    answers.reply(session, frame.ref, connectReply(name, socket));
    session.sockets.set(name, socket);
    nsp.attach(socket);
    session.changed();
  }

  /** The welcome of a handshake, a resume or a takeover, with the session's current token. */
  welcome(sid: string, ns: string, token: string | undefined, resumed: boolean, restored: boolean, user: string | undefined): string {
    const { heartbeat } = this.server.options;
    const welcome: WelcomeFrame = {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      sid,
      ns,
      resume: token ?? null,
      resumed,
      heartbeat: { interval: heartbeat.interval, timeout: heartbeat.timeout },
      limits: announcedLimits(this.server.options),
    };
    if (restored) welcome.restored = true;
    if (user !== undefined) welcome.user = user;
    return encodeFrame(welcome);
  }

  /** Whoever resumed is who is connected now (a resume token is a bearer credential): every socket's handshake shows their connection. */
  reconnected(session: HandshakingSession, request: TransportRequestInfo): void {
    session.requestInfo = request;
    session.cookies = undefined;
    for (const socket of session.sockets.values()) socket.reconnected(this.handshake(session, socket.handshake.auth));
  }

  /**
   * App decisions (middleware, authorizeJoin) hold this connection's later frames, so one
   * that never settles must not stall it forever: it gets the handshake timeout.
   */
  bounded<T>(decision: Promise<T>, what: string): Promise<T> {
    const ms = this.server.options.handshakeTimeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SwitchboardError(ErrorCode.Timeout, `${what} did not decide within ${ms} ms`)), ms);
    });
    return Promise.race([decision, expired]).finally(() => clearTimeout(timer));
  }

  private handshake(session: HandshakeState, auth: unknown): Handshake {
    const info = session.requestInfo;
    const header = info.headers.cookie;
    session.cookies ??= header === undefined ? NO_COOKIES : parseCookies(header);
    return { auth, headers: info.headers, cookies: session.cookies, address: info.remoteAddress, url: info.url, query: queryOf(info.url), time: Date.now() };
  }
}

/** Whether a client that received `received` frames can resume `session` in namespace `ns` without a hole. */
function canResume(session: HandshakingSession, ns: string, received: number | undefined): boolean {
  // Not a session being closed on purpose: it ends, and its client starts anew.
  const { state } = session;
  const resumable = state === SessionState.Open || state === SessionState.Away;
  return resumable && session.sockets.has(ns) && received !== undefined && (session.kept?.canReplayAfter(received) ?? false);
}

/** The reply to a `connect`: the namespace, and the socket's user when it has one. */
function connectReply(ns: string, socket: AnySocket): { ns: string; user?: string } {
  return socket.user === undefined ? { ns } : { ns, user: socket.user };
}

/** The cookies of every upgrade without a Cookie header: one frozen object for all. */
const NO_COOKIES: Readonly<Record<string, string>> = Object.freeze({});
