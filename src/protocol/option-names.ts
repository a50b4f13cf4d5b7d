/**
 * Known option names: `true` for an option taken as it is, or the field names of an option
 * that is an object of the library's own (checked too).
 */
export type OptionNames = Readonly<Record<string, true | readonly string[]>>;

/**
 * The first option of `options` that `known` lacks (`reconnect.baseMs` for a field of a
 * nested one), with the names it could have been; undefined when every one is known. Server
 * and client options share it: an unknown option would otherwise be silently ignored.
 */
export function unknownOption(options: object, known: OptionNames): { name: string; known: string[] } | undefined {
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(known, name)) return { name, known: Object.keys(known) };
    const nested = known[name];
    const value = (options as Record<string, unknown>)[name];
    if (nested === true || nested === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const field of Object.keys(value)) {
      if (!nested.includes(field)) return { name: `${name}.${field}`, known: nested.map((n) => `${name}.${n}`) };
    }
  }
  return undefined;
}

/** The known name closest to `name` (case ignored) if it is a plausible typo of it: at most 2 edits, or one contains the other. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
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
