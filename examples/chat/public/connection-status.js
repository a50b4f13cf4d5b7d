// The connection badge in the top bar: always says where the connection stands —
// "connected", "reconnecting in N s" (counting down), "offline", "disconnected" (with the
// reason in its tooltip and data-reason).

/** @typedef {import('../../../src/client/index.js').StateChange} StateChange */
/** @typedef {import('../../../src/client/index.js').ReconnectInfo} ReconnectInfo */

/** Why the SDK stopped for good, in words. */
const STOP_REASONS = {
  unauthorized: 'The server refused the connection.',
  server_disconnect: 'The server ended the session.',
  policy_violation: 'The server closed the connection.',
  protocol_error: 'The server and this page do not understand each other.',
  unsupported_version: 'This page is out of date: reload it.',
  reconnect_exhausted: 'Gave up reconnecting.',
  client_closed: 'Not connected.',
};

export class ConnectionStatus {
  /**
   * @param {{ root: HTMLElement, text: HTMLElement, retry: HTMLButtonElement, body: HTMLElement }} elements
   * @param {() => void} retryNow
   */
  constructor(elements, retryNow) {
    this.el = elements;
    /** @type {number | undefined} epoch ms of the next attempt */
    this.retryAt = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.ticker = undefined;
    this.offline = false;
    this.state = 'idle';
    this.reason = '';
    elements.retry.addEventListener('click', () => retryNow());
  }

  /** @param {StateChange} change */
  onState(change) {
    this.state = change.state;
    this.reason = change.reason;
    if (change.reason === 'network_offline') this.offline = true;
    else if (change.state === 'connected') this.offline = false;
    if (change.state !== 'connecting') this.retryAt = undefined;
    this.render();
  }

  /** @param {ReconnectInfo} info */
  onReconnecting(info) {
    this.retryAt = Date.now() + info.delay;
    this.render();
  }

  /** The browser's own online/offline signal, as a second opinion. @param {boolean} online */
  onNetwork(online) {
    this.offline = !online;
    this.render();
  }

  /** A fresh client is connecting (first attempt). */
  reset() {
    this.state = 'connecting';
    this.reason = 'connect_called';
    this.retryAt = undefined;
    this.render();
  }

  /** No client (the name was refused and the form says why). */
  idle() {
    this.state = 'idle';
    this.reason = '';
    this.retryAt = undefined;
    this.render();
  }

  render() {
    const { root, text, retry, body } = this.el;
    let shown;
    let label;
    let detail = '';
    let canRetry = false;
    if (this.state === 'connected') {
      shown = 'connected';
      label = 'connected';
    } else if (this.offline && this.state !== 'disconnected') {
      shown = 'offline';
      label = 'offline';
      detail = 'No network. Messages you write now are sent when the connection is back.';
    } else if (this.state === 'connecting' && this.retryAt !== undefined) {
      const seconds = Math.ceil((this.retryAt - Date.now()) / 1000);
      shown = 'reconnecting';
      label = seconds > 0 ? `reconnecting in ${seconds} s` : 'reconnecting…';
      canRetry = seconds > 0;
    } else if (this.state === 'connecting') {
      shown = 'connecting';
      label = 'connecting…';
    } else if (this.state === 'disconnected') {
      shown = 'disconnected';
      label = this.reason === 'client_closed' ? 'not connected' : 'disconnected';
      detail = STOP_REASONS[/** @type {keyof typeof STOP_REASONS} */ (this.reason)] ?? this.reason;
      canRetry = this.reason !== 'client_closed' && this.reason !== 'unauthorized';
    } else {
      shown = 'idle';
      label = 'not connected';
    }
    root.dataset.state = shown;
    body.dataset.connection = shown;
    text.textContent = label;
    root.title = detail || label;
    root.dataset.reason = this.reason;
    retry.hidden = !canRetry;
    this.tick(shown === 'reconnecting');
  }

  /** Re-render every quarter second while counting down. @param {boolean} on */
  tick(on) {
    if (on && this.ticker === undefined) this.ticker = setInterval(() => this.render(), 250);
    if (!on && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
