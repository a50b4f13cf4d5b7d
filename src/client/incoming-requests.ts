import { encodeFrame, utf8ByteLength } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload, ReplyFrame } from '../protocol/frames.js';
import type { Listener } from './emitter.js';

/** How a request handler finished: data to send, or an error to answer with. */
export type HandlerOutcome = { ok: true; data: unknown } | { ok: false; error: ErrorPayload; thrown?: unknown };

/**
 * Run the handler of a request from the server. Only the first listener's result is the
 * reply (a request has one answer); a SwitchboardError keeps its code, any other failure
 * becomes `internal_error` with a generic message, like on the server.
 */
export async function runRequestHandler(handler: Listener | undefined, event: string, args: readonly unknown[]): Promise<HandlerOutcome> {
  if (!handler) {
    return { ok: false, error: { code: ErrorCode.NoHandler, message: `the client has no handler for "${event}"` } };
  }
  try {
    const data = await (handler as (...a: readonly unknown[]) => unknown)(...args);
    return { ok: true, data };
  } catch (thrown) {
    if (thrown instanceof SwitchboardError) return { ok: false, error: thrown.toPayload() };
    return { ok: false, error: { code: ErrorCode.InternalError, message: `the client's handler for "${event}" failed` }, thrown };
  }
}

/**
 * Encode the reply to request `ref`. A reply that cannot be sent as is (not JSON, or over
 * the server's size limit) becomes an error reply, so the server's request never hangs.
 */
export function encodeReply(
  ref: number,
  outcome: HandlerOutcome,
  maxMessageBytes: number | undefined,
  /** Bytes of a frame as the connection sends it (a binary message on a WebSocket). */
  frameBytes: (text: string) => number = utf8ByteLength,
): string {
  if (!outcome.ok) return encodeFrame({ type: 'reply', ref, error: outcome.error });
  let text: string;
  try {
    text = encodeFrame({ type: 'reply', ref, data: outcome.data } satisfies ReplyFrame);
  } catch (error) {
    const payload = error instanceof SwitchboardError ? error.toPayload() : { code: ErrorCode.Unserializable, message: String(error) };
    return encodeFrame({ type: 'reply', ref, error: payload });
  }
  const bytes = frameBytes(text);
  if (maxMessageBytes !== undefined && bytes > maxMessageBytes) {
    return encodeFrame({
      type: 'reply',
      ref,
      error: { code: ErrorCode.MessageTooBig, message: `the client's reply is ${bytes} bytes; the server accepts at most ${maxMessageBytes}` },
    });
  }
  return text;
}
