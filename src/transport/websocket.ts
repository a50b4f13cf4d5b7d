import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { SUBPROTOCOL } from '../protocol/constants.js';
import { rejectUpgrade } from './http-reject.js';
import type { Transport, TransportHandlers, TransportRequestInfo } from './transport.js';

export interface WebSocketEndpointOptions {
  /** Largest incoming frame in bytes; ws closes with 1009 past it, before buffering the rest. */
  maxMessageBytes: number;
  /** Opt-in permessage-deflate (off by default: its per-connection memory cost is large). */
  perMessageDeflate: boolean;
}

const kTransport = Symbol('switchboard.transport');
type TaggedWebSocket = WebSocket & { [kTransport]: WebSocketTransport };

const TEXT_FRAME = { binary: false } as const;

/** Accepts upgrades on the Switchboard path and wraps each socket in a transport. */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;

  constructor(options: WebSocketEndpointOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxMessageBytes,
      perMessageDeflate: options.perMessageDeflate,
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
    const info: TransportRequestInfo = {
      url: req.url ?? '/',
      headers: req.headers,
      remoteAddress,
    };
    this.wss.handleUpgrade(req, socket, head, (ws) => accept(new WebSocketTransport(ws), info));
  }

  close(): void {
    this.wss.close();
  }
}

/**
 * The listeners are shared functions reading the transport off the socket, so an idle
 * connection costs no closures of its own.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  private handlers: TransportHandlers | undefined;
  private early: { data: string; binary: boolean }[] | undefined;
  private closedAs: { code: number; reason: string } | undefined;

  constructor(private readonly ws: WebSocket) {
    (ws as TaggedWebSocket)[kTransport] = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = undefined;
    if (early) for (const f of early) handlers.onFrame(f.data, f.binary);
    if (this.closedAs) handlers.onClose(this.closedAs.code, this.closedAs.reason);
  }

  send(frame: string | Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame, TEXT_FRAME);
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** @internal */
  receive(data: RawData, binary: boolean): void {
    // Text frames arrive as one Buffer (ws has validated the UTF-8).
    const text = binary ? '' : (data as Buffer).toString();
    if (this.handlers) this.handlers.onFrame(text, binary);
    else (this.early ??= []).push({ data: text, binary });
  }

  /** @internal */
  pong(): void {
    this.handlers?.onPong();
  }

  /** @internal */
  closedWith(code: number, reason: Buffer): void {
    if (this.closedAs) return;
    this.closedAs = { code, reason: reason.toString() };
    this.handlers?.onClose(code, this.closedAs.reason);
  }
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as TaggedWebSocket)[kTransport].receive(data, isBinary);
}
function onPong(this: WebSocket): void {
  (this as TaggedWebSocket)[kTransport].pong();
}
function onClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as TaggedWebSocket)[kTransport].closedWith(code, reason);
}
function onError(): void {
  // ws emits 'error' for protocol violations and then closes (1002/1007/1009); the close
  // handler reports it. Without a listener the error would crash the process.
}
