/**
 * The wire events of token streams: four ordinary events published to a durable room, so
 * that any Switchboard client (or a bare WebSocket speaking docs/PROTOCOL.md) can read them.
 * Shared by the producer (switchboard/token-streams) and the reader
 * (switchboard/token-streams/client); pure, no I/O. docs/AI-STREAMING.md specifies them.
 */

/** The event names, all under the `token-stream:` prefix. */
export const TokenStreamEvent = {
  /** `{ id, meta? }`: a message begins. */
  Start: 'token-stream:start',
  /** `{ id, index, text }`: the message's chunk number `index` (0, 1, 2, …). */
  Chunk: 'token-stream:chunk',
  /** `{ id, chunks, text, meta? }`: the message is complete; `text` is all of it, `chunks` how many chunks made it. */
  Finish: 'token-stream:finish',
  /** `{ id, code, message, chunks?, text?, meta? }`: the message ended in failure; `text` is what was published before. */
  Fail: 'token-stream:fail',
} as const;

export type TokenStreamEvent = (typeof TokenStreamEvent)[keyof typeof TokenStreamEvent];

/** Codes of token-stream errors: raised by the producer, or carried by a `token-stream:fail` event. */
export const TokenStreamErrorCode = {
  /** `append`, `finish` or `fail` on a stream that already finished or failed. */
  StreamClosed: 'stream_closed',
  /** A publication of the stream failed (the room is not durable, the store is away): the stream stopped there. */
  PublishFailed: 'publish_failed',
  /** Nothing was appended for `idleTimeout` ms: the producer's stream failed itself. */
  IdleTimeout: 'idle_timeout',
  /** The default code of `fail()`. */
  Failed: 'failed',
  /** In `token-stream:fail`: a reader (or the producer) cancelled the message. Thrown by `append()` and rejected by `finish()`/`fail()` after a cancel. */
  Cancelled: 'cancelled',
  /** A cancel request for a message no server node is streaming, nor ended recently. */
  UnknownStream: 'unknown_stream',
} as const;

export type TokenStreamErrorCode = (typeof TokenStreamErrorCode)[keyof typeof TokenStreamErrorCode];

/**
 * Requests a client sends to the server (`emitWithAck`), answered by the handlers that
 * `acceptTokenStreamCancels()` installs. Not published to rooms: separate from TokenStreamEvent.
 */
export const TokenStreamRequest = {
  /** `{ room, id }`: stop message `id` of `room`. Replies without data, or with an error (see docs/AI-STREAMING.md). */
  Cancel: 'token-stream:cancel',
} as const;

/** Data of a `token-stream:cancel` request. */
export interface CancelRequestData {
  /** The durable room the message is streamed to. */
  room: string;
  /** The message id. */
  id: string;
}

/** Data of `token-stream:start`. */
export interface StartData {
  id: string;
  /** What the app attached to the message (author, role, model): any JSON. */
  meta?: unknown;
}

/** Data of `token-stream:chunk`. */
export interface ChunkData {
  id: string;
  /** 0 for the first chunk of the message, then 1, 2, … without gaps. */
  index: number;
  text: string;
}

/** Data of `token-stream:finish`. */
export interface FinishData {
  id: string;
  /** How many chunks the message has (the last index + 1). */
  chunks: number;
  /** The whole message: the chunks' texts joined. */
  text: string;
  meta?: unknown;
}

/** Data of `token-stream:fail`. */
export interface FailData {
  id: string;
  code: string;
  message: string;
  /** How many chunks were published before the failure, when the producer knows it. */
  chunks?: number;
  /** The text of those chunks, when the producer knows it. */
  text?: string;
  meta?: unknown;
}

/** A token-stream event as read from the wire, checked. */
export type StreamEventData =
  | { event: typeof TokenStreamEvent.Start; data: StartData }
  | { event: typeof TokenStreamEvent.Chunk; data: ChunkData }
  | { event: typeof TokenStreamEvent.Finish; data: FinishData }
  | { event: typeof TokenStreamEvent.Fail; data: FailData };

/** Longest message id, in UTF-16 code units. */
export const MAX_ID_LENGTH = 128;

/** Whether `id` can name a message: a string of 1 to 128 code units. */
export function isMessageId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Check an event from the room: the checked event, or `undefined` when it is not a
 * token-stream event or its data is malformed (another app's event under the same name
 * must not break the reader).
 */
export function readStreamEvent(event: string, data: unknown): StreamEventData | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (!isMessageId(d.id)) return undefined;
  switch (event) {
    case TokenStreamEvent.Start:
      return { event, data: { id: d.id, ...('meta' in d ? { meta: d.meta } : {}) } };
    case TokenStreamEvent.Chunk:
      if (!isCount(d.index) || typeof d.text !== 'string') return undefined;
      return { event, data: { id: d.id, index: d.index, text: d.text } };
    case TokenStreamEvent.Finish:
      if (!isCount(d.chunks) || typeof d.text !== 'string') return undefined;
      return { event, data: { id: d.id, chunks: d.chunks, text: d.text, ...('meta' in d ? { meta: d.meta } : {}) } };
    case TokenStreamEvent.Fail: {
      if (typeof d.code !== 'string' || typeof d.message !== 'string') return undefined;
      const fail: FailData = { id: d.id, code: d.code, message: d.message };
      if (isCount(d.chunks) && typeof d.text === 'string') {
        fail.chunks = d.chunks;
        fail.text = d.text;
      }
      if ('meta' in d) fail.meta = d.meta;
      return { event, data: fail };
    }
    default:
      return undefined;
  }
}

/** Check the data of a `token-stream:cancel` request: the checked data, or `undefined` when malformed. */
export function readCancelRequest(data: unknown): CancelRequestData | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { room, id } = data as Record<string, unknown>;
  if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_LENGTH || !isMessageId(id)) return undefined;
  return { room, id };
}

/** Longest room name a cancel request may carry (as for the reader). */
export const MAX_ROOM_LENGTH = 256;
