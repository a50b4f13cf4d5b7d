import { EventEmitter } from 'node:events';
import type { AnswerTarget } from './http-answer.js';

/** An answer as it travels back to the node the HTTP request arrived at. */
export interface RelayedAnswer {
  /** 0: dropped without an answer (the connection went away). */
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Stands in for the ServerResponse of a request that arrived at another node of the
 * cluster: the HTTP transports answer it as they answer their own requests, and `answered`
 * resolves with what they wrote, for that node to write to its client.
 */
export class RelayedResponse extends EventEmitter implements AnswerTarget {
  headersSent = false;
  destroyed = false;
  private status = 0;
  private readonly headers: Record<string, string> = {};
  private settle!: (answer: RelayedAnswer) => void;
  readonly answered = new Promise<RelayedAnswer>((resolve) => {
    this.settle = resolve;
  });

  writeHead(status: number, headers: Record<string, string | number>): this {
    this.status = status;
    for (const [name, value] of Object.entries(headers)) this.headers[name] = String(value);
    this.headersSent = true;
    return this;
  }

  setHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }

  end(body: Buffer | string = ''): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.settle({ status: this.status, headers: this.headers, body: typeof body === 'string' ? body : body.toString() });
    this.emit('close');
    return this;
  }

  /** The node the request arrived at gave up on it (its client left). */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.settle({ status: 0, headers: {}, body: '' });
    this.emit('close');
    return this;
  }
}
