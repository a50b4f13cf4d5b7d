import { POST_HEADERS, REQUEST_DEFAULTS } from './http-endpoint.js';

/**
 * A browser page going away for good. Over WebSocket the browser closes the socket itself
 * (1001) and the server ends the session at once; an HTTP transport has no such close, so
 * without a word from the page its session would wait out the whole resume TTL.
 */

interface PageHideEvent {
  /** True when the page may come back from the back/forward cache: its session must stay. */
  persisted?: boolean;
}

interface PageTarget {
  addEventListener(type: 'pagehide', listener: (event: PageHideEvent) => void): void;
  removeEventListener(type: 'pagehide', listener: (event: PageHideEvent) => void): void;
}

/**
 * Call `left` when the page is unloaded for good (`pagehide` not `persisted`); a page that
 * goes into the bfcache is left alone, it resumes on `pageshow`. Returns what stops
 * watching. Outside a page (Node, a worker) there is nothing to watch.
 */
export function onPageExit(left: () => void): () => void {
  const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown; document?: unknown };
  if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function' || g.document === undefined) return () => {};
  const target = globalThis as unknown as PageTarget;
  const listener = (event: PageHideEvent): void => {
    if (event.persisted !== true) left();
  };
  target.addEventListener('pagehide', listener);
  return () => target.removeEventListener('pagehide', listener);
}

/**
 * POST `body` to `url` so that it is sent even as the page is torn down: a beacon (text/plain,
 * cookies included, no preflight cross-origin, the answer unread), or a keepalive fetch where
 * there is no beacon or it was refused (a full beacon queue).
 */
export function postAfterPage(url: string, body: string): void {
  const navigator = (globalThis as { navigator?: { sendBeacon?: (url: string, data: string) => boolean } }).navigator;
  try {
    if (navigator?.sendBeacon?.(url, body) === true) return;
  } catch {
    // A beacon can throw (a URL the browser refuses to beacon to): the fetch below tries too.
  }
  void fetch(url, { ...REQUEST_DEFAULTS, method: 'POST', headers: POST_HEADERS, body, keepalive: true }).catch(() => {
    // Nobody is left to tell: the session then waits out its resume TTL, as before.
  });
}
