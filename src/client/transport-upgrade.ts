import { CloseCode } from '../protocol/close-codes.js';
import { decodeServerFrame } from '../protocol/codec.js';
import type { WelcomeFrame } from '../protocol/frames.js';
import { type ClientTransport, type HttpTransport, isHttpTransport, type TransportHandlers } from './client-transport.js';
import { fallbackTransports } from './fallback-loader.js';
import type { UpgradeHost, UpgradeProbe } from './upgrade-probe.js';

/** What moving the session onto a WebSocket needs of the connection. */
export interface UpgradeSubject {
  /** The transport carrying the session now. */
  current(): ClientTransport | undefined;
  /** Whether the session could be resumed on another transport now: welcomed, with a resume token. */
  movable(): boolean;
  openWebSocket(handlers: TransportHandlers): ClientTransport;
  /** The hello that resumes the session at this instant: its token and the frames received so far. */
  resumeHello(): string;
  sessionId(): string | undefined;
  connectTimeout(): number;
  /** The WebSocket took the session over: carry on there, sending `held` first. Returns the handlers of the WebSocket from now on. */
  switched(webSocket: ClientTransport, welcome: WelcomeFrame, held: readonly string[]): TransportHandlers;
  /** The HTTP transport was let go and the WebSocket did not take over: recover as after a drop. `held` were sent nowhere. */
  lost(why: string, held: readonly string[]): void;
}

/**
 * The connection's side of an upgrade from SSE or long-polling to WebSocket: starts and
 * stops the probe (UpgradeProbe, which does the moving), lets the HTTP transport go when
 * the WebSocket took over, and closes it with 4005 when the move failed after its hello,
 * so the server keeps the session for the resume that follows.
 */
export class TransportUpgrade {
  /** Made at the first start, from the fallback transports that carry the session by then; kept, as it keeps its backoff. */
  private probe: UpgradeProbe | undefined;
  private readonly host: UpgradeHost;

  constructor(subject: UpgradeSubject) {
    const http = (): HttpTransport | undefined => {
      const transport = subject.current();
      return subject.movable() && isHttpTransport(transport) ? transport : undefined;
    };
    this.host = {
      upgradable: http,
      openWebSocket: (handlers) => subject.openWebSocket(handlers),
      resumeHello: () => subject.resumeHello(),
      decode: (text) => {
        const decoded = decodeServerFrame(text);
        return decoded.ok ? decoded.frame : undefined;
      },
      sessionId: () => subject.sessionId(),
      connectTimeout: () => subject.connectTimeout(),
      upgraded: (webSocket, welcome, held) => {
        const carrier = subject.current();
        if (isHttpTransport(carrier)) carrier.abandon();
        return subject.switched(webSocket, welcome, held);
      },
      upgradeFailed: (why) => {
        const carrier = subject.current();
        // Held back for the WebSocket and sent nowhere: they go first if the session resumes, like replies made while away.
        const held = isHttpTransport(carrier) ? carrier.takeHeld() : [];
        // 4005: the session stays for the resume; what HTTP brought after the hello is sent again then.
        carrier?.close(CloseCode.Reconnecting, 'upgrade failed');
        subject.lost(why, held);
      },
    };
  }

  /** The session is on HTTP now: probe for a WebSocket. */
  start(): void {
    const fallback = fallbackTransports.loaded;
    if (!fallback) return; // cannot be: an HTTP transport, which came with it, carries the session
    this.probe ??= new fallback.UpgradeProbe();
    this.probe.start(this.host);
  }

  /** No more probing; a probe under way is closed with `code` (it may carry the session already). */
  stop(code?: number): void {
    this.probe?.stop(code);
  }
}
