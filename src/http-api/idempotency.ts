import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode } from '../protocol/error-codes.js';
import type { IdempotencyStore, StoredAnswer } from '../delivery/idempotency-store.js';
import { HttpApiError } from './http-errors.js';

/** How long a claim is held for an attempt that neither completes nor releases it (its node died): then a retry runs. */
export const IDEMPOTENCY_LEASE_MS = 60_000;

/** What to do with a request that carries an idempotency key. */
export type Attempt =
  /** First time (or the first attempt failed having done nothing): run it, then call finish(). */
  | { kind: 'run'; key: string; token: string; fingerprint: string }
  /** Done before: answer with the first attempt's answer, do not run it again. */
  | { kind: 'replay'; answer: StoredAnswer };

export interface IdempotencySettings {
  store: IdempotencyStore;
  /** Milliseconds an answer is kept. */
  ttl: number;
  /** Milliseconds a retry waits for an attempt still running before `idempotency_in_flight`. */
  wait: number;
  /** The clock and the pause between looks at a running attempt (tests make both instant). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Idempotency keys of the HTTP API: a key is scoped to the credential that sent it (two
 * backends cannot collide, nor read each other's answers) and hashed before it reaches
 * the store. A retry of a running attempt waits for it, looking again with a growing
 * pause (10 ms up to 200 ms), for at most `wait`: the store may be another node's.
 */
export class IdempotencyKeys {
  readonly #settings: IdempotencySettings;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(settings: IdempotencySettings) {
    this.#settings = settings;
    this.#sleep = settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Claim `key` of `principal` for a request whose fingerprint is `fingerprint`; throws `idempotency_conflict` or `idempotency_in_flight`. */
  async begin(principal: string, key: string, fingerprint: string): Promise<Attempt> {
    const scoped = createHash('sha256').update(principal).update('\n').update(key).digest('base64url');
    const hashed = createHash('sha256').update(fingerprint).digest('base64url');
    const token = randomBytes(12).toString('base64url');
    const { store, wait } = this.#settings;
    let waited = 0;
    for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
      const record = await store.claim(scoped, hashed, token, IDEMPOTENCY_LEASE_MS);
      if (record === undefined) return { kind: 'run', key: scoped, token, fingerprint: hashed };
      if (record.fingerprint !== hashed) {
        throw new HttpApiError(ErrorCode.IdempotencyConflict, `idempotency key "${key}" was already used for a request with another body`);
      }
      if (record.answer) return { kind: 'replay', answer: record.answer };
      if (waited >= wait) {
        throw new HttpApiError(ErrorCode.IdempotencyInFlight, `the first request with idempotency key "${key}" is still running: retry later`, { 'Retry-After': '1' });
      }
      const step = Math.min(pause, wait - waited);
      await this.#sleep(step);
      waited += step;
    }
  }

  /**
   * The attempt ended with `answer`. A server-side failure (5xx) is released, not kept: it
   * published nothing (a store or Redis that failed), so a retry must run again.
   */
  async finish(attempt: Extract<Attempt, { kind: 'run' }>, answer: StoredAnswer): Promise<void> {
    const { store, ttl } = this.#settings;
    if (answer.status >= 500) await store.release(attempt.key, attempt.token);
    else await store.complete(attempt.key, attempt.token, { fingerprint: attempt.fingerprint, answer }, ttl);
  }
}
