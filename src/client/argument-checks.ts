import { MAX_HISTORY_LIMIT, MAX_NAME_LENGTH, RESERVED_EVENTS } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import { isStreamPosition } from './room-subscriptions.js';

/** What the app passes the client handle, checked before anything is sent: `bad_request` errors, as the server would answer. */

export function nameError(what: string, name: unknown): SwitchboardError | undefined {
  if (typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME_LENGTH) return undefined;
  return new SwitchboardError(ErrorCode.BadRequest, `${what} name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
}

export function positionError(what: string, value: unknown): SwitchboardError | undefined {
  if (value === undefined || isStreamPosition(value)) return undefined;
  return new SwitchboardError(ErrorCode.BadRequest, `${what} must be a stream position {epoch: string, offset: non-negative integer}`);
}

export function limitError(limit: unknown): SwitchboardError | undefined {
  if (limit === undefined || (typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_HISTORY_LIMIT)) return undefined;
  return new SwitchboardError(ErrorCode.BadRequest, `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`);
}

export function assertEventName(event: string): void {
  const invalid = nameError('event', event);
  if (invalid) throw invalid;
  if (RESERVED_EVENTS.has(event)) {
    throw new SwitchboardError(ErrorCode.BadRequest, `"${event}" is a reserved event name (lifecycle events cannot be emitted)`);
  }
}
