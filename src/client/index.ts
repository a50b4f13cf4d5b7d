/**
 * Switchboard client SDK, browser-safe entry: no `node:` imports and no `ws`. The WebSocket
 * comes from options.WebSocket or globalThis.WebSocket. In Node, "switchboard/client"
 * resolves to ./node.js, which supplies the `ws` package instead.
 */
export { connect } from './client.js';
export { backoffDelay } from './backoff.js';
export { ConnectionReason, ConnectionState } from './connection-state.js';
export type { ChangeDetails, StateChange } from './connection-state.js';
export type {
  AckOptions,
  AnyEventListener,
  AppEventNames,
  ClientLifecycleEvents,
  ConnectInfo,
  DataArgs,
  EventHandler,
  EventMeta,
  HistoryOptions,
  JoinOptions,
  LifecycleEventName,
  LifecycleListener,
  PresenceEvent,
  ReconnectInfo,
  RecoveryInfo,
  ReliableEmitter,
  ReliableOptions,
  SwitchboardClient,
  VolatileEmitter,
} from './client-events.js';
export type { TransportKind } from './client-transport.js';
export type { BufferLimit } from './emit-buffer.js';
export type { OutboxLimit } from './reliable-outbox.js';
export type { AuthOption, ClientOptions, NamespaceOptions, ReconnectOptions } from './options.js';
export type { NetworkEnvironment, NetworkEventTarget } from './network-watch.js';
export type { CloseEventLike, MessageEventLike, WebSocketConstructor, WebSocketLike, WebSocketListener } from './websocket-like.js';
export { SwitchboardError } from '../protocol/errors.js';
export { ErrorCode } from '../protocol/error-codes.js';
export { CloseCode } from '../protocol/close-codes.js';
export type { AnyEvents, EventData, EventMap, EventNames, EventReply } from '../protocol/event-map.js';
export type { ErrorDetails, ErrorPayload, HistoryReply, JoinReply, PayloadIssue, PresenceMember, Publication, StreamPosition } from '../protocol/frames.js';
export { USER_ROOM_PREFIX, userRoom } from '../protocol/user-rooms.js';
