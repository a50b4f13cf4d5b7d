/**
 * What a client needs only where WebSocket fails: the SSE and long-polling transports, and
 * the probe that moves a session from them back onto a WebSocket. The browser build loads
 * this module on first use, as a chunk of its own (see fallback-loader.ts), so the pages
 * whose WebSocket works never download it.
 */
import type { HttpTransport, HttpTransportOptions, TransportHandlers } from './client-transport.js';
import { HttpEndpoint } from './http-endpoint.js';
import { PollingTransport } from './polling-transport.js';
import { SseTransport } from './sse-transport.js';

export { UpgradeProbe } from './upgrade-probe.js';

/** Open an SSE or long-polling connection beside the WebSocket endpoint `url`. Throws when the URL cannot be used. */
export function openHttpTransport(kind: HttpTransport['kind'], url: string, handlers: TransportHandlers, options: HttpTransportOptions): HttpTransport {
  const endpoint = new HttpEndpoint(url);
  return kind === 'sse' ? new SseTransport(endpoint, handlers, options) : new PollingTransport(endpoint, handlers, options);
}
