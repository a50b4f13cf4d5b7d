/**
 * `switchboard/token-streams/client`: the reader of token streams — renders the messages a
 * producer (`switchboard/token-streams`) streams to a durable room as they grow, and continues
 * mid-message after a reload (with `storage`) or a dropped connection, with no token repeated
 * or missing (docs/AI-STREAMING.md). Browser-safe: no `node:` imports.
 */
export { TokenStreamReader, type TokenStreamReaderOptions, type TokenStreamReaderEvents, type CancelOptions } from './token-stream-reader.js';
export { MessageAssembly, type TokenMessage, type ApplyOutcome, type AssemblySnapshot } from './message-assembly.js';
export type { TokenStreamClient, TokenStreamStorage } from './reader-client.js';
export { TokenStreamEvent, TokenStreamErrorCode, TokenStreamRequest, type StartData, type ChunkData, type FinishData, type FailData, type CancelRequestData } from '../wire.js';
export type { Publication, StreamPosition, HistoryReply } from '../../protocol/frames.js';
