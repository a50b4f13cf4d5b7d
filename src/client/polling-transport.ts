import { CloseCode } from '../protocol/close-codes.js';
import type { HttpTransport, HttpTransportOptions, TransportClosed, TransportHandlers } from './client-transport.js';
import { OpenDeadline } from './open-deadline.js';
import { FramePoster } from './frame-poster.js';
import { describeAnswer, errorText, type HttpEndpoint, REQUEST_DEFAULTS, refusalOf } from './http-endpoint.js';

interface PollAnswer {
  cid?: unknown;
  frames?: unknown;
  close?: { code?: unknown; reason?: unknown };
}

/**
 * A session carried by HTTP long-polling: `GET {path}/poll` opens the connection, then one
 * `GET {path}/poll?cid=…` at a time waits for the server's frames; frames to the server go
 * as POSTs (FramePoster). Any failed request is a lost connection (1006): the client
 * resumes the session on a new one, as after a WebSocket drop.
 */
export class PollingTransport implements HttpTransport {
  readonly kind = 'polling' as const;
  private poster: FramePoster | undefined;
  private readonly aborter = new AbortController();
  private opened = false;
  private done = false;
  private muted = false;
  /** The connection ended while muted: the frames held for the upgrade stay until taken. */
  private lost = false;
  private readonly deadline: OpenDeadline;

  constructor(
    private readonly endpoint: HttpEndpoint,
    private readonly handlers: TransportHandlers,
    private readonly options: HttpTransportOptions,
  ) {
    this.deadline = new OpenDeadline(options.openTimeoutMs, (closed) => this.finish(closed));
    void this.run();
  }

  get isOpen(): boolean {
    return this.opened && !this.done;
  }

  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.poster?.send(text);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.deadline.clear();
    this.aborter.abort();
    // A connection already gone has nobody to tell.
    if (this.lost) this.poster?.abandon();
    else void this.poster?.close(code, reason);
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
    this.aborter.abort();
    this.poster?.abandon();
  }

  private async run(): Promise<void> {
    const opening = await this.get(undefined);
    if (!opening) return;
    if (typeof opening.cid !== 'string' || opening.cid === '') {
      this.finish({ code: CloseCode.Abnormal, reason: '', opened: false, errorMessage: 'the server answered the poll without a connection id' });
      return;
    }
    this.poster = new FramePoster(this.endpoint, opening.cid, this.options.maxBatchBytes, (closed) => this.finish(closed));
    this.deadline.clear();
    this.opened = true;
    if (!this.muted) this.handlers.onOpen();
    let answer: PollAnswer | undefined = opening;
    while (answer && this.deliver(answer)) answer = await this.get(opening.cid);
  }

  /** One poll. Undefined when it failed (the connection is finished then) or the transport is done. */
  private async get(cid: string | undefined): Promise<PollAnswer | undefined> {
    const opened = cid !== undefined;
    try {
      const response = await fetch(this.endpoint.url('poll', cid), { ...REQUEST_DEFAULTS, headers: { accept: 'application/json' }, signal: this.aborter.signal });
      if (response.status !== 200) {
        const refusal = await refusalOf(response);
        const closed: TransportClosed = { code: CloseCode.Abnormal, reason: refusal?.code ?? '', opened, errorMessage: describeAnswer(response, refusal) };
        if (refusal && !opened) closed.refusal = refusal;
        this.finish(closed);
        return undefined;
      }
      const answer = (await response.json()) as PollAnswer;
      if (typeof answer !== 'object' || answer === null) throw new Error('the poll answer is not a JSON object');
      return this.done || this.lost ? undefined : answer;
    } catch (cause) {
      this.finish({ code: CloseCode.Abnormal, reason: '', opened, errorMessage: errorText(cause) });
      return undefined;
    }
  }

  /** Hand the frames of one answer over, in order. False once the connection is over. */
  private deliver(answer: PollAnswer): boolean {
    if (Array.isArray(answer.frames)) {
      for (const frame of answer.frames) {
        if (this.done) return false;
        if (!this.muted) this.handlers.onText(JSON.stringify(frame));
      }
    }
    if (this.done) return false;
    if (answer.close) {
      const { code, reason } = answer.close;
      this.finish({ code: typeof code === 'number' ? code : CloseCode.Abnormal, reason: typeof reason === 'string' ? reason : '', opened: true, errorMessage: undefined });
      return false;
    }
    return true;
  }

  private finish(closed: TransportClosed): void {
    if (this.done || this.lost) return;
    this.deadline.clear();
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
