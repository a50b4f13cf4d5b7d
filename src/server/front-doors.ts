import { SocketIoFrontDoor } from '../compat/socketio/front-door.js';
import type { Transport, TransportRequestInfo } from '../transport/transport.js';
import type { ConnectionError } from './connection-refusals.js';
import { HttpTransports, type HttpTransportsHost } from './http-transports.js';

/** What every way into the server (besides the WebSocket gate) checks, and where its sessions start. */
export interface FrontDoorsHost extends Omit<HttpTransportsHost, 'startSession' | 'endSessionByToken' | 'connectionError'> {
  /**
   * A request refused before any session existed (`connection_error`). `countedAs` names the
   * transport in stats and logs when that is not `error.transport`: a Socket.IO refusal is
   * reported with its Engine.IO transport (`polling`) and counted as `socket.io/polling`.
   */
  connectionError(error: ConnectionError, countedAs?: string): void;
  start(transport: Transport, info: TransportRequestInfo): void;
  /** The session a resume token names ends as if its connection had closed with `code`. */
  endSessionByToken(token: string, code: number, reason: string): boolean;
}

/**
 * The server's HTTP ways in: the native HTTP transports (always made; answering only when
 * `transports` lists one), and the Socket.IO front door when the `socketIo` option is on.
 * Both pass the same origin, admission and shutdown checks as the WebSocket gate.
 */
export function openFrontDoors(host: FrontDoorsHost): { httpTransports: HttpTransports; socketIo: SocketIoFrontDoor | undefined } {
  const httpTransports = new HttpTransports({ ...host, startSession: (transport, info) => host.start(transport, info) });
  const { socketIo } = host.options;
  const socketIoHost = {
    ...host,
    connectionError: (error: ConnectionError) => host.connectionError(error, `socket.io/${error.transport}`),
    resumeTtl: host.options.resume.ttl,
    serveClient: host.options.serveClient,
  };
  return { httpTransports, socketIo: socketIo && new SocketIoFrontDoor(socketIoHost, socketIo) };
}

