import type { ErrorPayload } from './frames.js';

/**
 * An error with a stable `code` (see docs/ERRORS.md). The SDK rejects and throws these;
 * the server turns a thrown `ReplyError` into an error reply with the same code and message.
 */
export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }

  static fromPayload(payload: ErrorPayload): SwitchboardError {
    return new SwitchboardError(payload.code, payload.message);
  }
}

/**
 * Throw (or reject with) this from an event handler to answer a request with an error
 * the client may see. Other errors become `internal_error` so server details never leak.
 */
export class ReplyError extends SwitchboardError {
  override name = 'ReplyError';
}
