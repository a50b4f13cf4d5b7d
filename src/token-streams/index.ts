/**
 * `switchboard/token-streams`: resumable token streams on durable rooms — one message (an AI
 * answer, a long job's log) published chunk by chunk, which readers render as it grows and
 * pick up mid-message after a reload or a dropped connection (docs/AI-STREAMING.md). Uses the
 * public API only: publishes through a `Switchboard`, a `Namespace` or a redis `Emitter`.
 * The reader is `switchboard/token-streams/client`.
 */
import { SwitchboardError } from '../protocol/errors.js';
import type { TokenStreamPublisher } from './publisher.js';
import { TokenStream, type TokenStreamOptions } from './token-stream.js';
import { type FailData, isMessageId, MAX_ID_LENGTH, TokenStreamErrorCode, TokenStreamEvent } from './wire.js';

export { TokenStream, type TokenStreamOptions, type TokenStreamState } from './token-stream.js';
export type { TokenStreamPublisher } from './publisher.js';
export { TokenStreamEvent, TokenStreamErrorCode, TokenStreamRequest, type StartData, type ChunkData, type FinishData, type FailData, type CancelRequestData } from './wire.js';
export { acceptTokenStreamCancels, type TokenStreamCancelOptions } from './cancels.js';
export type { CancelServer, CancelNamespace, CancelSocket } from './cancel-ports.js';

/**
 * Start streaming one message to the durable room `room`: publishes `token-stream:start` and
 * returns the stream, ready for `append()`. The room must be durable on `publisher`
 * (`durable()`), or the first publication fails and so does the stream.
 */
export function startTokenStream(publisher: TokenStreamPublisher, room: string, options: TokenStreamOptions = {}): TokenStream {
  return new TokenStream(publisher, room, options);
}

/**
 * Fail a message this process no longer holds a `TokenStream` for — one left open by a
 * producer that crashed: publishes `token-stream:fail` with `code` (default `failed`) and no
 * text, so readers keep the text they have and mark the message failed. A message that
 * already finished is not changed (readers ignore a `fail` after `finish`).
 */
export async function failTokenStream(publisher: TokenStreamPublisher, room: string, id: string, code: string = TokenStreamErrorCode.Failed, message = ''): Promise<void> {
  if (!isMessageId(id)) throw new TypeError(`failTokenStream: the id must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  if (typeof code !== 'string' || code.length === 0) throw new TypeError('failTokenStream: code must be a non-empty string');
  try {
    await publisher.to(room).publish(TokenStreamEvent.Fail, { id, code, message: String(message) } satisfies FailData);
  } catch (err) {
    throw new SwitchboardError(TokenStreamErrorCode.PublishFailed, `failTokenStream: the publication to "${room}" failed`, { cause: err });
  }
}
