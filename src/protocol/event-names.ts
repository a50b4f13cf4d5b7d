import { MAX_NAME_LENGTH, RESERVED_EVENTS } from './constants.js';
import { ErrorCode } from './error-codes.js';
import { SwitchboardError } from './errors.js';

/** Same rule and code everywhere (server, emitter, SDK): an event name the protocol would refuse is refused at the call. */
export function assertEmittable(event: string): void {
  if (typeof event !== 'string' || event.length === 0 || event.length > MAX_NAME_LENGTH) {
    throw new SwitchboardError(ErrorCode.BadRequest, `event names are strings of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (RESERVED_EVENTS.has(event)) throw new SwitchboardError(ErrorCode.BadRequest, `"${event}" is a reserved event name and cannot be emitted`);
}
