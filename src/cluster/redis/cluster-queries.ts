import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../protocol/error-codes.js';
import { SwitchboardError } from '../../protocol/errors.js';

interface Waiting {
  answers: unknown[];
  expected: number;
  done: (answers: unknown[]) => void;
  fail: (err: Error) => void;
}

/**
 * The asking side of cluster-wide queries: each gets an id, and waits until as many nodes
 * answered as were listening when it was sent, or rejects with `timeout` naming how many did.
 */
export class ClusterQueries {
  private readonly waiting = new Map<string, Waiting>();

  /** Wait for `expected` answers to a query sent by `send(id)`. */
  ask(expected: number, timeoutMs: number, send: (id: string) => Promise<unknown>): Promise<unknown[]> {
    if (expected <= 0) return Promise.resolve([]);
    const id = randomBytes(8).toString('base64url');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        reject(new SwitchboardError(ErrorCode.Timeout, `${w?.answers.length ?? 0} of ${expected} other nodes answered within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: unknown): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(err);
      };
      this.waiting.set(id, {
        answers: [],
        expected,
        done: (answers) => {
          clearTimeout(timer);
          this.waiting.delete(id);
          resolve(answers);
        },
        fail,
      });
      send(id).catch(fail);
    });
  }

  /** An answer arrived; late ones (after a timeout) are dropped. */
  answered(id: string, answer: unknown): void {
    const w = this.waiting.get(id);
    if (!w) return;
    w.answers.push(answer);
    if (w.answers.length >= w.expected) w.done(w.answers);
  }

  /** Reject everything still waiting (the adapter closes). */
  abandon(reason: Error): void {
    for (const w of [...this.waiting.values()]) w.fail(reason);
  }
}
