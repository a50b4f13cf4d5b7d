import { nearestName, type OptionNames, unknownOption } from '../protocol/option-names.js';

/** Known client option names (see OptionNames). */
const KNOWN: OptionNames = {
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
  const found = unknownOption(options, KNOWN);
  if (!found) return;
  const { name, known } = found;
  const instead = INSTEAD[name];
  const near = instead ? undefined : nearestName(name, known);
  const hint = instead ? `use ${instead} instead` : near ? `did you mean ${near}?` : `the options are ${known.join(', ')}`;
  throw new TypeError(`switchboard: option ${name} is unknown; ${hint} (docs/API.md, "Client options")`);
}
