import { ErrorCode } from '../protocol/error-codes.js';
import type { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload } from '../protocol/frames.js';
import type { Deadline, DeadlineClock } from './deadline-clock.js';
import { reauthRejectionPayload } from './middleware.js';

/** What a socket's credentials need from the session that carries it. */
export interface ReauthSession {
  /** The session has a connection (it is not waiting to be resumed). */
  readonly connected: boolean;
  /** The server's one clock for expiries and reauth deadlines. */
  readonly deadlines: DeadlineClock;
  readonly reauthTimeout: number;
  /** Send a `reauth` request for namespace `ns`; settled by the client's reply only (no timer). */
  askReauth(ns: string): { ref: number; reply: Promise<unknown> };
  /** Give up on a request: a reply that still comes is ignored. */
  forgetRequest(ref: number): void;
  /** Error frame, then close 4006: the session ends. */
  authExpired(error: ErrorPayload, ns: string): void;
}

/** What of the socket the refresh reads and writes. */
export interface ReauthSocket {
  readonly connected: boolean;
  readonly handshake: { auth: unknown };
  readonly nsp: { readonly name: string };
}

/**
 * - valid: the credentials hold (until `expiresAt`, if set)
 * - due: they expired while the session waited to be resumed; asked right after the resume
 * - asking: `reauth` sent, waiting for the client's reply
 * - checking: the namespace's middleware runs on the fresh credentials
 * - over: the socket left, or the refresh failed and the connection is closing
 */
type Phase = 'valid' | 'due' | 'asking' | 'checking' | 'over';

/**
 * The expiry of one socket's credentials and their refresh. When the expiry passes, the
 * client is sent a `reauth` request; its reply becomes `handshake.auth` and the namespace's
 * middleware runs again on the same socket. Accepted: the socket goes on. Refused, answered
 * with an error, or not settled within `reauthTimeout` of the request: `auth_expired`
 * (or the middleware's code) and close 4006. Frames keep flowing meanwhile.
 *
 * The object is its own entry in the server's deadline clock: for the expiry while
 * valid, for the reauth deadline while asking or checking.
 */
export class SocketAuth implements Deadline {
  dueAt = 0;
  heapIndex = -1;
  /** Epoch ms when the credentials expire; undefined: never. */
  expiresAt: number | undefined;
  private phase: Phase = 'valid';
  /** The socket is in its namespace: only then does the expiry count. */
  private live = false;
  private ref: number | undefined;
  /** Bumped by every request and by stop(), so a late reply or middleware decision of an older one is ignored. */
  private round = 0;

  constructor(
    private readonly socket: ReauthSocket,
    private readonly session: ReauthSession,
    private readonly reauthenticate: () => Promise<void>,
  ) {}

  /** From the expiry until fresh credentials are accepted. */
  get refreshing(): boolean {
    return this.phase === 'due' || this.phase === 'asking' || this.phase === 'checking';
  }

  /** Set (or with undefined clear) the expiry. During a refresh it counts once the refresh succeeds. */
  expireAt(at: number | undefined): void {
    this.expiresAt = at;
    if (this.phase === 'valid') this.arm();
  }

  /** The socket entered its namespace: an expiry set by its middleware starts counting. */
  start(): void {
    if (this.phase === 'over') return;
    this.live = true;
    this.arm();
  }

  /** The socket left its namespace: nothing more happens. */
  stop(): void {
    this.live = false;
    this.phase = 'over';
    this.round++;
    this.session.deadlines.cancel(this);
    this.forgetRequest();
  }

  /** The session was resumed: credentials that expired while it waited are asked for now, after the welcome. */
  resumed(): void {
    if (this.phase === 'due') this.ask();
  }

  /** @internal Called by the clock. */
  due(): void {
    if (this.phase === 'valid') this.expired();
    else if (this.phase === 'asking') this.fail({ code: ErrorCode.AuthExpired, message: `${this.what} expired and no fresh ones came within ${this.session.reauthTimeout} ms` });
    else if (this.phase === 'checking') {
      this.fail({ code: ErrorCode.AuthExpired, message: `${this.what} expired and the middleware did not decide on fresh ones within ${this.session.reauthTimeout} ms` });
    }
  }

  private get what(): string {
    return `the credentials of namespace "${this.socket.nsp.name}"`;
  }

  private arm(): void {
    if (!this.live) return;
    if (this.expiresAt === undefined) this.session.deadlines.cancel(this);
    else this.session.deadlines.schedule(this, this.expiresAt);
  }

  private expired(): void {
    if (!this.live || !this.socket.connected) return;
    // The expiry has passed: the middleware that accepts fresh credentials sets the next one.
    this.expiresAt = undefined;
    this.phase = 'due';
    // A session waiting to be resumed cannot be asked; the resume must not skip the question either.
    if (this.session.connected) this.ask();
  }

  private ask(): void {
    this.phase = 'asking';
    const round = ++this.round;
    const { ref, reply } = this.session.askReauth(this.socket.nsp.name);
    this.ref = ref;
    // One deadline for the answer and the middleware's decision on it.
    this.session.deadlines.schedule(this, Date.now() + this.session.reauthTimeout);
    reply.then(
      (credentials) => this.check(round, credentials),
      (error: SwitchboardError) => {
        if (round !== this.round || this.phase !== 'asking') return;
        this.fail({ code: ErrorCode.AuthExpired, message: `${this.what} expired and the client sent none: ${error.code}` });
      },
    );
  }

  private check(round: number, credentials: unknown): void {
    if (round !== this.round || this.phase !== 'asking') return;
    this.ref = undefined;
    this.phase = 'checking';
    this.socket.handshake.auth = credentials;
    this.reauthenticate().then(
      () => {
        if (round !== this.round || this.phase !== 'checking') return;
        this.phase = 'valid';
        this.session.deadlines.cancel(this);
        this.arm();
      },
      (err: unknown) => {
        if (round === this.round && this.phase === 'checking') this.fail(reauthRejectionPayload(err));
      },
    );
  }

  private fail(error: ErrorPayload): void {
    const ns = this.socket.nsp.name;
    this.stop();
    this.session.authExpired(error, ns);
  }

  private forgetRequest(): void {
    if (this.ref === undefined) return;
    const ref = this.ref;
    this.ref = undefined;
    this.session.forgetRequest(ref);
  }
}
