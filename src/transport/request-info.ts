import type { IncomingHttpHeaders } from 'node:http';
import type { TransportRequestInfo } from './transport.js';

/** Headers that only served the WebSocket handshake itself: not kept once it is done. */
const HANDSHAKE_HEADERS: ReadonlySet<string> = new Set(['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions']);

/** Header names whose last value is remembered (a client inventing names must not grow the memory). */
const MAX_REMEMBERED_NAMES = 64;

/**
 * What an upgrade request leaves behind for the connection's lifetime, kept small: the
 * handshake's own headers are dropped, and values equal to those of the previous upgrade
 * (the same Host, Origin, User-Agent, path…) are that same string, so thousands of idle
 * connections share one copy instead of holding one each. Strings are immutable:
 * sharing them is invisible.
 */
export class RequestInfoRecorder {
  private readonly last = new Map<string, string>();

  record(url: string, headers: IncomingHttpHeaders, remoteAddress: string): TransportRequestInfo {
    const kept: Record<string, string | string[] | undefined> = {};
    for (const name of Object.keys(headers)) {
      // "__proto__" would set the prototype of a plain object.
      if (HANDSHAKE_HEADERS.has(name) || name === '__proto__') continue;
      const value = headers[name];
      kept[name] = typeof value === 'string' ? this.shared(name, value) : value;
    }
    return { url: this.shared(':path', url), headers: kept, remoteAddress };
  }

  private shared(name: string, value: string): string {
    const last = this.last.get(name);
    if (last === value) return last;
    if (last !== undefined || this.last.size < MAX_REMEMBERED_NAMES) this.last.set(name, value);
    return value;
  }
}
