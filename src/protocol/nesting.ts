/**
 * Whether a JSON text could nest arrays and objects more than `max` levels deep: only if
 * it is longer than 2 × `max` characters and holds more than `max` opening brackets
 * (counted by native searches, stopping past `max`). False for nearly every frame, so the
 * walk below runs almost never.
 */
export function mayNestDeeperThan(text: string, max: number): boolean {
  return text.length > 2 * max && count(text, '[', max) + count(text, '{', max) > max;
}

/**
 * Whether a parsed JSON value nests arrays and objects more than `max` levels deep (the
 * value itself is level 1). Iterative, level by level: JSON.parse builds any depth without
 * recursion, and this must not be the recursive code that a deep value breaks.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  let level: unknown[] = typeof value === 'object' && value !== null ? [value] : [];
  for (let depth = 1; level.length > 0; depth++) {
    if (depth > max) return true;
    const next: unknown[] = [];
    for (const node of level) {
      if (Array.isArray(node)) {
        for (const item of node) if (typeof item === 'object' && item !== null) next.push(item);
      } else {
        const record = node as Record<string, unknown>;
        for (const key in record) {
          const child = record[key];
          if (typeof child === 'object' && child !== null) next.push(child);
        }
      }
    }
    level = next;
  }
  return false;
}

/** How many times `char` occurs in `text`, counting no further than `max` + 1. */
function count(text: string, char: string, max: number): number {
  let found = 0;
  for (let i = text.indexOf(char); i !== -1 && found <= max; i = text.indexOf(char, i + 1)) found++;
  return found;
}
