import { ERROR_CODE_PATTERN, ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload } from '../protocol/frames.js';

/**
 * Decide whether a socket may send an event, before its handlers run (and after its
 * schema, so `data` is the validated value). Return true to allow; anything else refuses
 * with `forbidden`. Throw a ReplyError to refuse with its own code and message.
 */
export type EventAuthorizer<S> = (socket: S, event: string, data: unknown) => boolean | Promise<boolean>;

/**
 * Allowed with the data to hand on, or refused with what to tell the client (`thrown`: an
 * unexpected error to report; `byAuthorizer`: the authorizer refused — its answer, its coded
 * error or its timeout — rather than the schema).
 */
export type Verdict = { ok: true; value: unknown } | { ok: false; error: ErrorPayload; thrown?: unknown; byAuthorizer?: true };

/**
 * Run the authorizer on an event whose data passed (or is passing) validation. Synchronous
 * when both are, so events without async steps still start their handlers at once. An
 * authorizer that does not settle within `timeoutMs` is answered `timeout`: it must not hold
 * the connection's later events forever.
 */
export function authorizeEvent<S>(
  authorize: EventAuthorizer<S> | undefined,
  socket: S,
  event: string,
  validated: Verdict | Promise<Verdict>,
  timeoutMs: number,
): Verdict | Promise<Verdict> {
  if (!authorize) return validated;
  if (isThenable(validated)) return validated.then((v) => (v.ok ? decide(authorize, socket, event, v.value, timeoutMs) : v));
  return validated.ok ? decide(authorize, socket, event, validated.value, timeoutMs) : validated;
}

function decide<S>(authorize: EventAuthorizer<S>, socket: S, event: string, data: unknown, timeoutMs: number): Verdict | Promise<Verdict> {
  let answer: boolean | Promise<boolean>;
  try {
    answer = authorize(socket, event, data);
  } catch (err) {
    return refusedBy(err, event);
  }
  if (!isThenable(answer)) return verdict(answer, event, data);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SwitchboardError(ErrorCode.Timeout, `the authorization of "${event}" did not decide within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([answer, expired])
    .then(
      (allowed) => verdict(allowed, event, data),
      (err: unknown) => refusedBy(err, event),
    )
    .finally(() => clearTimeout(timer));
}

function verdict(allowed: unknown, event: string, data: unknown): Verdict {
  // Only `true` allows: an authorizer that forgot to return refuses rather than lets through.
  if (allowed === true) return { ok: true, value: data };
  return { ok: false, error: { code: ErrorCode.Forbidden, message: `not allowed to send event "${event}"` }, byAuthorizer: true };
}

/** A coded error is the app's answer to the client; anything else is a bug whose details stay on the server. */
function refusedBy(err: unknown, event: string): Verdict {
  if (err instanceof SwitchboardError && ERROR_CODE_PATTERN.test(err.code)) return { ok: false, error: err.toPayload(), byAuthorizer: true };
  return { ok: false, error: { code: ErrorCode.InternalError, message: `the authorization of "${event}" failed; details are in the server log` }, thrown: err };
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}
