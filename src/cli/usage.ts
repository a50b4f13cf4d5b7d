/**
 * What every command's option parsing shares: the usage error (exit 2, one line) and the
 * durations options take (`75s`, `500ms`, `2m`; a bare number is seconds, as `sleep` reads it).
 */

/** Bad usage (an unknown flag, a missing or malformed value): the command prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `75s`, `500ms`, `2m`, or a bare number of seconds, in ms; anything else (or 0) is a UsageError naming `option`. */
export function parseDuration(option: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (UNITS[match[2] ?? 's'] as number) : NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new UsageError(`${option} takes a duration such as 75s, 500ms or 2m; got "${text}"`);
  return Math.round(ms);
}
