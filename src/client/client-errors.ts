import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';

/** What every request and call of a closed client gets: the app ended them, the network did not. */
export function closedError(): SwitchboardError {
  return new SwitchboardError(ErrorCode.Closed, 'the client was closed');
}

export function unconfirmedError(why: string): SwitchboardError {
  return new SwitchboardError(
    ErrorCode.Unconfirmed,
    `reliable publish sent but never acknowledged: ${why}, so the session it was sent in is lost and it cannot be known whether the server's handler ran; check the server's state and publish again if needed`,
  );
}

export function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
