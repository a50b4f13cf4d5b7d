import { CloseCode } from '../protocol/close-codes.js';
import { utf8ByteLength } from '../protocol/codec.js';
import type { HttpTransport, HttpTransportOptions, TransportClosed, TransportHandlers } from './client-transport.js';
import { FramePoster } from './frame-poster.js';
import type { HttpEndpoint } from './http-endpoint.js';
import { OpenDeadline } from './open-deadline.js';
import { onPageExit, postAfterPage } from './page-exit.js';

/**
 * What SSE and long-polling share: frames up go as POSTs (FramePoster) once the server has
 * named the connection; the opening must succeed within the open deadline; and the upgrade's
 * hold, mute and hand-over of held frames. Subclasses bring the frames down and call
 * openedAs(), deliver() and finish().
 */
export abstract class HttpTransportBase implements HttpTransport {
  abstract readonly kind: 'sse' | 'polling';
  protected readonly aborter = new AbortController();
  protected opened = false;
  /** Closed or abandoned by us, or finished: no handler is called any more. */
  protected done = false;
  private poster: FramePoster | undefined;
  private muted = false;
  /** The connection ended while muted: the frames held for the upgrade stay until taken. */
  protected lost = false;
  /** Until the server names the connection, which a proxy that buffers the answer holds back. */
  private readonly deadline: OpenDeadline;
  /** Stops listening for the page's unload (set while open in a browser page). */
  private stopPageExit: (() => void) | undefined;

  constructor(
    protected readonly endpoint: HttpEndpoint,
    private readonly handlers: TransportHandlers,
    private readonly options: HttpTransportOptions,
  ) {
    this.deadline = new OpenDeadline(options.openTimeoutMs, (closed) => this.finish(closed));
  }

  get isOpen(): boolean {
    return this.opened && !this.done;
  }

  /** Frames carrying binary data go as they are: in the text form (HTTP bodies and event streams carry text). */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.poster?.send(text);
    return true;
  }

  frameBytes(text: string): number {
    return utf8ByteLength(text);
  }

  /**
   * The frames still queued are posted, then the close request, and only then are the
   * downstream requests aborted: the server takes an aborted stream for a drop (1006) and
   * would keep the session for a resume.
   */
  close(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.deadline.clear();
    this.unwatchPage();
    const poster = this.poster;
    if (!poster || this.lost) {
      // Not open yet, or already gone: nobody to tell.
      this.aborter.abort();
      poster?.abandon();
      return;
    }
    void poster.close(code, reason).finally(() => this.aborter.abort());
  }

  hold(): Promise<void> {
    return this.poster?.hold() ?? Promise.resolve();
  }

  release(): void {
    this.poster?.release();
  }

  mute(): void {
    this.muted = true;
  }

  takeHeld(): string[] {
    return this.poster?.takeHeld() ?? [];
  }

  abandon(): void {
    this.done = true;
    this.deadline.clear();
    this.unwatchPage();
    this.aborter.abort();
    this.poster?.abandon();
  }

  /** The server named the connection `cid`: frames can go up, the session's hello first. */
  protected openedAs(cid: string): void {
    this.poster = new FramePoster(this.endpoint, cid, this.options.maxBatchBytes, (closed) => this.finish(closed));
    this.deadline.clear();
    this.opened = true;
    this.stopPageExit = onPageExit(() => this.pageLeft(cid));
    if (!this.muted) this.handlers.onOpen();
  }

  /** One frame from the server. Once muted (mid-upgrade) it is dropped: the WebSocket gets it again after `received`. */
  protected deliver(text: string): void {
    if (this.opened && !this.muted) this.handlers.onText(text);
  }

  /**
   * The page is unloaded for good: end the session now, with 1001 as a browser closes a
   * WebSocket. A beacon, since no ordinary request outlives the page; it carries the resume
   * token because the server may see the stream drop (1006, kept for a resume) before the
   * beacon arrives, and then finds the session by it. Nothing else is sent or reported: the
   * page is going, and a reconnect now would only leave an orphan session behind.
   */
  private pageLeft(cid: string): void {
    if (this.done) return;
    this.done = true;
    this.deadline.clear();
    this.unwatchPage();
    this.poster?.abandon();
    const close: { code: number; reason: string; resume?: string } = { code: CloseCode.GoingAway, reason: 'page closed' };
    const token = this.options.resumeToken?.();
    if (token !== undefined) close.resume = token;
    postAfterPage(this.endpoint.url('close', cid), JSON.stringify(close));
  }

  private unwatchPage(): void {
    this.stopPageExit?.();
    this.stopPageExit = undefined;
  }

  protected finish(closed: TransportClosed): void {
    if (this.done || this.lost) return;
    this.deadline.clear();
    this.unwatchPage();
    this.aborter.abort();
    if (this.muted) {
      // Mid-upgrade (the server moved the session away, most likely): sending goes on into the hold.
      this.lost = true;
      return;
    }
    this.done = true;
    this.poster?.abandon();
    this.handlers.onClose(closed);
  }
}
