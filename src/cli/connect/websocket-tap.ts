/**
 * The WebSocket class `switchboard connect` hands to the client SDK: the `ws` package with
 * the command line's headers, Origin and TLS choice, and a tap that tells which event names
 * the server sends. The SDK only delivers events to handlers registered by name, and a
 * generic tool cannot know the names in advance: the tap learns each name from the frame
 * before the SDK reads it, so a handler registered then still sees that very frame, with
 * the SDK's own room, position and duplicate handling.
 */
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../client/websocket-like.js';
import { decodeServerBinary, decodeServerFrame } from '../../protocol/codec.js';

export interface WebSocketSettings {
  /** Extra request headers of the upgrade. */
  headers?: Record<string, string>;
  /** The Origin header to send (browsers always send one; Node sends none by default). */
  origin?: string;
  /** Accept a certificate that does not verify (self-signed, wrong host). */
  insecure?: boolean;
}

/** A WebSocket class for `ClientOptions.WebSocket` that calls `onEventName` for the event name of every event frame received. */
export function tappedWebSocket(settings: WebSocketSettings, onEventName: (event: string) => void): WebSocketConstructor {
  const options: WebSocket.ClientOptions = {
    ...(settings.headers && { headers: settings.headers }),
    ...(settings.origin !== undefined && { origin: settings.origin }),
    ...(settings.insecure && { rejectUnauthorized: false }),
  };
  return class TappedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, options);
      // Registered before the SDK sets onmessage, so it runs first for every message.
      this.addEventListener('message', (message) => {
        const name = eventNameOf(message.data);
        if (name !== undefined) onEventName(name);
      });
    }
  } as unknown as WebSocketConstructor;
}

function eventNameOf(data: unknown): string | undefined {
  let decoded;
  if (typeof data === 'string') decoded = decodeServerFrame(data);
  else if (data instanceof ArrayBuffer) decoded = decodeServerBinary(new Uint8Array(data));
  else if (ArrayBuffer.isView(data)) decoded = decodeServerBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  else return undefined;
  return decoded.ok && decoded.frame.type === 'event' ? decoded.frame.event : undefined;
}
