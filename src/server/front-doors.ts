import { SocketIoFrontDoor } from '../compat/socketio/front-door.js';
import type { Transport, TransportRequestInfo } from '../transport/transport.js';
import { HttpTransports, type HttpTransportsHost } from './http-transports.js';

/** What every way into the server (besides the WebSocket gate) checks, and where its sessions start. */
export interface FrontDoorsHost extends Omit<HttpTransportsHost, 'startSession' | 'endSessionByToken'> {
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
  return { httpTransports, socketIo: socketIo && new SocketIoFrontDoor({ ...host, resumeTtl: host.options.resume.ttl, serveClient: host.options.serveClient }, socketIo) };
}

