import { RENAMED_OPTIONS } from './renamed-options.js';

/**
 * Known option names: `true` for an option taken as it is, or the field names of an
 * option that is an object of Switchboard's own (checked too).
 */
export type OptionNames = Readonly<Record<string, true | readonly string[]>>;

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
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(known, name)) throw new TypeError(unknown(name, Object.keys(known)));
    const nested = known[name];
    const value = (options as Record<string, unknown>)[name];
    if (nested === true || nested === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const field of Object.keys(value)) {
      if (!nested.includes(field)) throw new TypeError(unknown(`${name}.${field}`, nested.map((n) => `${name}.${n}`)));
    }
  }
}

function unknown(name: string, known: readonly string[]): string {
  const start = `Switchboard option "${name}" is unknown`;
  const socketIo = SOCKET_IO_OPTIONS[name];
  if (socketIo !== undefined) return `${start}: it is a Socket.IO option; ${socketIo}. See docs/API.md, "Coming from Socket.IO"`;
  const renamed = RENAMED_OPTIONS[name];
  if (renamed !== undefined) return `${start}: it was renamed; use ${renamed} instead`;
  const near = nearest(name, known);
  if (near !== undefined) return `${start}; did you mean "${near}"?`;
  return `${start}; the options are ${known.join(', ')} (docs/API.md, "Server options")`;
}

/** The known name closest to `name` (case ignored) if it is a plausible typo of it: at most 2 edits, or one contains the other. */
function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    const distance = other.includes(lower) || lower.includes(other) ? Math.abs(other.length - lower.length) : editDistance(lower, other);
    if (distance <= Math.max(2, Math.floor(candidate.length / 4)) && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
