/**
 * The move of a polling connection to WebSocket (Engine.IO v4): the client opens a
 * WebSocket with the connection's sid and sends `2probe`; the server answers `3probe`;
 * the client then stops polling — it waits for its pending poll to come back, which is
 * why every poll is answered at once from then on — and sends `5` on the WebSocket, which
 * from that packet on carries the connection. Anything else on the probe, its close, or
 * `upgradeTimeout` passing first, ends the attempt and polling goes on.
 */
import type { WebSocketTransport } from '../../transport/websocket.js';
import type { EngineTimers } from './engine-heartbeat.js';

export interface UpgradeTarget {
  /** The client probed: from now on polls are answered at once (with a noop if nothing waits). */
  probed(): void;
  /** The client sent `5`: the connection moves to `ws`. */
  upgraded(ws: WebSocketTransport): void;
  /** The attempt ended without an upgrade (the probe WebSocket is closed). */
  abandoned(): void;
}

/** WebSocket close code for a probe the server gives up on (engine.io closes it without a code; 1000 says it was on purpose). */
const PROBE_CLOSE = 1000;

export class UpgradeProbe {
  private active = true;
  private hasProbed = false;
  private readonly timer: unknown;

  constructor(
    private readonly ws: WebSocketTransport,
    timeoutMs: number,
    private readonly timers: EngineTimers,
    private readonly target: UpgradeTarget,
  ) {
    this.timer = timers.setTimeout(() => this.giveUp(), timeoutMs);
    ws.attach({
      onFrame: (data) => this.onFrame(data),
      onPong: () => {},
      onClose: () => {
        if (!this.end()) return;
        this.target.abandoned();
      },
    });
  }

  /** The client probed and waits for the connection to move. */
  get probed(): boolean {
    return this.hasProbed;
  }

  /** Close the probe (the connection closed, or the attempt went wrong); the target is not told. */
  cancel(): void {
    if (this.end()) this.ws.close(PROBE_CLOSE, '');
  }

  private giveUp(): void {
    if (!this.end()) return;
    this.ws.close(PROBE_CLOSE, '');
    this.target.abandoned();
  }

  private onFrame(data: string | Uint8Array): void {
    if (!this.active) return;
    if (data === '2probe' && !this.hasProbed) {
      this.hasProbed = true;
      this.ws.send('3probe');
      this.target.probed();
    } else if (data === '5') {
      this.end();
      this.target.upgraded(this.ws);
    } else {
      // engine.io closes a probe that says anything else.
      this.giveUp();
    }
  }

  /** Stop the attempt; false when it had ended already. */
  private end(): boolean {
    if (!this.active) return false;
    this.active = false;
    this.timers.clearTimeout(this.timer);
    return true;
  }
}
