export type AnyHandler = (data: unknown) => unknown;

/**
 * A socket's event handlers by event name. Sockets usually register a few events: those
 * live in a flat `[name, handlers, name, handlers, …]` array of exact size (an empty Map
 * alone costs more than that, on every connection); past `MAP_FROM` events, a Map.
 */
export type HandlerTable = (string | AnyHandler[])[] | Map<string, AnyHandler[]>;

const MAP_FROM = 8;

export function handlersOf(table: HandlerTable | undefined, event: string): AnyHandler[] | undefined {
  if (table === undefined) return undefined;
  if (table instanceof Map) return table.get(event);
  for (let i = 0; i < table.length; i += 2) if (table[i] === event) return table[i + 1] as AnyHandler[];
  return undefined;
}

/** The table with `list` as the handlers of `event`; an empty list removes the event. May return a new table. */
export function withHandlers(table: HandlerTable | undefined, event: string, list: AnyHandler[]): HandlerTable | undefined {
  if (table instanceof Map) {
    if (list.length > 0) table.set(event, list);
    else table.delete(event);
    return table;
  }
  const flat = table ?? [];
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i] !== event) continue;
    if (list.length > 0) {
      flat[i + 1] = list;
      return flat;
    }
    const rest = flat.slice(0, i).concat(flat.slice(i + 2));
    return rest.length > 0 ? rest : undefined;
  }
  if (list.length === 0) return table;
  if (flat.length / 2 < MAP_FROM) {
    // Exactly sized: a push or a spread would leave room for more on every socket.
    const grown: (string | AnyHandler[])[] = new Array(flat.length + 2);
    for (let i = 0; i < flat.length; i++) grown[i] = flat[i] as string | AnyHandler[];
    grown[flat.length] = event;
    grown[flat.length + 1] = list;
    return grown;
  }
  const map = new Map<string, AnyHandler[]>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i] as string, flat[i + 1] as AnyHandler[]);
  return map.set(event, list);
}
