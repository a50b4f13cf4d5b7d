import type { ErrorDetails, ErrorPayload, PayloadIssue } from './frames.js';

/**
 * An error with a stable `code` (see docs/ERRORS.md). The SDK rejects and throws these;
 * the server turns a thrown `ReplyError` into an error reply with the same code and message.
 */
export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
  readonly code: string;
  /** Machine-readable detail, e.g. `details.issues` of a `bad_request` for data that failed its schema. */
  declare readonly details?: ErrorDetails;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options);
    this.code = code;
    const details = cleanDetails(options?.details);
    // Only when present: errors without details keep the shape they always had.
    if (details) Object.defineProperty(this, 'details', { value: details, enumerable: true });
  }

  toPayload(): ErrorPayload {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }

  static fromPayload(payload: ErrorPayload): SwitchboardError {
    return new SwitchboardError(payload.code, payload.message, { details: payload.details });
  }
}

/**
 * Throw (or reject with) this from an event handler to answer a request with an error
 * the client may see. Other errors become `internal_error` so server details never leak.
 */
export class ReplyError extends SwitchboardError {
  override name = 'ReplyError';
}

/**
 * Keep only well-formed issues: details come from the network (or from app code) and
 * must stay plain JSON — strings and numbers — whatever the sender put there.
 */
function cleanDetails(details: unknown): ErrorDetails | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const issues = (details as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  const clean: PayloadIssue[] = [];
  for (const issue of issues) {
    const { path, message } = (issue ?? {}) as { path?: unknown; message?: unknown };
    if (typeof message !== 'string' || !Array.isArray(path)) continue;
    if (!path.every((key) => typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key)))) continue;
    clean.push({ path: [...(path as (string | number)[])], message });
  }
  return { issues: clean };
}
