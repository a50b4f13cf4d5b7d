import { encodeFrame } from '../protocol/codec.js';
import { ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ClientFrame, DisconnectFrame, EventFrame, PingFrame, PongFrame, PositionFrame, PresenceFrame, ReauthFrame, ReplyFrame } from '../protocol/frames.js';
import { errorText } from './client-errors.js';
import { type ChangeDetails, ConnectionReason, type ConnectionState } from './connection-state.js';
import { encodeReply, type HandlerOutcome } from './incoming-requests.js';
import type { NamespaceMember } from './namespace-member.js';
import { type AuthOption, resolveAuth } from './options.js';
import type { Outbound } from './outbound.js';
import { disconnectedError, type OutgoingRequests } from './outgoing-requests.js';

type ConnectionChange = typeof ConnectionState.Connecting | typeof ConnectionState.Disconnected;

/** The frames after the welcome but errors (which say why a close comes, too). */
export type RoutedFrame = EventFrame | PresenceFrame | PositionFrame | DisconnectFrame | ReauthFrame | ReplyFrame | PingFrame | PongFrame;

/** What routing needs of the connection the namespaces share. */
export interface RouterCarrier {
  /** The namespace of the hello, and the auth of namespaces without their own (for reauth). */
  readonly options: { readonly namespace: string; readonly auth: AuthOption; readonly ackTimeout: number };
  readonly requests: OutgoingRequests;
  /** Bumped by every attempt and by close(), so async steps of a stale attempt stop. */
  readonly generation: number;
  /** A welcomed socket carries the session now. */
  readonly isOpen: boolean;
  readonly isClosed: boolean;
  readonly maxMessageBytes: number | undefined;
  sendFrame(frame: ClientFrame): void;
  readonly outbound: Pick<Outbound, 'sendRequest' | 'replied'>;
  replySender(): (text: string) => void;
}

/**
 * The namespaces multiplexed on one connection: who they are, which frames go to which,
 * and how each gets connected after a welcome (`connect` frames with their own auth).
 */
export class NamespaceRouter {
  private readonly members = new Map<string, NamespaceMember>();

  constructor(private readonly carrier: RouterCarrier) {}

  get(namespace: string): NamespaceMember | undefined {
    return this.members.get(namespace);
  }

  /** The member of the hello's namespace. */
  get primary(): NamespaceMember | undefined {
    return this.members.get(this.carrier.options.namespace);
  }

  add(member: NamespaceMember): void {
    this.members.set(member.namespace, member);
  }

  /** False when `member` is not (or no longer) the one registered for its namespace. */
  delete(member: NamespaceMember): boolean {
    if (this.members.get(member.namespace) !== member) return false;
    this.members.delete(member.namespace);
    return true;
  }

  /** Unregister every member; returns them. */
  takeAll(): NamespaceMember[] {
    const members = [...this.members.values()];
    this.members.clear();
    return members;
  }

  all(): Iterable<NamespaceMember> {
    return this.members.values();
  }

  isConnected(namespace: string): boolean {
    return this.members.get(namespace)?.isNamespaceConnected === true;
  }

  /**
   * Tell every namespace. Listeners may add namespaces, close the client or call
   * reconnectNow() while being told: iterate over a snapshot, and stop once the attempt
   * being reported is no longer the current one.
   */
  forEach(fn: (member: NamespaceMember) => void, generation = this.carrier.generation): void {
    for (const member of [...this.members.values()]) {
      if (this.carrier.generation !== generation || this.carrier.isClosed) return;
      if (this.members.get(member.namespace) === member) fn(member);
    }
  }

  /** A frame to where it belongs: a reply to its request, an event or presence change to its namespace. */
  /** Tell every namespace how the connection as a whole changed, and why an attempt failed. */
  tell(state: ConnectionChange, reason: ConnectionReason, details: ChangeDetails, connectError: SwitchboardError | undefined, generation: number): void {
    this.forEach((m) => m.connectionChanged(state, reason, details), generation);
    if (connectError) this.forEach((m) => m.connectFailed(connectError), generation);
  }

  /** A frame to where it belongs: a reply to its request, an event or presence change to its namespace. */
  route(frame: RoutedFrame): void {
    switch (frame.type) {
      case 'ping':
        this.carrier.sendFrame({ type: 'pong' });
        return;
      case 'pong':
        return; // Liveness only: the connection's watchdog saw it.
      case 'reply':
        this.carrier.requests.settle(frame);
        this.carrier.outbound.replied(frame.ref);
        return;
      case 'event':
        this.routeEvent(frame);
        return;
      case 'presence': {
        const member = this.members.get(frame.ns ?? ROOT_NAMESPACE);
        if (member?.isNamespaceConnected) member.receivePresence(frame);
        return;
      }
      case 'position': {
        const member = this.members.get(frame.ns ?? ROOT_NAMESPACE);
        if (member?.isNamespaceConnected) member.receivePosition(frame);
        return;
      }
      case 'disconnect':
        this.members.get(frame.ns ?? ROOT_NAMESPACE)?.serverDisconnected();
        return;
      case 'reauth':
        this.reauth(frame);
        return;
    }
  }

  /** An error frame on the welcomed socket: to its namespace, or else to the hello's. */
  receiveError(namespace: string | undefined, error: SwitchboardError): void {
    (this.members.get(namespace ?? ROOT_NAMESPACE) ?? this.primary)?.receiveError(error);
  }

  reportToPrimary(error: SwitchboardError): void {
    this.primary?.receiveError(error);
  }

  /** After a welcome: connect (or, resumed, confirm) each namespace the app wants; the hello's namespace rejoins its rooms and flushes. */
  enter(resumed: boolean, user: string | undefined): void {
    // Order matters (see the brief): other namespaces first, then the hello's namespace rejoins its rooms and flushes.
    const primary = this.primary;
    for (const member of [...this.members.values()]) {
      if (member === primary || !member.wantsConnection || this.members.get(member.namespace) !== member) continue;
      // The session kept this namespace: it is connected already, with its rooms.
      if (resumed && member.inSession) member.namespaceReady(ConnectionReason.NamespaceConnected, true);
      else this.connect(member);
      if (!this.carrier.isOpen) return; // a listener closed the client
    }
    if (!primary || this.members.get(primary.namespace) !== primary) return;
    primary.user = user;
    if (primary.wantsConnection) primary.namespaceReady(ConnectionReason.HandshakeOk, resumed);
    // The hello always connects its namespace; undo that for one the server had disconnected.
    else this.carrier.sendFrame({ type: 'disconnect', ns: primary.namespace });
  }

  /**
   * Send a namespace's `connect` frame. Synchronous unless its auth is a function, so after a
   * welcome the connect frames go out before the hello's namespace flushes its buffer.
   */
  connect(member: NamespaceMember): void {
    const generation = this.carrier.generation;
    if (typeof member.auth !== 'function') {
      this.sendConnect(member, member.auth, generation);
      return;
    }
    resolveAuth(member.auth).then(
      (auth) => this.sendConnect(member, auth, generation),
      (cause: unknown) => {
        if (generation !== this.carrier.generation) return;
        member.refused(new SwitchboardError(ErrorCode.Unauthorized, `the auth function of ${member.namespace} failed: ${errorText(cause)}`, { cause }));
      },
    );
  }

  private sendConnect(member: NamespaceMember, auth: unknown, generation: number): void {
    const current = (): boolean => generation === this.carrier.generation && this.members.get(member.namespace) === member;
    if (!current() || !this.carrier.isOpen) return;
    const requests = this.carrier.requests;
    const { ref, reply } = requests.create(this.carrier.options.ackTimeout, `connect to ${member.namespace}`);
    const frame: ClientFrame = auth === undefined ? { type: 'connect', ref, ns: member.namespace } : { type: 'connect', ref, ns: member.namespace, auth };
    try {
      // A resume sends a fresh connect for a namespace not yet connected (the server answers ok if it is).
      if (!this.carrier.outbound.sendRequest(ref, encodeFrame(frame), 'blocking', { renewOnResume: true })) requests.fail(ref, disconnectedError('the socket closed'));
    } catch (error) {
      requests.fail(ref, error as SwitchboardError); // unserializable auth: refused below, like a server refusal
    }
    reply.then(
      (data) => {
        if (current()) {
          member.user = userOf(data);
          member.namespaceReady(ConnectionReason.NamespaceConnected, false);
        }
        // Closed by the app while the connect was on its way: undo it on the server.
        else if (generation === this.carrier.generation && !this.members.has(member.namespace)) this.carrier.sendFrame({ type: 'disconnect', ns: member.namespace });
      },
      (error: SwitchboardError) => {
        // A drop is retried by the next welcome; close() ends everything anyway.
        if (current() && error.code !== ErrorCode.Disconnected && error.code !== ErrorCode.Closed) member.refused(error);
      },
    );
  }

  /**
   * The server says a namespace's credentials expired: call its `auth` again and answer with
   * the result (the session goes on if the server accepts it), or with the error the function
   * threw. An of() namespace without its own `auth` used the hello's, so it gets connect()'s.
   */
  private reauth(frame: ReauthFrame): void {
    const ns = frame.ns ?? ROOT_NAMESPACE;
    const send = this.carrier.replySender();
    const member = this.members.get(ns);
    if (!member) {
      const message = `the client is not connected to namespace ${ns}`;
      send(encodeFrame({ type: 'reply', ref: frame.ref, error: { code: ErrorCode.NamespaceNotConnected, message } }));
      return;
    }
    const auth = member.auth === undefined ? this.carrier.options.auth : member.auth;
    resolveAuth(auth)
      .then(
        (data): HandlerOutcome => ({ ok: true, data }),
        (cause: unknown): HandlerOutcome => ({
          ok: false,
          error: cause instanceof SwitchboardError ? cause.toPayload() : { code: ErrorCode.Unauthorized, message: `the auth function failed: ${errorText(cause)}` },
        }),
      )
      .then((outcome) => send(encodeReply(frame.ref, outcome, this.carrier.maxMessageBytes)));
  }

  private routeEvent(frame: EventFrame): void {
    const member = this.members.get(frame.ns ?? ROOT_NAMESPACE);
    if (member?.isNamespaceConnected) {
      member.receiveEvent(frame);
    } else if (frame.ref !== undefined) {
      // Answer anyway so the server's request does not wait for its timeout.
      const message = `the client is not connected to namespace ${frame.ns ?? ROOT_NAMESPACE}`;
      this.carrier.sendFrame({ type: 'reply', ref: frame.ref, error: { code: ErrorCode.NamespaceNotConnected, message } });
    }
  }
}

/** The `user` of a connect reply (`{ ns, user? }`): a string, or undefined. */
function userOf(reply: unknown): string | undefined {
  const user = (reply as { user?: unknown } | null | undefined)?.user;
  return typeof user === 'string' ? user : undefined;
}
