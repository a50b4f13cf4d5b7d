import type { SwitchboardError } from '../protocol/errors.js';
import type { Phase } from './connection-phase.js';
import { type ChangeDetails, ConnectionReason, ConnectionState } from './connection-state.js';
import type { NamespaceRouter } from './namespace-router.js';
import { NetworkWatch } from './network-watch.js';
import type { ResolvedOptions } from './options.js';
import { disconnectedError, type OutgoingRequests } from './outgoing-requests.js';
import { ReconnectSchedule } from './reconnect-schedule.js';

/** What deciding about the next attempt needs of the connection. */
export interface ReconnectionHost {
  phase(): Phase;
  /** Bumped by every attempt and by close(): a listener may have started one while being told. */
  generation(): number;
  readonly requests: OutgoingRequests;
  enter(phase: 'waiting' | 'offline' | 'stopped'): void;
  attemptOpen(): void;
}

/** How a socket was lost, as the namespaces are told. */
export interface Loss {
  reason: ConnectionReason;
  details: ChangeDetails;
  /** Whether the loss allows another attempt (see classifyClose). */
  reconnect: boolean;
  /** Set when it ended an attempt before the welcome: reported as `connect_error`. */
  connectError?: SwitchboardError | undefined;
  /** Reconnect without a backoff wait. */
  immediate?: boolean;
}

/**
 * What happens between sockets: after a loss, another attempt after a backoff wait
 * (ReconnectSchedule), a wait for the network when the device is offline (NetworkWatch), or
 * a stop; and the shortcuts the network and the page's waking give.
 */
export class Reconnection {
  private readonly schedule: ReconnectSchedule;
  private network: NetworkWatch | undefined;

  constructor(
    private readonly host: ReconnectionHost,
    private readonly router: Pick<NamespaceRouter, 'forEach' | 'tell'>,
    private readonly options: Pick<ResolvedOptions, 'reconnect' | 'network'>,
  ) {
    this.schedule = new ReconnectSchedule(options.reconnect);
  }

  /** Listen to the device's network (when reconnecting is on). `offline` and `wake` are the connection's to handle. */
  watchNetwork(offline: () => void, wake: () => void): void {
    if (!this.options.network || !this.options.reconnect.enabled) return;
    this.network = new NetworkWatch(this.options.network, { offline, online: () => this.cameOnline(), wake });
  }

  get offline(): boolean {
    return this.network?.offline === true;
  }

  /** The socket is gone (or never came), and the connection let go of it: retry, wait for the network, or stop. */
  lost(loss: Loss): void {
    const { reason, details, connectError } = loss;
    if (loss.reconnect && this.offline) {
      this.waitForNetwork(reason, details, connectError);
      return;
    }
    const generation = this.host.generation();
    const retry = loss.reconnect ? this.schedule.next() : undefined;
    if (retry) {
      if (loss.immediate) retry.delay = 0;
      this.host.enter('waiting');
      this.router.tell(ConnectionState.Connecting, reason, details, connectError, generation);
      this.router.forEach((m) => m.reconnecting({ ...retry, reason }), generation);
      // A listener may have closed the client or called reconnectNow() meanwhile.
      if (this.host.generation() !== generation || this.host.phase() !== 'waiting') return;
      if (retry.delay === 0) this.host.attemptOpen();
      else this.schedule.wait(retry.delay, () => this.host.attemptOpen());
      return;
    }
    this.host.enter('stopped');
    // Nobody may ever reconnect: requests fail now. Reliable publishes wait for reconnectNow() or close().
    this.host.requests.failOnWire(disconnectedError(`the connection was lost (${reason}) and the client stopped reconnecting`));
    const finalReason = loss.reconnect && this.options.reconnect.enabled ? ConnectionReason.ReconnectExhausted : reason;
    this.router.tell(ConnectionState.Disconnected, finalReason, details, connectError, generation);
  }

  /**
   * No network: an attempt now would fail and only burn a backoff step, so none is counted.
   * `online` brings the next attempt; a slow probe (every reconnect.maxDelay) covers a wrong
   * navigator.onLine, which reads false on a machine whose only network is loopback.
   */
  waitForNetwork(reason: ConnectionReason, details: ChangeDetails, connectError?: SwitchboardError): void {
    const generation = this.host.generation();
    this.host.enter('offline');
    this.router.tell(ConnectionState.Connecting, reason, details, connectError, generation);
    if (this.host.generation() === generation && this.host.phase() === 'offline') this.schedule.wait(this.options.reconnect.maxDelay, () => this.host.attemptOpen());
  }

  /**
   * The page woke up while waiting: a backoff wait may be long overdue (timers were frozen).
   * Wake events come in bursts; only the waiting phases start an attempt, so a burst starts one at most.
   */
  woke(): void {
    if (this.host.phase() === 'waiting') this.retryNow();
    else if (this.host.phase() === 'offline' && !this.offline) this.cameOnline(); // the `online` event was missed
  }

  /** Skip the wait: one attempt now. Only from 'waiting' or 'offline', where no attempt is in flight. */
  retryNow(): void {
    this.schedule.cancel();
    this.host.attemptOpen();
  }

  /** A welcome came, or the app restarted a stopped client: backoff starts over. */
  reset(): void {
    this.schedule.reset();
  }

  /** An attempt is under way (or the client closed): no retry is pending. */
  cancel(): void {
    this.schedule.cancel();
  }

  stop(): void {
    this.network?.stop();
    this.network = undefined;
  }

  /** Back online: an attempt within ONLINE_SPREAD_MS, with the backoff started over (see ReconnectSchedule.afterOnline). */
  private cameOnline(): void {
    if (this.host.phase() !== 'offline' && this.host.phase() !== 'waiting') return;
    this.schedule.wait(this.schedule.afterOnline(), () => this.host.attemptOpen());
  }
}
