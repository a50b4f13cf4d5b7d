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

/**
 * `text` parsed as JSON, for an `--auth` option (the hello's auth payload). Not JSON is a
 * UsageError that says where the JSON goes wrong but never repeats the text: it is often a
 * token, and the message lands on a terminal or a CI log. (V8's own SyntaxError quotes the
 * input, so its message is not passed on.)
 */
export function parseAuthJson(option: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const at = firstBadCharacter(text);
    const what = at === undefined ? 'it ends before the value is complete' : `unexpected character at position ${at}`;
    throw new UsageError(`${option} takes the hello's auth payload as JSON, such as '{"token":"…"}'; the value given (not shown: it may be a secret) is not JSON: ${what}`);
  }
}

/**
 * Where invalid JSON `text` goes wrong: the length of its longest prefix that could still
 * begin a JSON value, found by bisection (such prefixes are closed under shortening); or
 * undefined when all of `text` could (it is cut short).
 */
function firstBadCharacter(text: string): number | undefined {
  if (couldBeginJson(text)) return undefined;
  let good = 0; // the empty prefix could begin anything
  let bad = text.length;
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    if (couldBeginJson(text.slice(0, middle))) good = middle;
    else bad = middle;
  }
  return good;
}

/** True when `prefix` is JSON or JSON cut short: the parser fails only at its very end. */
function couldBeginJson(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = (error as Error).message;
    if (/^Unexpected end of JSON input/.test(message)) return true;
    const position = /at position (\d+)/.exec(message);
    return position !== null && Number(position[1]) >= prefix.length;
  }
}
