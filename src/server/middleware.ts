import { ERROR_CODE_PATTERN, ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload } from '../protocol/frames.js';

/** Call `next()` to admit, `next(err)` to reject; or be async and throw to reject. */
export type Middleware<S> = (socket: S, next: (err?: Error) => void) => void | Promise<void>;

/**
 * Runs middleware in order. An async middleware that resolves without calling `next`
 * admits the socket, so `async (socket) => { if (!ok) throw ... }` just works.
 */
export async function runMiddleware<S>(middleware: readonly Middleware<S>[], socket: S): Promise<void> {
  for (const fn of middleware) {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const next = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      try {
        const result = fn(socket, next);
        if (result && typeof result.then === 'function') result.then(() => next(), (err: unknown) => next(asError(err)));
      } catch (err) {
        next(asError(err));
      }
    });
  }
}

/**
 * What a rejected client is told. Middleware exists to reject with a reason, so unlike a
 * failing event handler its message reaches the client (as Socket.IO users expect).
 */
export function rejectionPayload(err: unknown): ErrorPayload {
  if (err instanceof SwitchboardError && ERROR_CODE_PATTERN.test(err.code)) return err.toPayload();
  const message = err instanceof Error && err.message ? err.message : 'connection rejected';
  return { code: ErrorCode.Unauthorized, message };
}

/**
 * What a client whose fresh credentials were refused is told before the close 4006: the
 * middleware's own code when it chose one, otherwise `auth_expired` with its message.
 */
export function reauthRejectionPayload(err: unknown): ErrorPayload {
  if (err instanceof SwitchboardError && ERROR_CODE_PATTERN.test(err.code)) return err.toPayload();
  const message = err instanceof Error && err.message ? err.message : 'the fresh credentials were refused';
  return { code: ErrorCode.AuthExpired, message };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
