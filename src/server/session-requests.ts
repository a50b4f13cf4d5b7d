import { ROOT_NAMESPACE } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ClientFrame, ErrorPayload } from '../protocol/frames.js';
import type { PendingReplies } from '../protocol/pending-replies.js';
import type { StoredReply } from '../delivery/dedupe-window.js';
import type { DurableFeed } from './durable-feed.js';
import { EventDispatch } from './event-dispatch.js';
import type { NamespaceSockets } from './namespace-sockets.js';
import type { ResolvedOptions } from './options.js';
import type { ServerCounters } from './server-counters.js';
import { RoomRequests } from './room-requests.js';
import type { HandshakingSession, SessionHandshake } from './session-handshake.js';
import type { OutboxSession, SessionOutbox } from './session-outbox.js';
import { type AnySocket, DisconnectReason } from './socket.js';

/** What a session's client requests need of the server. */
export interface RequestServer {
  readonly options: ResolvedOptions;
  /** The server is shutting down: requests are answered `shutting_down`. */
  readonly closing: boolean;
  /** Durable rooms' deliveries on this node, in stream order; joins replay through it. */
  readonly feed: DurableFeed;
  /** Whether `room` is the id of a live session anywhere in the cluster. */
  isSessionRoom(room: string): Promise<boolean>;
  /** Requests in flight, for a graceful shutdown. */
  requestStarted(): void;
  requestFinished(): void;
  reportError(err: unknown, context: Record<string, unknown>): void;
  readonly outbox: SessionOutbox;
  readonly handshake: SessionHandshake;
  /** The node's numbers (stats()): request latencies, refusals by authorization. */
  readonly counters: ServerCounters;
}

/** What they need of the session. */
export interface RequestingSession extends OutboxSession {
  readonly sockets: NamespaceSockets<AnySocket>;
  changed(): void;
}

/** What routing the client's frames needs of the session. */
export interface RoutedSession extends RequestingSession, HandshakingSession {
  /** The client's requests, made on the first one: an idle session carries none. */
  readonly requests: ClientRequests;
  readonly pendingReplies: PendingReplies | undefined;
  /** Remove a socket from the session (a namespace `disconnect` frame). */
  detach(socket: AnySocket, reason: DisconnectReason, closeConnection: boolean): void;
}

/** The server's parts the client's frames go to. */
export interface FrameServices {
  readonly outbox: SessionOutbox;
  readonly handshake: SessionHandshake;
  readonly resumes: { acknowledged(session: RoutedSession, received: number): void };
}

/** A frame after the handshake, to the part that handles it; a promise holds later frames until it settles (connect, join). */
export function routeFrame(session: RoutedSession, frame: ClientFrame, services: FrameServices): Promise<void> | undefined {
  switch (frame.type) {
    case 'hello':
      services.outbox.sendError(session, { code: ErrorCode.BadRequest, message: 'hello frame: the handshake is already done' });
      return;
    case 'connect':
      return services.handshake.connect(session, frame);
    case 'disconnect': {
      const socket = session.sockets.get(frame.ns ?? ROOT_NAMESPACE);
      if (socket) session.detach(socket, DisconnectReason.ClientDisconnect, false);
      return;
    }
    case 'join':
      return session.requests.roomRequests().join(frame);
    case 'leave':
      session.requests.roomRequests().leave(frame);
      return;
    case 'history':
      void session.requests.roomRequests().history(frame);
      return;
    case 'presence':
      void session.requests.roomRequests().presence(frame);
      return;
    case 'event': {
      const socket = session.requests.socketFor(frame.ns, frame.ref);
      if (socket) session.requests.eventDispatch().handle(socket, frame);
      return;
    }
    case 'reply':
      session.pendingReplies?.settle(frame);
      return;
    case 'ack':
      services.resumes.acknowledged(session, frame.received);
      return;
    case 'ping':
      services.outbox.sendFrame(session, { type: 'pong' });
      return;
    case 'pong':
      return;
  }
}

/**
 * The client's requests in one session: events (event-dispatch.ts) and room requests
 * (room-requests.ts), each made on first use, and the count of those in flight
 * (`maxPendingRequests`). Made on the session's first request.
 */
export class ClientRequests {
  /** Client requests whose handlers are running (`maxPendingRequests`). */
  private pending = 0;
  // Created on first use: an idle connection carries neither.
  private events: EventDispatch | undefined;
  private rooms: RoomRequests | undefined;

  constructor(
    private readonly session: RequestingSession,
    private readonly server: RequestServer,
  ) {}

  roomRequests(): RoomRequests {
    const { server, session } = this;
    const answers = server.outbox;
    return (this.rooms ??= new RoomRequests({
      get options(): ResolvedOptions {
        return server.options;
      },
      get feed(): DurableFeed {
        return server.feed;
      },
      isPrivateRoom: (room) => server.isSessionRoom(room),
      socketFor: (ns, ref) => this.socketFor(ns, ref),
      reply: (ref, data) => answers.reply(session, ref, data),
      replyError: (ref, error) => answers.replyError(session, ref, error),
      errorFromHandler: (err, context) => answers.errorFromHandler(session, err, context),
      bounded: (decision, what) => server.handshake.bounded(decision, what),
      readStarted: (ref) => {
        if (this.pending >= server.options.maxPendingRequests) {
          answers.replyError(session, ref, this.tooManyPending());
          return false;
        }
        this.pending++;
        return true;
      },
      readFinished: () => {
        this.pending--;
      },
      replay: (frame) => answers.sendEncoded(session, frame, false),
      refused: (ns, room, code) => server.counters.refusedAccess(session, code, ns, { room }),
    }));
  }

  /** The client's events; restoreHandled() goes on with what another node handled. */
  eventDispatch(): EventDispatch {
    const { session, server } = this;
    const answers = server.outbox;
    return (this.events ??= new EventDispatch({
      get id(): string {
        return session.id;
      },
      options: server.options,
      get closing(): boolean {
        return server.closing;
      },
      reportError: (err, context) => server.reportError(err, context),
      sendReply: (ref, reply) => this.sendReply(ref, reply),
      sendError: (error, ns) => answers.sendError(session, error, ns),
      errorFromHandler: (err, context) => answers.errorFromHandler(session, err, context),
      overPendingLimit: () => (this.pending >= server.options.maxPendingRequests ? this.tooManyPending() : undefined),
      requestStarted: () => this.started(),
      requestFinished: (started) => this.finished(started),
      changed: () => session.changed(),
      refused: (ns, event, code) => server.counters.refusedAccess(session, code, ns, { event }),
    }));
  }

  /** Reliable publishes handled so far, for the session's snapshot. */
  handledPublishes(): [number, StoredReply][] {
    return this.events?.handledPublishes() ?? [];
  }

  /** The socket of a frame's namespace; undefined after telling the client it is not connected. */
  socketFor(ns: string | undefined, ref: number | undefined): AnySocket | undefined {
    const name = ns ?? ROOT_NAMESPACE;
    const socket = this.session.sockets.get(name);
    if (socket) return socket;
    const error = { code: ErrorCode.NamespaceNotConnected, message: `namespace "${name}" is not connected on this connection` };
    if (ref === undefined) this.server.outbox.sendError(this.session, { ...error }, name);
    else this.server.outbox.replyError(this.session, ref, error);
    return undefined;
  }

  /** A client request's handler starts: counted for `maxPendingRequests` and for a graceful shutdown. */
  private started(): number {
    this.pending++;
    this.server.requestStarted();
    return performance.now();
  }

  /** Its reply is sent: in flight no more, and its time goes into the node's request latency. */
  private finished(started: number): void {
    this.pending--;
    this.server.counters.requestTook(performance.now() - started);
    this.server.requestFinished();
  }

  private tooManyPending(): ErrorPayload {
    const max = this.server.options.maxPendingRequests;
    return { code: ErrorCode.TooManyPending, message: `${max} requests of this connection are already being handled; wait for their replies` };
  }

  private sendReply(ref: number, reply: StoredReply): void {
    if (reply.error) this.server.outbox.replyError(this.session, ref, reply.error);
    else this.server.outbox.reply(this.session, ref, reply.data);
  }
}
