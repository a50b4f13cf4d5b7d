/**
 * Parse a `Cookie` request header (RFC 6265 §5.4) into name → value. Pairs are separated
 * by `;`, the first `=` splits name from value, both are trimmed, a quoted value loses its
 * quotes and `%xx` escapes are decoded. It never throws: a pair without `=` or a name is
 * skipped, and a value whose escapes do not decode is kept as sent. When a name appears
 * twice the first one wins (browsers send the cookie of the most specific path first).
 */
export function parseCookies(header: string | readonly string[] | undefined): Readonly<Record<string, string>> {
  const text = typeof header === 'string' ? header : Array.isArray(header) ? header.join('; ') : '';
  const cookies = new Map<string, string>();
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || cookies.has(name)) continue;
    cookies.set(name, decodeValue(unquote(pair.slice(eq + 1).trim())));
  }
  // fromEntries defines own properties, so a cookie named "__proto__" cannot touch the prototype.
  return Object.freeze(Object.fromEntries(cookies));
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

function decodeValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a lone `%` or an escape that is not UTF-8: the raw text is the best answer
  }
}
