import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** The option `trustProxy`: false, true (any peer), a number of proxy hops, or proxy addresses / CIDR ranges. */
export type TrustProxy = boolean | number | readonly string[];

/** What the resolver reads of a request: the peer's address and the proxies' header. */
export type AddressedRequest = Pick<IncomingMessage, 'headers'> & { socket: { remoteAddress?: string | undefined } };

/**
 * Build the function that names a request's client IP. Without `trustProxy` it is the
 * socket's peer; with it, the address the trusted proxies put in `X-Forwarded-For`
 * (nearest proxy last). A header that is malformed where it must be read counts for
 * nothing: the socket's peer is used, so a broken proxy cannot merge clients into one
 * made-up address.
 */
export function clientAddressResolver(trustProxy: TrustProxy): (req: AddressedRequest) => string {
  const pick = chainPicker(trustProxy);
  return (req) => {
    const peer = normalizeAddress(req.socket.remoteAddress ?? '');
    if (!pick) return peer;
    const header = req.headers['x-forwarded-for'];
    // Node joins repeated X-Forwarded-For headers with ", ", so one string is the whole chain.
    const forwarded = Array.isArray(header) ? header.join(',') : header;
    if (forwarded === undefined || forwarded.trim() === '') return peer;
    return pick(peer, forwarded.split(',').reverse()) ?? peer;
  };
}

/**
 * Walks the chain from the socket's peer towards the client: `hops(n)` is the chain's
 * n-th address (the peer is 0) or the farthest one when the chain is shorter. Entries are
 * parsed only when reached; undefined means one of them was malformed.
 */
type ChainPicker = (peer: string, forwardedNearestFirst: string[]) => string | undefined;

function chainPicker(trustProxy: TrustProxy): ChainPicker | undefined {
  if (trustProxy === false || trustProxy === 0) return undefined;
  if (trustProxy === true) return (peer, chain) => walk(peer, chain, () => true);
  if (typeof trustProxy === 'number') {
    if (!Number.isInteger(trustProxy) || trustProxy < 0) {
      throw new RangeError(`Switchboard option trustProxy must be a boolean, a whole number of proxy hops or a list of proxy addresses, got ${trustProxy}`);
    }
    return (peer, chain) => walk(peer, chain, (_address, hop) => hop < trustProxy);
  }
  if (!Array.isArray(trustProxy)) {
    throw new TypeError(`Switchboard option trustProxy must be a boolean, a number of proxy hops or a list of proxy addresses, got ${String(trustProxy)}`);
  }
  const proxies = proxyList(trustProxy);
  return (peer, chain) => walk(peer, chain, (address) => proxies.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'));
}

/** Move from the peer towards the client while the current hop is a trusted proxy. */
function walk(peer: string, chain: string[], trusted: (address: string, hop: number) => boolean): string | undefined {
  let current = peer;
  for (let hop = 0; hop < chain.length && trusted(current, hop); hop++) {
    const next = parseForwarded(chain[hop] as string);
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix, extra] = String(entry).trim().split('/');
    const normalized = address === undefined ? undefined : normalizeAddress(address);
    const family = normalized === undefined ? 0 : isIP(normalized);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    const valid = family !== 0 && extra === undefined && (bits === undefined || (prefix !== '' && Number.isInteger(bits) && bits >= 0 && bits <= maxBits));
    if (!valid) {
      throw new TypeError(`Switchboard option trustProxy: "${entry}" is not an IP address or a CIDR range (such as 10.0.0.0/8)`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(normalized as string, type);
    else list.addSubnet(normalized as string, bits, type);
  }
  return list;
}

/** One X-Forwarded-For entry as an address: `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`. */
function parseForwarded(entry: string): string | undefined {
  let text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1] as string;
  else if (/^[\d.]+:\d{1,5}$/.test(text)) text = text.slice(0, text.indexOf(':'));
  return isIP(text) === 0 ? undefined : normalizeAddress(text);
}

/** One spelling per address: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, a dual-stack socket's view of IPv4) as plain IPv4, IPv6 in lower case. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  return address.includes(':') ? address.toLowerCase() : address;
}

/**
 * The key of per-IP limits: an IPv4 address, or the /64 network of an IPv6 one — one
 * IPv6 subscriber usually holds a whole /64, and would otherwise get a limit per address.
 */
export function limitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIPv6(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros; undefined if it is not one. */
function expandIPv6(address: string): string[] | undefined {
  const [head = '', tail, extra] = address.split('%', 1)[0]!.split('::');
  if (extra !== undefined) return undefined;
  const groupsOf = (part: string): string[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [g];
          // An embedded IPv4 address fills the last two groups.
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        });
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => (parseInt(g, 16) || 0).toString(16));
}
