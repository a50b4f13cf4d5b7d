/** A query string's parameters, as `socket.handshake.query` shows them. */
export type HandshakeQuery = Readonly<Record<string, string | string[]>>;

/**
 * The query parameters of a request target (`/ws?room=a&tag=x&tag=y`), as Node's
 * `querystring.parse` and Socket.IO's `handshake.query` give them: one value as a string,
 * a repeated name as the array of its values. Frozen, like `cookies`.
 */
export function queryOf(url: string): HandshakeQuery {
  const at = url.indexOf('?');
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (at !== -1) {
    for (const [name, value] of new URLSearchParams(url.slice(at + 1))) {
      const previous = query[name];
      query[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
  }
  return Object.freeze(query);
}
