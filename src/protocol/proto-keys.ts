/**
 * JSON.parse makes `"__proto__"` an ordinary own key (it never sets a prototype), but code
 * downstream treats it specially: `Object.assign({}, data)` and `{...}` spreads into a
 * target with `[key] = value` semantics hand it to the `__proto__` setter, so the peer would
 * choose the copy's prototype. No honest payload needs that key: decoded frames lose it.
 */

/**
 * Whether `text` may hold a `__proto__` key. The literal spelling, or any `\u` escape (a key
 * can spell any of its letters that way). False for nearly every frame, at the cost of two
 * substring scans, so the walk below runs almost never.
 */
export function mayHoldProtoKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('\\u');
}

/** Delete every own `__proto__` key in a parsed JSON value, in place. Iterative: parsed JSON can nest deeper than the stack. */
export function dropProtoKeys(value: unknown): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (const item of node) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    const record = node as Record<string, unknown>;
    if (Object.hasOwn(record, '__proto__')) delete record['__proto__'];
    for (const key in record) {
      const child = record[key];
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
}
