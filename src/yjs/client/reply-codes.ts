import { YjsErrorCode } from '../messages.js';

/** The code of a rejection from the client (`SwitchboardError.code`), if it has one. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Refusals that trying again cannot cure: the room is not a document or not ours to open.
 * A sync refused with one of these is not retried until the next reconnect.
 */
export function refusesTheDocument(code: string | undefined): boolean {
  return code === YjsErrorCode.NotADocument || code === 'forbidden' || code === 'unauthorized';
}

/**
 * Refusals of one update that sending the same content again would meet again: the provider
 * reports them and does not resync (a resync would send it once more, forever).
 */
export function refusesTheUpdate(code: string | undefined): boolean {
  return (
    code === YjsErrorCode.ReadOnly ||
    code === YjsErrorCode.DocumentTooLarge ||
    code === YjsErrorCode.MalformedUpdate ||
    code === 'message_too_big' ||
    refusesTheDocument(code)
  );
}

/** Rejections that only say the connection went away: the next `connect` syncs again, nothing to report. */
export function isConnectionLoss(code: string | undefined): boolean {
  return code === 'disconnected' || code === 'closed';
}
