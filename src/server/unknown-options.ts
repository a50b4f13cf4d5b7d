import { nearestName, type OptionNames, unknownOption } from '../protocol/option-names.js';
import { RENAMED_OPTIONS } from './renamed-options.js';

/** Socket.IO server options someone porting an app may pass, and what Switchboard has instead. */
const SOCKET_IO_OPTIONS: Readonly<Record<string, string>> = {
  cors: 'use allowedOrigins instead (Switchboard answers CORS and preflights itself, for the origins it allows, credentials included)',
  pingInterval: 'use heartbeat.interval instead (milliseconds)',
  pingTimeout: 'use heartbeat.timeout instead (milliseconds)',
  maxHttpBufferSize: 'use maxMessageBytes instead',
  connectionStateRecovery: 'use resume instead (on by default: { ttl } in milliseconds)',
  allowRequest: 'use allowedOrigins with a function, or middleware: sb.use((socket, next) => ...)',
  connectTimeout: 'use handshakeTimeout instead (milliseconds)',
  upgradeTimeout: 'Switchboard has no equivalent: a client moves to WebSocket on its own',
  allowUpgrades: 'use transports instead',
  httpCompression: 'Switchboard has no equivalent',
  parser: 'Switchboard has no equivalent: the wire is JSON (docs/PROTOCOL.md)',
  allowEIO3: 'Switchboard has no equivalent: it does not speak Engine.IO',
  cookie: 'Switchboard has no equivalent: it sets no cookie',
  wsEngine: 'Switchboard has no equivalent: it uses ws',
};

/**
 * Refuse an option Switchboard does not know, naming it and what to use instead: a
 * Socket.IO option or a typo would otherwise be silently ignored. Throws TypeError.
 */
export function checkOptionNames(options: object, known: OptionNames): void {
  const found = unknownOption(options, known);
  if (found) throw new TypeError(unknown(found.name, found.known));
}

function unknown(name: string, known: readonly string[]): string {
  const start = `Switchboard option "${name}" is unknown`;
  const socketIo = SOCKET_IO_OPTIONS[name];
  if (socketIo !== undefined) return `${start}: it is a Socket.IO option; ${socketIo}. See docs/API.md, "Coming from Socket.IO"`;
  const renamed = RENAMED_OPTIONS[name];
  if (renamed !== undefined) return `${start}: it was renamed; use ${renamed} instead`;
  const near = nearestName(name, known);
  if (near !== undefined) return `${start}; did you mean "${near}"?`;
  return `${start}; the options are ${known.join(', ')} (docs/API.md, "Server options")`;
}
