import type { IncomingMessage } from 'node:http';
import type { ClusterAdapter } from '../../cluster/adapter.js';
import type { Admission } from '../../server/admission.js';
import type { ConnectionError } from '../../server/connection-refusals.js';
import type { SharedFrame } from '../../transport/shared-frame.js';
import type { TransportRequestInfo } from '../../transport/transport.js';
import type { EngineSettings, EngineTransportName } from './engine-settings.js';

export type { EngineSettings, EngineTransportName } from './engine-settings.js';

/**
 * What the Engine.IO server needs of the Switchboard server: the same checks and limits
 * the native transports pass through (origin, admission, shutdown), and where to hand each
 * open connection. Filled in by the server; the front door never reaches further into it.
 */
export interface EngineHost {
  readonly settings: EngineSettings;
  readonly admission: Admission;
  /** The server is shutting down: no new connections. */
  closing(): boolean;
  /** The client's IP of a request (`trustProxy`). */
  clientAddress(req: IncomingMessage): string;
  /** Whether a page from `origin` may connect (`allowedOrigins`); false when the check throws. */
  originAllowed(origin: string, req: IncomingMessage, address?: string): boolean;
  /** Why `origin` is refused. */
  originRefusal(origin: string): string;
  /** An Engine.IO connection completed its handshake. */
  connection(connection: EngineConnection): void;
  /** A failure that must not take the server down. */
  reportError(err: unknown, context: Record<string, unknown>): void;
  /** A request refused before any connection existed (`connection_error`). */
  connectionError(error: ConnectionError): void;
  /**
   * A message over `maxPayload` closed a connection: a polling body (answered 413) or a
   * WebSocket message (closed with 1009). `info` is the request that carried it. For the
   * server's count of refusals (`message_too_big`).
   */
  messageTooBig?(transport: EngineTransportName, info: TransportRequestInfo): void;
  /** This node's id; `forward` (an adapter that can) reaches the node that holds another node's connection. */
  readonly cluster: Pick<ClusterAdapter, 'nodeId' | 'forward'>;
}

/**
 * Why an Engine.IO connection ended, in Engine.IO's own words (the reasons engine.io's
 * server gives its `close` event), so logs read the same as under Socket.IO.
 */
export type EngineCloseReason =
  | 'transport close'
  | 'transport error'
  | 'ping timeout'
  | 'parse error'
  | 'forced close'
  | 'server shutting down';

/** What the Socket.IO layer hears of an Engine.IO connection. */
export interface EngineConnectionHandlers {
  /** One message packet (type 4) from the client: its text after the `4`, or a binary message's bytes. */
  onMessage(data: string | Uint8Array): void;
  /**
   * A ping (type 2) was queued for the client, after every packet sent before it. Only one
   * is outstanding at a time: the next is sent after its pong.
   */
  onPingSent(): void;
  /** The client answered the outstanding ping: it received every packet sent before that ping. */
  onPong(): void;
  /** The connection ended; called exactly once, whoever ended it. */
  onClose(reason: EngineCloseReason): void;
}

/**
 * One Engine.IO v4 connection, on whichever transport carries it now (it moves from
 * polling to WebSocket when the client upgrades). Packets leave in the order of the
 * calls, across an upgrade.
 */
export interface EngineConnection {
  /** The Engine.IO session id (`sid`). */
  readonly id: string;
  /** What carries it now. */
  readonly transport: EngineTransportName;
  /** The handshake request. */
  readonly info: TransportRequestInfo;
  /** Bytes queued for the client and not yet handed to the network. */
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  /** Install the handlers; messages arriving before are held until then. */
  attach(handlers: EngineConnectionHandlers): void;
  /**
   * Send one text packet: its complete Engine.IO text, type digit included (`4...` for a
   * message). A SharedFrame holds that text encoded once for many connections.
   */
  sendText(packet: string | SharedFrame): void;
  /** Send one binary message packet (on polling it travels as `b` + base64). */
  sendBinary(data: Uint8Array): void;
  /** Send a ping now unless one is outstanding (liveness and delivery proof on demand). */
  ping(): void;
  /** Close: a close packet after what was already sent, then the transport. */
  close(): void;
  /** Drop at once, without a close packet. */
  terminate(): void;
}
