import { CloseCode } from '../protocol/close-codes.js';
import type { SharedFrame } from './shared-frame.js';
import type { Transport, TransportHandlers, TransportRequestInfo } from './transport.js';
import type { CoalescedWriter } from './write-coalescer.js';

/** What an HTTP connection tells the registry that knows it by its id. */
export interface HttpConnectionHost {
  /** The connection is over for its session: closed by either side, or dropped. Called once. */
  closed(connection: HttpTransport): void;
  /** Closed, but its last frames and its close wait for the client's next poll, for a while. */
  linger(connection: HttpTransport): void;
  /** Nothing is left to deliver: the id is unknown from now on. */
  forget(connection: HttpTransport): void;
}

/**
 * An HTTP "connection": the transport of one session over a series of HTTP requests,
 * named by an unguessable id (`cid`). Frames from the client come in POST bodies; how
 * frames go to the client is the subclass's (poll responses, or an event stream).
 * Any HTTP failure is a lost connection: the client resumes on a new one.
 */
export abstract class HttpTransport implements Transport, CoalescedWriter {
  abstract get kind(): 'polling' | 'sse';
  private handlers: TransportHandlers | undefined;
  private early: string[] | undefined;
  /** How the connection ended, once it has (it is then no longer open). */
  protected closedAs: { code: number; reason: string } | undefined;
  private closeReported = false;

  constructor(
    readonly cid: string,
    readonly info: TransportRequestInfo,
    protected readonly host: HttpConnectionHost,
  ) {}

  abstract get bufferedAmount(): number;

  get isOpen(): boolean {
    return this.closedAs === undefined;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = undefined;
    if (early) for (const text of early) handlers.onFrame(text, this);
    if (this.closeReported && this.closedAs) handlers.onClose(this.closedAs.code, this.closedAs.reason, this);
  }

  /** HTTP has no transport-level ping: the session's `ping` frames and the client's `pong` keep it alive. */
  ping(): void {}

  abstract send(frame: string | SharedFrame): void;
  abstract flush(): void;
  abstract close(code: number, reason: string): void;
  abstract terminate(): void;

  /** The client closed the connection itself (`POST close`) with this code. */
  abstract closedByClient(code: number, reason: string): void;

  /** One frame of a POST body, in order. */
  receive(text: string): void {
    if (!this.isOpen) return;
    if (this.handlers) this.handlers.onFrame(text, this);
    else (this.early ??= []).push(text);
  }

  /** A request from the client on this connection: it is alive. */
  touched(): void {
    if (this.isOpen) this.handlers?.onPong(this);
  }

  /**
   * The connection is over: no more frames go either way. The session hears of it after
   * the current turn, as it would of a WebSocket's close, never in the middle of a send
   * (a broadcast loop, a slow-consumer cut-off).
   */
  protected ended(code: number, reason: string): boolean {
    if (this.closedAs) return false;
    this.closedAs = { code, reason };
    this.host.closed(this);
    setImmediate(reportClose, this);
    return true;
  }

  /** @internal */
  reportClose(): void {
    this.closeReported = true;
    const closedAs = this.closedAs as { code: number; reason: string };
    this.handlers?.onClose(closedAs.code, closedAs.reason, this);
  }
}

function reportClose(connection: HttpTransport): void {
  connection.reportClose();
}

/** The close code of a connection dropped without a close (a lost HTTP request, an aborted stream). */
export const DROPPED = CloseCode.Abnormal;
