/**
 * The WebSocket class `switchboard connect` hands to the client SDK: the `ws` package with
 * the command line's headers, Origin and TLS choice. The SDK constructs its WebSocket as a
 * browser would, `new WebSocket(url, protocols)`, so these options travel in a subclass.
 */
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../client/websocket-like.js';

export interface WebSocketSettings {
  /** Extra request headers of the upgrade. */
  headers?: Record<string, string>;
  /** The Origin header to send (browsers always send one; Node sends none by default). */
  origin?: string;
  /** Accept a certificate that does not verify (self-signed, wrong host). */
  insecure?: boolean;
}

/** A WebSocket class for `ClientOptions.WebSocket` that opens every socket with `settings`. */
export function configuredWebSocket(settings: WebSocketSettings): WebSocketConstructor {
  const options: WebSocket.ClientOptions = {
    ...(settings.headers && { headers: settings.headers }),
    ...(settings.origin !== undefined && { origin: settings.origin }),
    ...(settings.insecure && { rejectUnauthorized: false }),
  };
  return class ConfiguredWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, options);
    }
  } as unknown as WebSocketConstructor;
}
