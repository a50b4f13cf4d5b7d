/**
 * Room patterns of the `serve` configuration and of JWT room claims: `*` stands for any run
 * of characters (none included), everything else is literal, so `chat:*` matches `chat:1`
 * and `chat:` but not `chats`. A config file cannot hold a RegExp, and a glob is what
 * a JWT issuer can write without knowing JavaScript's regular expressions.
 */

/** The test of one pattern. */
export function roomPattern(pattern: string): (room: string) => boolean {
  if (!pattern.includes('*')) return (room) => room === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (room) => regex.test(room);
}

/** Whether any of `patterns` matches `room`. */
export function matchesAny(patterns: readonly string[], room: string): boolean {
  return patterns.some((pattern) => roomPattern(pattern)(room));
}
