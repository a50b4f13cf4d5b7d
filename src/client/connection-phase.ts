/**
 * Where a connection stands. Connection.enter() is the one place that moves between them.
 *
 * - idle: created, not started      - opening: resolving the auth function
 * - handshaking: socket opening, hello sent on open; awaiting welcome
 * - open: welcome received
 * - waiting: backoff before retry   - stopped: no retry until reconnectNow()
 * - offline: the device has no network; retried on `online` (or a slow probe), no attempt counted
 * - closed: close() was called; final
 */
export type Phase = 'idle' | 'opening' | 'handshaking' | 'open' | 'waiting' | 'offline' | 'stopped' | 'closed';
