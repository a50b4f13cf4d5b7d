/**
 * Known client option names: `true` for an option taken as it is, or the field names of an
 * option that is an object of the client's own (checked too).
 */
const KNOWN: Readonly<Record<string, true | readonly string[]>> = {
  auth: true,
  namespace: true,
  reconnect: ['delay', 'maxDelay', 'maxAttempts'],
  ackTimeout: true,
  connectTimeout: true,
  bufferLimit: ['count', 'bytes'],
  outboxLimit: ['count', 'bytes'],
  WebSocket: true,
  transports: true,
  upgrade: true,
  network: true,
};

/** Options someone porting from socket.io-client passes, and names renamed before release: what to use instead. */
const INSTEAD: Readonly<Record<string, string>> = {
  reconnection: 'reconnect (true or false)',
  reconnectionDelay: 'reconnect.delay',
  reconnectionDelayMax: 'reconnect.maxDelay',
  reconnectionAttempts: 'reconnect.maxAttempts',
  timeout: 'connectTimeout',
  path: 'the path in the URL (ws://host/ws)',
  query: 'auth, or a query string in the URL',
  extraHeaders: 'auth (a browser cannot set WebSocket headers)',
  'reconnect.baseMs': 'reconnect.delay',
  'reconnect.capMs': 'reconnect.maxDelay',
};

/**
 * Refuse an option the client does not know, naming what to use instead: a socket.io-client
 * option or a typo would otherwise be ignored and its default silently kept. Throws TypeError.
 */
export function checkClientOptionNames(options: object): void {
  for (const name of Object.keys(options)) {
    const nested = KNOWN[name];
    if (nested === undefined) throw new TypeError(unknown(name));
    const value = (options as Record<string, unknown>)[name];
    if (nested === true || typeof value !== 'object' || value === null) continue;
    for (const field of Object.keys(value)) if (!nested.includes(field)) throw new TypeError(unknown(`${name}.${field}`));
  }
}

function unknown(name: string): string {
  const instead = INSTEAD[name];
  return `switchboard: option ${name} is unknown; ${instead ? `use ${instead} instead` : `the options are ${Object.keys(KNOWN).join(', ')}`} (docs/API.md, "Client options")`;
}
