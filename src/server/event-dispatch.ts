import { RESERVED_EVENTS } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ErrorPayload, EventFrame } from '../protocol/frames.js';
import { DedupeWindow, type StoredReply } from '../delivery/dedupe-window.js';
import { ArrivalOrder } from './arrival-order.js';
import { authorizeEvent } from './event-authorization.js';
import type { ResolvedOptions } from './options.js';
import type { AnySocket } from './socket.js';
import { validateEvent, type Validation } from './validation.js';

/** What dispatching a client's events needs from its session. */
export interface EventDispatchHost {
  readonly id: string;
  readonly options: ResolvedOptions;
  /** The server is shutting down: requests are answered `shutting_down`. */
  readonly closing: boolean;
  reportError(err: unknown, context: Record<string, unknown>): void;
  sendReply(ref: number, reply: StoredReply): void;
  sendError(error: ErrorPayload, ns?: string): void;
  /** A coded error for the client; anything else is reported and becomes `internal_error`. */
  errorFromHandler(err: unknown, context: Record<string, unknown>): ErrorPayload;
  /** `too_many_pending` when the connection's requests are at `maxPendingRequests`, else undefined. */
  overPendingLimit(): ErrorPayload | undefined;
  /** A request's handler starts; returns when (performance.now()), for requestFinished. */
  requestStarted(): number;
  requestFinished(started: number): void;
  /** A reliable publish was handled: the session's snapshot is out of date. */
  changed(): void;
  /** The namespace's `authorize` refused an event (`code` as the client was told): for the server's count, recent refusals and log. */
  refused(namespace: string, event: string, code: string): void;
}

/**
 * A client's `event` frames, in one session: reserved names refused, the namespace's
 * schema and `authorize` applied in arrival order, fire-and-forget handlers run, requests
 * answered by their first handler (counted for `maxPendingRequests` and shutdown), and
 * reliable publishes run once per sequence number (`dedupeWindow`).
 */
export class EventDispatch {
  /** Reliable publishes seen (`dedupeWindow`), made on the first one. */
  private dedupeWindow: DedupeWindow | undefined;
  /** Event handlers start in arrival order, also behind an async schema. */
  private readonly order: ArrivalOrder;

  constructor(private readonly host: EventDispatchHost) {
    this.order = new ArrivalOrder((err) => host.reportError(err, { session: host.id }));
  }

  /** Reliable publishes handled so far, for the session's snapshot. */
  handledPublishes(): [number, StoredReply][] {
    return this.dedupeWindow?.handled() ?? [];
  }

  /** Go on deduplicating what another node handled. */
  restoreHandled(handled: readonly (readonly [number, StoredReply])[]): void {
    if (handled.length === 0) return;
    (this.dedupeWindow ??= new DedupeWindow(this.host.options.dedupeWindow)).restore(handled);
  }

  handle(socket: AnySocket, frame: EventFrame): void {
    const { event, ref } = frame;
    if (RESERVED_EVENTS.has(event)) {
      const error = { code: ErrorCode.BadRequest, message: `"${event}" is a reserved event name` };
      if (ref === undefined) this.host.sendError(error);
      else this.host.sendReply(ref, { error });
      return;
    }
    const handlers = socket.handlersFor(event);
    if (ref === undefined) {
      // Fire-and-forget events without a handler are ignored, as with any event emitter.
      if (!handlers) return;
      this.whenValid(socket, frame, (error) => this.host.sendError(error, socket.nsp.name), (data) => {
        if (!socket.connected) return;
        for (const handler of socket.handlersFor(event) ?? []) this.runDetached(handler, data, event);
      });
      return;
    }
    let answer = (reply: StoredReply): void => this.host.sendReply(ref, reply);
    if (frame.seq !== undefined) {
      // A reliable publish: its handler runs once per sequence number, re-sends share the reply.
      const seq = frame.seq;
      const dedupe = (this.dedupeWindow ??= new DedupeWindow(this.host.options.dedupeWindow));
      const decision = dedupe.claim(seq, ref);
      if (decision.kind === 'answer') this.host.sendReply(ref, decision.reply);
      if (decision.kind !== 'run') return;
      answer = (reply) => {
        for (const waiting of dedupe.complete(seq, reply)) this.host.sendReply(waiting, reply);
        this.host.changed();
      };
    }
    if (!handlers || handlers.length === 0) {
      answer({ error: { code: ErrorCode.NoHandler, message: `no handler for event "${event}"` } });
      return;
    }
    if (this.host.closing) {
      answer({ error: { code: ErrorCode.ShuttingDown, message: 'the server is shutting down; retry on another connection' } });
      return;
    }
    const overLimit = this.host.overPendingLimit();
    if (overLimit) {
      answer({ error: overLimit });
      return;
    }
    const started = this.host.requestStarted();
    this.whenValid(
      socket,
      frame,
      (error) => {
        answer({ error });
        this.host.requestFinished(started);
      },
      (data) => this.runRequest(socket, event, data, answer, started),
    );
  }

  /**
   * Validate an event's data with its namespace's schema, then start its handlers with
   * the schema's output — in arrival order, and at once unless a schema is async.
   */
  private whenValid(socket: AnySocket, frame: EventFrame, rejected: (error: ErrorPayload) => void, accepted: (data: unknown) => void): void {
    const nsp = socket.nsp;
    const schema = nsp.schemaFor(frame.event);
    const validation: Validation | Promise<Validation> = schema ? validateEvent(schema, frame.event, frame.data) : { ok: true, value: frame.data };
    const authorized = authorizeEvent(nsp.eventAuthorizer, socket, frame.event, validation, this.host.options.handshakeTimeout);
    this.order.next(authorized, (outcome) => {
      if (outcome.ok) {
        accepted(outcome.value);
        return;
      }
      if (outcome.thrown !== undefined) this.host.reportError(outcome.thrown, { session: this.host.id, event: frame.event });
      else if (outcome.byAuthorizer) this.host.refused(nsp.name, frame.event, outcome.error.code);
      rejected(outcome.error);
    });
  }

  /** Start a request's handlers (looked up now: an async validation may have let them change); the first one's result is the reply. */
  private runRequest(socket: AnySocket, event: string, data: unknown, answer: (reply: StoredReply) => void, started: number): void {
    const handlers = socket.connected ? socket.handlersFor(event) : undefined;
    if (!handlers || handlers.length === 0) {
      const error = socket.connected
        ? { code: ErrorCode.NoHandler, message: `no handler for event "${event}"` }
        : { code: ErrorCode.NamespaceNotConnected, message: `namespace "${socket.nsp.name}" was disconnected before "${event}" was handled` };
      answer({ error });
      this.host.requestFinished(started);
      return;
    }
    const [first, ...rest] = handlers as [(d: unknown) => unknown, ...((d: unknown) => unknown)[]];
    for (const handler of rest) this.runDetached(handler, data, event);
    let result: unknown;
    try {
      result = first(data);
    } catch (err) {
      answer({ error: this.host.errorFromHandler(err, { event }) });
      this.host.requestFinished(started);
      return;
    }
    if (isThenable(result)) {
      result
        .then(
          (data) => answer({ data }),
          (err: unknown) => answer({ error: this.host.errorFromHandler(err, { event }) }),
        )
        .then(() => this.host.requestFinished(started));
    } else {
      answer({ data: result });
      this.host.requestFinished(started);
    }
  }

  private runDetached(handler: (data: unknown) => unknown, data: unknown, event: string): void {
    try {
      const result = handler(data);
      if (isThenable(result)) result.then(undefined, (err: unknown) => this.host.reportError(err, { session: this.host.id, event }));
    } catch (err) {
      this.host.reportError(err, { session: this.host.id, event });
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
