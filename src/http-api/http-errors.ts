import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';

/** The HTTP status each error code of the HTTP API is answered with (docs/API.md, "HTTP API errors"). */
const STATUS: Readonly<Record<string, number>> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.Unserializable]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.UnknownRoute]: 404,
  [ErrorCode.NotDurable]: 404,
  [ErrorCode.PresenceNotTracked]: 404,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.IdempotencyConflict]: 409,
  [ErrorCode.IdempotencyInFlight]: 409,
  [ErrorCode.Unrecoverable]: 410,
  [ErrorCode.MessageTooBig]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.InternalError]: 500,
  [ErrorCode.ClusterUnavailable]: 503,
  [ErrorCode.ShuttingDown]: 503,
  [ErrorCode.Timeout]: 504,
};

/** The status for `code`; an app's own code (thrown from `authorize` as a ReplyError) is a 400. */
export function statusOf(code: string): number {
  return STATUS[code] ?? 400;
}

/** A refusal of the HTTP API: its code, message, and the headers that go with it (Allow, Retry-After, ...). */
export class HttpApiError extends SwitchboardError {
  override name = 'HttpApiError';

  constructor(
    code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

/** `bad_request` naming the field at fault: `field: problem`. */
export function badField(field: string, problem: string): HttpApiError {
  return new HttpApiError(ErrorCode.BadRequest, `${field}: ${problem}`);
}
