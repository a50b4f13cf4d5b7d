import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { SocketIoFrontDoor } from '../compat/socketio/front-door.js';
import { type ClientBundle, interceptRequests } from './client-bundle.js';
import type { HttpRoutes } from './http-routes.js';
import type { HttpTransports } from './http-transports.js';
import type { ResolvedOptions } from './options.js';
import { answerUnclaimed } from './plain-answers.js';

/** Switchboard's own plain HTTP paths, in the order they are tried: its own first, so a route (even `/`) cannot shadow the transports or the client. */
export interface PlainPaths {
  readonly options: ResolvedOptions;
  readonly routes: HttpRoutes;
  readonly clientBundle: ClientBundle | undefined;
  readonly httpTransports: HttpTransports;
  readonly socketIo: SocketIoFrontDoor | undefined;
}

/**
 * Plain HTTP requests to the server's port: the browser client, the HTTP transports, the
 * Socket.IO front door, then the app's routes (`route`). On a server Switchboard created,
 * what none claims gets Switchboard's own answer; on the app's server they go in front of
 * the app's `request` listeners (given back on close).
 */
export class PlainRequests {
  /** Gives the app's server its own `request` listeners back; set while Switchboard is in front of them. */
  private restoreListeners: (() => void) | undefined;

  constructor(private readonly paths: PlainPaths) {}

  /** Only for servers Switchboard created: everything, answered here. */
  answer(req: IncomingMessage, res: ServerResponse): void {
    const { routes, clientBundle, httpTransports, socketIo } = this.paths;
    if (clientBundle?.handle(req, res) || httpTransports.handle(req, res) || socketIo?.handleRequest(req, res) || routes.handle(req, res)) return;
    answerUnclaimed(req, res, this.paths.options);
  }

  /** Go in front of the app's `request` listeners on `server` (once). */
  intercept(server: HttpServer): void {
    if (this.restoreListeners) return;
    const { routes, clientBundle, socketIo, options } = this.paths;
    const http = options.transports.some((name) => name !== 'websocket') ? this.paths.httpTransports : undefined;
    this.restoreListeners = interceptRequests(
      server,
      (req, res) => (clientBundle?.handle(req, res) ?? false) || (http?.handle(req, res) ?? false) || (socketIo?.handleRequest(req, res) ?? false) || routes.handle(req, res),
    );
  }

  /** Give the app's server its listeners back. */
  restore(): void {
    this.restoreListeners?.();
    this.restoreListeners = undefined;
  }
}
