import type { ClusterBroadcast, ClusterPublication, ClusterQuery } from '../adapter.js';
import { decodeStreamAnnouncement } from './redis-stream-store.js';

/**
 * What travels on a cluster's bus channel (`{prefix}:bus`). Each message starts with a
 * line of routing — a kind letter and JSON — followed by the frame as the sending node
 * encoded it, so the nodes that deliver it never parse or re-encode the frame itself.
 * JSON never holds a raw newline, so the first line ends where it seems to.
 *
 *   b{"n":node,"t":sent,"ns":…,"r":[rooms],"x":[except],"v":0|1}\n<event frame>
 *   d{"ns":…,"room":…,"s":stream[,"x":[except]],"n":node,"t":sent}\n<epoch>\n<offset>\n<event frame without position>   (written by the stream store's append script)
 *   q{"n":node,"id":…,"q":query,"t":sent}
 *   t{"n":node,"sid":…,"t":sent}          (node took over session sid)
 *
 * `t` is when the sending node sent it (ms since the epoch), for the bus lag in the adapter's
 * stats; messages without it (and `d` without `n`) from older versions are read as before.
 */
export type BusMessage = (
  | { kind: 'broadcast'; node: string; broadcast: ClusterBroadcast }
  | { kind: 'publication'; node?: string; publication: ClusterPublication }
  | { kind: 'query'; node: string; id: string; query: ClusterQuery }
  | { kind: 'takeover'; node: string; sid: string }
) & { sentAt?: number };

export function encodeBroadcast(node: string, b: ClusterBroadcast): string {
  return `b${JSON.stringify({ n: node, t: Date.now(), ns: b.ns, r: b.rooms, x: b.except, v: b.volatile ? 1 : 0 })}\n${b.frame}`;
}

/** The header the stream store's append script puts before epoch, offset and payload; `except`: the rooms live delivery leaves out. */
export function publicationHeader(ns: string, room: string, stream: string, except?: readonly string[], node?: string): string {
  const sent = node === undefined ? {} : { n: node, t: Date.now() };
  return `d${JSON.stringify(except?.length ? { ns, room, s: stream, x: except, ...sent } : { ns, room, s: stream, ...sent })}`;
}

export function encodeQuery(node: string, id: string, query: ClusterQuery): string {
  return `q${JSON.stringify({ n: node, id, q: query, t: Date.now() })}`;
}

export function encodeTakeover(node: string, sid: string): string {
  return `t${JSON.stringify({ n: node, sid, t: Date.now() })}`;
}

/** A reply to a query, on the asking node's own channel. */
export function encodeAnswer(id: string, answer: unknown): string {
  return JSON.stringify({ id, a: answer });
}

/** Undefined for anything malformed (another version, another program on the channel): it is ignored. */
export function decodeBusMessage(raw: string): BusMessage | undefined {
  const end = raw.indexOf('\n');
  const head = raw.slice(1, end === -1 ? undefined : end);
  let route: Record<string, unknown>;
  try {
    route = JSON.parse(head) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof route !== 'object' || route === null) return undefined;
  const message = decodeRoute(raw, end, route);
  if (message && typeof route.t === 'number' && Number.isFinite(route.t)) message.sentAt = route.t;
  return message;
}

function decodeRoute(raw: string, end: number, route: Record<string, unknown>): BusMessage | undefined {
  switch (raw[0]) {
    case 'b': {
      if (end === -1 || typeof route.n !== 'string' || typeof route.ns !== 'string' || !isNames(route.r) || !isNames(route.x)) return undefined;
      return {
        kind: 'broadcast',
        node: route.n,
        broadcast: { ns: route.ns, rooms: route.r, except: route.x, volatile: route.v === 1, frame: raw.slice(end + 1) },
      };
    }
    case 'd': {
      // The stream store's append script wrote it: its own format after the routing line.
      const announced = decodeStreamAnnouncement(raw);
      if (!announced || typeof route.ns !== 'string' || typeof route.room !== 'string' || typeof route.s !== 'string') return undefined;
      if (route.x !== undefined && !isNames(route.x)) return undefined;
      const publication: ClusterPublication = { ns: route.ns, room: route.room, stream: route.s, position: announced.position, payload: announced.payload };
      if (route.x !== undefined && route.x.length > 0) publication.except = route.x;
      return typeof route.n === 'string' ? { kind: 'publication', node: route.n, publication } : { kind: 'publication', publication };
    }
    case 'q':
      if (typeof route.n !== 'string' || typeof route.id !== 'string' || typeof route.q !== 'object' || route.q === null) return undefined;
      return { kind: 'query', node: route.n, id: route.id, query: route.q as ClusterQuery };
    case 't':
      if (typeof route.n !== 'string' || typeof route.sid !== 'string') return undefined;
      return { kind: 'takeover', node: route.n, sid: route.sid };
    default:
      return undefined;
  }
}

function isNames(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
