// Our messages, sent one at a time and in order. A message typed while offline waits here
// (shown as pending) and goes out after the reconnect; a reply lost to a dropped connection
// is retried with the same nonce, which the server recognises, so nothing is posted twice.

/** @typedef {import('../chat-events.js').ChatMessage} ChatMessage */
/** @typedef {{ room: string, text: string, nonce: string, item: HTMLLIElement }} OutgoingMessage */

/** Errors after which the same message is tried again once connected: it may not have arrived. */
const RETRY = new Set(['disconnected', 'timeout', 'shutting_down']);

export class Outbox {
  /**
   * @param {(message: OutgoingMessage) => Promise<ChatMessage>} send
   * @param {() => Promise<void>} connected resolves when the client is (again) connected
   * @param {{ sent(message: OutgoingMessage, stored: ChatMessage): void, failed(message: OutgoingMessage, error: { code?: string, message: string }): void }} report
   */
  constructor(send, connected, report) {
    this.send = send;
    this.connected = connected;
    this.report = report;
    /** @type {OutgoingMessage[]} */
    this.queue = [];
    this.running = false;
    this.stopped = false;
  }

  get size() {
    return this.queue.length;
  }

  /** @param {OutgoingMessage} message */
  add(message) {
    this.queue.push(message);
    void this.run();
  }

  /** Forget everything (the client was closed). */
  stop() {
    this.stopped = true;
    this.queue.length = 0;
  }

  async run() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const message = /** @type {OutgoingMessage} */ (this.queue[0]);
        try {
          const stored = await this.send(message);
          this.queue.shift();
          this.report.sent(message, stored);
        } catch (error) {
          const failure = /** @type {{ code?: string, message: string }} */ (error);
          if (this.stopped || failure.code === 'closed') return;
          if (RETRY.has(failure.code ?? '')) {
            await this.connected();
            continue;
          }
          this.queue.shift();
          this.report.failed(message, failure);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
