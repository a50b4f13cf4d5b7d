import { CloseCode } from '../protocol/close-codes.js';
import type { HttpTransportOptions, TransportClosed, TransportHandlers } from './client-transport.js';
import { HttpTransportBase } from './http-transport-base.js';
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
export class PollingTransport extends HttpTransportBase {
  readonly kind = 'polling' as const;

  constructor(endpoint: HttpEndpoint, handlers: TransportHandlers, options: HttpTransportOptions) {
    super(endpoint, handlers, options);
    void this.run();
  }

  private async run(): Promise<void> {
    const opening = await this.get(undefined);
    if (!opening) return;
    if (typeof opening.cid !== 'string' || opening.cid === '') {
      this.finish({ code: CloseCode.Abnormal, reason: '', opened: false, errorMessage: 'the server answered the poll without a connection id' });
      return;
    }
    this.openedAs(opening.cid);
    let answer: PollAnswer | undefined = opening;
    while (answer && this.take(answer)) answer = await this.get(opening.cid);
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
  private take(answer: PollAnswer): boolean {
    if (Array.isArray(answer.frames)) {
      for (const frame of answer.frames) {
        if (this.done) return false;
        this.deliver(JSON.stringify(frame));
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
}
