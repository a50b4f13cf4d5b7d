import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { mayCarryBinary, textFormToBinaryMessage } from '../protocol/binary.js';
import { SUBPROTOCOL } from '../protocol/constants.js';
import { rejectUpgrade } from './http-reject.js';
import { RequestInfoRecorder } from './request-info.js';
import type { SharedFrame } from './shared-frame.js';
import type { Transport, TransportHandlers, TransportRequestInfo } from './transport.js';
import { binaryFrame, headerLengthOf, textFrame } from './websocket-frame.js';
import { writeCoalescer, type CoalescedWriter } from './write-coalescer.js';

export interface WebSocketEndpointOptions {
  /** Largest incoming message in bytes, text or binary; ws closes with 1009 past it, before buffering the rest. */
  maxMessageBytes: number;
  /** Opt-in permessage-deflate (off by default: its per-connection memory cost is large). */
  perMessageDeflate: boolean;
  /**
   * Called once for every upgraded connection, after its socket has closed. One function
   * for all connections, so that counting them costs no closure or listener each.
   */
  onClosed?: (transport: Transport, info: TransportRequestInfo) => void;
  /** Called when ws refused a message over `maxMessageBytes` (it then closes with 1009): for the server's count of refusals. */
  onTooBig?: (transport: Transport, info: TransportRequestInfo) => void;
}

/**
 * ws's WebSocket, delivering its events straight to the transport that wraps it: no
 * listener per event and connection (each costs a property on the socket's `_events`,
 * which grows into a separate backing store), and the transport is a field declared in
 * the constructor, so it lives inside the object. ws creates it (option `WebSocket`) and
 * reports through emit(); the events it emits on a server-side socket are handled here,
 * anything else goes to EventEmitter as usual.
 */
class TransportWebSocket extends WebSocket {
  transport: WebSocketTransport | undefined = undefined;

  // Fixed parameters instead of a rest array: 'message' is emitted once per incoming frame.
  override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
    const transport = this.transport;
    if (transport === undefined) return event === 'error' || super.emit(event, a, b);
    switch (event) {
      case 'message':
        transport.receive(a as RawData, b as boolean);
        return true;
      case 'ping':
        // RFC 6455 §5.5.3 lets an endpoint answer only some pings; ws's autoPong instead closes after 60 unanswered.
        if (this.readyState === WebSocket.OPEN && transport.bufferedAmount <= PONG_BUFFER_LIMIT) this.pong(a as Buffer);
        return true;
      case 'pong':
        transport.pong();
        return true;
      case 'close':
        transport.closedWith(a as number, b as Buffer);
        return true;
      case 'error':
        // ws emits 'error' for protocol violations and then closes (1002/1007/1009); 'close'
        // reports it. Through EventEmitter an unheard 'error' would crash the process.
        if ((a as { code?: unknown } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') transport.refusedTooBig();
        return true;
      default:
        return super.emit(event, a, b);
    }
  }
}

const TEXT_FRAME = { binary: false } as const;
const BINARY_FRAME = { binary: true } as const;

/** Pong frames are small but a peer that pings without reading would have them pile up: past this many unsent bytes a ping goes unanswered. */
const PONG_BUFFER_LIMIT = 64 * 1024;

/** Frames queued for one socket within a turn are written at once when they reach this many bytes. */
const EARLY_WRITE_BYTES = 16 * 1024;

/** Accepts upgrades on the Switchboard path and wraps each socket in a transport. */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;
  private readonly requests = new RequestInfoRecorder();
  /** @internal */
  readonly onClosed: WebSocketEndpointOptions['onClosed'];
  /** @internal */
  readonly onTooBig: WebSocketEndpointOptions['onTooBig'];

  constructor(options: WebSocketEndpointOptions) {
    this.onClosed = options.onClosed;
    this.onTooBig = options.onTooBig;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxMessageBytes,
      perMessageDeflate: options.perMessageDeflate,
      // Pings are answered in TransportWebSocket.emit: ws's own answer costs a closure per connection.
      autoPong: false,
      WebSocket: TransportWebSocket,
      // Only called when the client offered subprotocols; upgrade() has already refused lists without ours.
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
  }

  /**
   * Complete the upgrade and call `accept` with the new transport; or answer the request
   * with an HTTP error (and never call `accept`). `remoteAddress` is the client's IP as the
   * server resolved it (after trusted proxies).
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    remoteAddress: string,
    accept: (t: Transport, info: TransportRequestInfo) => void,
  ): void {
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').some((p) => p.trim() === SUBPROTOCOL)) {
      rejectUpgrade(socket, 400, 'Bad Request', `Unsupported WebSocket subprotocol "${offered}": this endpoint speaks ${SUBPROTOCOL}.`);
      return;
    }
    const info = this.requests.record(req.url ?? '/', req.headers, remoteAddress);
    // ws writes to the socket it was given: frames Switchboard frames itself go there too.
    this.wss.handleUpgrade(req, socket, head, (ws) => accept(new WebSocketTransport(ws, socket, this, info), info));
  }

  close(): void {
    this.wss.close();
  }
}

/**
 * Events arrive from TransportWebSocket.emit, so an idle connection costs no listeners or
 * closures of its own.
 *
 * Sending bypasses ws's Sender: frames are built by hand (a broadcast's once for all, see
 * SharedFrame), queued, and written to the socket in one write per event-loop turn (see
 * WriteCoalescer). That is safe because, without compression, ws's own writes (ping,
 * pong, close) are synchronous single writes of whole frames: they can come between two
 * of our writes, never inside a frame. With permessage-deflate negotiated the Sender
 * may hold frames while it compresses, so such a connection sends through `ws.send`.
 */
export class WebSocketTransport implements Transport, CoalescedWriter {
  private handlers: TransportHandlers | undefined;
  private early: (string | Uint8Array)[] | undefined;
  /** The client asked for binary messages (see acceptBinary). */
  private binary = false;
  private closedAs: { code: number; reason: string } | undefined;
  /** The socket frames are written to; undefined when they go through `ws.send` (compression). */
  private readonly direct: Duplex | undefined;
  /** Frames sent this turn and not yet written: one buffer, or several in order. */
  private queued: Buffer | Buffer[] | undefined;
  private queuedBytes = 0;

  constructor(
    private readonly ws: WebSocket,
    socket: Duplex,
    private readonly endpoint: WebSocketEndpoint,
    private readonly info: TransportRequestInfo,
  ) {
    (ws as TransportWebSocket).transport = this;
    this.direct = ws.extensions === '' ? socket : undefined;
  }

  get kind(): string {
    return 'websocket';
  }

  /** What the socket has not handed to the network yet, plus what waits for this turn's write. */
  get bufferedAmount(): number {
    return this.direct ? this.direct.writableLength + this.queuedBytes : this.ws.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = undefined;
    if (early) for (const data of early) handlers.onFrame(data, this);
    if (this.closedAs) handlers.onClose(this.closedAs.code, this.closedAs.reason, this);
  }

  acceptBinary(): void {
    this.binary = true;
  }

  /**
   * Queue a frame for this turn's write; frames leave in the order they were sent. A frame
   * in the text form of binary data goes as a binary message if the client asked for them.
   */
  send(frame: string | SharedFrame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const message = this.binary ? binaryMessageOf(frame) : undefined;
    if (!this.direct) {
      if (message) this.ws.send(message.subarray(headerLengthOf(message)), BINARY_FRAME);
      else this.ws.send(typeof frame === 'string' ? frame : frame.payload, TEXT_FRAME);
      return;
    }
    this.enqueue(message ?? (typeof frame === 'string' ? textFrame(frame) : frame.wire));
  }

  /**
   * Queue one binary message carrying `bytes` as they are, in order with the frames sent
   * before and after (for front doors whose protocol has its own binary messages, such as
   * Engine.IO). The bytes are copied into the frame: the caller may reuse them.
   */
  sendBinary(bytes: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.direct) {
      this.ws.send(bytes, BINARY_FRAME);
      return;
    }
    this.enqueue(binaryFrame(bytes));
  }

  private enqueue(bytes: Buffer): void {
    const queued = this.queued;
    if (queued === undefined) {
      this.queued = bytes;
      writeCoalescer.mark(this);
    } else if (Array.isArray(queued)) queued.push(bytes);
    else this.queued = [queued, bytes];
    this.queuedBytes += bytes.length;
    // A big batch already spreads the cost of its write: let the network have it now, so
    // bufferedAmount (which the volatile skip and the durable cap read) keeps measuring a
    // slow peer, not a busy turn.
    if (this.queuedBytes >= EARLY_WRITE_BYTES) this.flush();
  }

  /** Write what this turn queued, in one write (called by the coalescer, and before a close). */
  flush(): void {
    const queued = this.queued;
    if (queued === undefined) return;
    const bytes = this.queuedBytes;
    this.queued = undefined;
    this.queuedBytes = 0;
    // Nothing may follow a close frame: once ws has sent one (or the socket is gone) the frames are dropped.
    if (this.ws.readyState !== WebSocket.OPEN) return;
    (this.direct as Duplex).write(Array.isArray(queued) ? Buffer.concat(queued, bytes) : queued);
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  close(code: number, reason: string): void {
    // What was sent before the close (an error frame saying why) goes out before it.
    this.flush();
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.queued = undefined;
    this.queuedBytes = 0;
    this.ws.terminate();
  }

  /** @internal */
  receive(data: RawData, binary: boolean): void {
    // Both kinds arrive as one Buffer (binaryType 'nodebuffer'); ws has validated a text frame's UTF-8.
    const frame = binary ? (data as Buffer) : (data as Buffer).toString();
    if (this.handlers) this.handlers.onFrame(frame, this);
    else (this.early ??= []).push(frame);
  }

  /** @internal ws refused a message over maxMessageBytes. */
  refusedTooBig(): void {
    this.endpoint.onTooBig?.(this, this.info);
  }

  /** @internal */
  pong(): void {
    this.handlers?.onPong(this);
  }

  /** @internal */
  closedWith(code: number, reason: Buffer): void {
    if (this.closedAs) return;
    this.queued = undefined;
    this.queuedBytes = 0;
    this.closedAs = { code, reason: reason.toString() };
    this.endpoint.onClosed?.(this, this.info);
    this.handlers?.onClose(code, this.closedAs.reason, this);
  }
}

/** The complete binary frame of a frame in the text form of binary data; undefined for any other frame. */
function binaryMessageOf(frame: string | SharedFrame): Buffer | undefined {
  if (typeof frame !== 'string') return frame.binaryWire;
  if (!mayCarryBinary(frame)) return undefined;
  const message = textFormToBinaryMessage(frame);
  return message ? binaryFrame(message) : undefined;
}
