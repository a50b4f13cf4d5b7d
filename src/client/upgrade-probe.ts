import { CloseCode } from '../protocol/close-codes.js';
import type { ServerFrame, WelcomeFrame } from '../protocol/frames.js';
import { unrefTimer } from './timers.js';
import type { ClientTransport, HttpTransport, TransportClosed, TransportHandlers } from './client-transport.js';

/** What the probe needs from the connection whose session it moves. */
export interface UpgradeHost {
  /** The HTTP transport carrying the session now, if the session can be resumed elsewhere. */
  upgradable(): HttpTransport | undefined;
  openWebSocket(handlers: TransportHandlers): ClientTransport;
  /** The hello that resumes the session at this instant: its token and the frames received so far. */
  resumeHello(): string;
  sessionId(): string | undefined;
  /** The frame in `text`, or undefined when it is not a valid one (the connection's decoder: the fallback chunk carries no copy of it). */
  decode(text: string): ServerFrame | undefined;
  /** The client's connectTimeout, which bounds a probe too (and MAX_UPGRADE_MS). */
  connectTimeout(): number;
  /**
   * The WebSocket resumed the session: carry on there, sending `held` first. Returns the
   * handlers that get everything the WebSocket receives from now on.
   */
  upgraded(webSocket: ClientTransport, welcome: WelcomeFrame, held: string[]): TransportHandlers;
  /** The hello went out and the WebSocket did not take the session over: recover as after a drop. */
  upgradeFailed(why: string): void;
}

/** First probe this long after a welcome on HTTP; doubled after each failed probe, up to the cap. */
const FIRST_PROBE_MS = 1000;
const MAX_PROBE_MS = 5 * 60_000;
/** An upgrade holds back what the app sends until the WebSocket's welcome: never for long. */
const MAX_UPGRADE_MS = 10_000;

type Step = 'opening' | 'holding' | 'hello_sent';

interface Attempt {
  step: Step;
  webSocket?: ClientTransport;
  http?: HttpTransport;
  timer?: ReturnType<typeof setTimeout>;
  /** After the switch: the connection's handlers, which get the WebSocket's frames. */
  sink?: TransportHandlers;
}

/**
 * Moves a session from SSE or long-polling to a WebSocket once one works. While the
 * session is on HTTP it probes: opens a WebSocket (first after about a second, then with
 * backoff while probes fail) and, once it is open, switches with a deliberate resume:
 *
 * 1. hold the HTTP transport's sends and wait for the POST in flight to be taken in, so
 *    every frame the client sent so far is on the server, in order;
 * 2. send `hello {resume, received}` on the WebSocket and from then on ignore the HTTP
 *    transport (what it still brings is after `received`, so the server sends it again);
 * 3. on `welcome {resumed: true}` the session is the WebSocket's: the frames held in step 1
 *    go out on it and the HTTP transport is let go (the server closed it when it resumed).
 *    `{restored: true}` (a cluster's other node took the session over) is taken too; the
 *    connection then rejoins as after any move between nodes.
 *
 * A probe that fails before step 2 changes nothing for the app. After step 2 the HTTP
 * transport is no longer trusted, so a failure there is recovered like a dropped connection.
 */
export class UpgradeProbe {
  private host: UpgradeHost | undefined;
  private attempt: Attempt | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Consecutive failed probes; kept across reconnects, so a network without WebSocket is probed rarely. */
  private failures = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** The session is on HTTP now: schedule a probe. */
  start(host: UpgradeHost): void {
    this.stop();
    this.host = host;
    this.schedule();
  }

  /** No more probing; a probe under way is closed with `code` (it may carry the session already). */
  stop(code: number = CloseCode.Reconnecting): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.host = undefined;
    const attempt = this.attempt;
    this.attempt = undefined;
    if (!attempt) return;
    clearTimeout(attempt.timer);
    if (attempt.step === 'holding') attempt.http?.release();
    attempt.webSocket?.close(attempt.step === 'hello_sent' ? code : CloseCode.Normal, 'upgrade abandoned');
  }

  private schedule(): void {
    const window = Math.min(MAX_PROBE_MS, FIRST_PROBE_MS * 2 ** this.failures);
    this.timer = setTimeout(() => this.probe(), window * (0.5 + this.random() / 2));
    unrefTimer(this.timer);
  }

  private probe(): void {
    this.timer = undefined;
    const host = this.host;
    if (!host?.upgradable()) return;
    const attempt: Attempt = { step: 'opening' };
    this.attempt = attempt;
    const handlers: TransportHandlers = {
      onOpen: () => void this.opened(attempt),
      onText: (text) => (attempt.sink ? attempt.sink.onText(text) : this.received(attempt, text)),
      // Before the switch only the welcome (text) is awaited: the session's frames follow it.
      onBinary: (message) => attempt.sink?.onBinary(message),
      onClose: (closed) => (attempt.sink ? attempt.sink.onClose(closed) : this.failed(attempt, describe(closed))),
    };
    try {
      attempt.webSocket = host.openWebSocket(handlers);
    } catch (cause) {
      this.failed(attempt, cause instanceof Error ? cause.message : String(cause));
      return;
    }
    const timeoutMs = Math.min(host.connectTimeout(), MAX_UPGRADE_MS);
    attempt.timer = setTimeout(() => this.failed(attempt, `no welcome within ${timeoutMs} ms`), timeoutMs);
  }

  private async opened(attempt: Attempt): Promise<void> {
    const http = this.host?.upgradable();
    if (attempt !== this.attempt || !http) {
      if (attempt === this.attempt) this.failed(attempt, 'the session can no longer move');
      return;
    }
    attempt.step = 'holding';
    attempt.http = http;
    await http.hold();
    const host = this.host;
    // Stopped meanwhile (the HTTP transport failed, the app closed): stop() cleaned up.
    if (attempt !== this.attempt || !host || host.upgradable() !== http) return;
    // One turn: the count in the hello is final the moment HTTP stops delivering.
    attempt.webSocket?.send(host.resumeHello());
    http.mute();
    attempt.step = 'hello_sent';
  }

  private received(attempt: Attempt, text: string): void {
    if (attempt !== this.attempt || attempt.step !== 'hello_sent') return; // nothing but a refusal comes before the hello; its close follows
    const host = this.host as UpgradeHost;
    const frame = host.decode(text);
    if (frame === undefined || frame.type === 'error') return; // the close that follows says it failed
    // Restored: the WebSocket reached another node of a cluster, which took the session over (see Connection.upgraded).
    if (frame.type !== 'welcome' || (frame.resumed !== true && frame.restored !== true) || frame.sid !== host.sessionId()) {
      // A new session instead (the old one could not resume): it is not wanted; end it.
      this.failed(attempt, frame.type === 'welcome' ? 'the server did not resume the session on the WebSocket' : `a ${frame.type} frame before the welcome`, CloseCode.Normal);
      return;
    }
    clearTimeout(attempt.timer);
    this.attempt = undefined;
    this.host = undefined;
    this.failures = 0;
    attempt.sink = host.upgraded(attempt.webSocket as ClientTransport, frame, attempt.http?.takeHeld() ?? []);
  }

  /** `closeCode`: how to close the WebSocket if the hello went out (4005 keeps a session it may have taken over). */
  private failed(attempt: Attempt, why: string, closeCode: number = CloseCode.Reconnecting): void {
    if (attempt !== this.attempt) return;
    this.attempt = undefined;
    clearTimeout(attempt.timer);
    this.failures++;
    const host = this.host;
    if (attempt.step === 'hello_sent') {
      this.host = undefined;
      attempt.webSocket?.close(closeCode, 'upgrade failed');
      host?.upgradeFailed(`upgrade to WebSocket failed after the hello: ${why}`);
      return;
    }
    attempt.webSocket?.close(CloseCode.Normal, 'upgrade probe failed');
    if (attempt.step === 'holding') attempt.http?.release();
    if (host) this.schedule();
  }
}

function describe(closed: TransportClosed): string {
  if (!closed.opened) return `could not open: ${closed.errorMessage ?? `code ${closed.code}`}`;
  return `closed with code ${closed.code}${closed.reason ? ` (${closed.reason})` : ''}`;
}
