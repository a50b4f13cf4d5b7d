import { userRoom } from '../protocol/user-rooms.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { StoredAnswer } from '../delivery/idempotency-store.js';
import type { HttpApiPrincipal } from './credentials.js';
import { HttpApiError, statusOf } from './http-errors.js';
import type { Attempt, IdempotencyKeys } from './idempotency.js';
import { type Publication, publicationFingerprint } from './publication.js';
import type { ApiServer } from './server-ports.js';

/** One publication's outcome: its HTTP status and JSON body, and whether it was a replay of an earlier attempt. */
export interface PublishOutcome {
  answer: StoredAnswer;
  replayed: boolean;
  /** Headers of a refusal that has some (Retry-After of `idempotency_in_flight`). */
  headers?: Readonly<Record<string, string>>;
}

/** What the publisher needs of the API. */
export interface PublisherHost {
  readonly server: ApiServer;
  readonly idempotency: IdempotencyKeys;
  /** Refuses (`forbidden`) a publication the app's authorize hook does not allow. */
  authorize(principal: HttpApiPrincipal, p: Publication): Promise<void>;
}

/**
 * Publishes checked publications, one or a batch, each at most once per idempotency key.
 * A batch runs in three steps so that its publications reach each room in the order they
 * are listed: authorize and claim every key (concurrently: store round trips), then start
 * every publication in list order (synchronously: a room's appends are issued in that
 * order), then record each answer.
 */
export class Publisher {
  constructor(private readonly host: PublisherHost) {}

  async publishAll(principal: HttpApiPrincipal, route: string, items: readonly (Publication | HttpApiError)[]): Promise<PublishOutcome[]> {
    const prepared = await Promise.all(items.map((item) => this.prepare(principal, route, item)));
    const started = prepared.map((step) => (step.kind === 'run' ? { step, result: this.start(step.publication) } : { step, result: undefined }));
    return Promise.all(
      started.map(async ({ step, result }): Promise<PublishOutcome> => {
        if (step.kind === 'done') return step.outcome;
        const answer = await (result as Promise<StoredAnswer>);
        if (step.attempt) {
          try {
            await this.host.idempotency.finish(step.attempt, answer);
          } catch (err) {
            // Published, but the answer could not be kept: its retries wait out the claim's lease, then run again.
            this.host.server.reportError(err, { phase: 'http-api idempotency', event: step.publication.event });
          }
        }
        return { answer, replayed: false };
      }),
    );
  }

  /** Authorize and claim the idempotency key: run it, or an outcome already known (a refusal, a replay). */
  private async prepare(
    principal: HttpApiPrincipal,
    route: string,
    item: Publication | HttpApiError,
  ): Promise<{ kind: 'run'; publication: Publication; attempt?: Extract<Attempt, { kind: 'run' }> } | { kind: 'done'; outcome: PublishOutcome }> {
    if (item instanceof HttpApiError) return { kind: 'done', outcome: { answer: errorAnswer(item), replayed: false } };
    try {
      await this.host.authorize(principal, item);
      if (item.idempotencyKey === undefined) return { kind: 'run', publication: item };
      const attempt = await this.host.idempotency.begin(principal.id, item.idempotencyKey, publicationFingerprint(route, item));
      if (attempt.kind === 'replay') return { kind: 'done', outcome: { answer: attempt.answer, replayed: true } };
      return { kind: 'run', publication: item, attempt };
    } catch (err) {
      const outcome: PublishOutcome = { answer: this.failure(err, item), replayed: false };
      if (err instanceof HttpApiError) outcome.headers = err.headers;
      return { kind: 'done', outcome };
    }
  }

  /**
   * Start one publication now. A durable target is published (`publish()` resolves with the
   * position once it is appended); any other is emitted.
   */
  private start(p: Publication): Promise<StoredAnswer> {
    try {
      const nsp = this.host.server.of(p.ns);
      const room = p.room ?? userRoom(p.user as string);
      let target = nsp.to(room);
      if (p.except.length > 0) target = target.except(p.except);
      if (nsp.isDurable(room)) {
        return target.publish(p.event, p.data).then(
          (position) => ({ status: 200, body: JSON.stringify({ position }) }),
          (err: unknown) => this.failure(err, p),
        );
      }
      (p.volatile ? target.volatile : target).emit(p.event, p.data);
      return Promise.resolve({ status: 200, body: '{}' });
    } catch (err) {
      return Promise.resolve(this.failure(err, p));
    }
  }

  /** A failure as the caller sees it: a SwitchboardError's code, or `internal_error` (reported, details kept here). */
  private failure(err: unknown, p: Publication): StoredAnswer {
    if (err instanceof SwitchboardError) return errorAnswer(err);
    this.host.server.reportError(err, { phase: 'http-api publish', ns: p.ns, event: p.event });
    return errorAnswer(new SwitchboardError(ErrorCode.InternalError, 'the publication failed on the server'));
  }
}

export function errorAnswer(err: SwitchboardError): StoredAnswer {
  return { status: statusOf(err.code), body: JSON.stringify({ code: err.code, message: err.message }) };
}
