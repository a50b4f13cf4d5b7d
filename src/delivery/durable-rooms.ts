import type { HistoryLimits } from './stream-store.js';

/** Which rooms are durable: an exact name, a RegExp, or a predicate. */
export type RoomMatcher = string | RegExp | ((room: string) => boolean);

/**
 * Sized by age first: five minutes covers a client away for the resume TTL (2 minutes) and
 * the heartbeat's detection delay, and 100,000 publications hold those five minutes at
 * over 300 per second, so a busy room's history is not cut by count before it is by age.
 */
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { maxMessages: 100_000, maxAge: 5 * 60_000 };

/** Names a durable room's limits had before, and what they are now (nothing was published under them). */
const RENAMED_LIMITS: Readonly<Record<string, string>> = { maxAgeMs: 'maxAge' };

/** An unknown limit (a typo, an old name) would be ignored and its default silently kept: refuse it. */
function checkLimitNames(limits: object): void {
  for (const name of Object.keys(limits)) {
    if (name in DEFAULT_HISTORY_LIMITS) continue;
    const renamed = RENAMED_LIMITS[name];
    const hint = renamed ? `it was renamed; use ${renamed} instead` : `the limits are ${Object.keys(DEFAULT_HISTORY_LIMITS).join(', ')}`;
    throw new TypeError(`durable room limit "${name}" is unknown: ${hint}`);
  }
}

/** The durable-room rules of one namespace; the first rule that matches a room wins. */
export class DurableRooms {
  private readonly rules: { matches: (room: string) => boolean; limits: HistoryLimits }[] = [];

  add(matcher: RoomMatcher, limits: Partial<HistoryLimits> = {}): void {
    checkLimitNames(limits);
    const resolved = { ...DEFAULT_HISTORY_LIMITS, ...limits };
    if (!(resolved.maxMessages >= 1) || !(resolved.maxAge > 0)) {
      throw new RangeError(`durable room history needs maxMessages >= 1 and maxAge > 0, got ${JSON.stringify(resolved)}`);
    }
    this.rules.push({ matches: roomPredicate(matcher), limits: resolved });
  }

  /** The history limits of a durable room, or undefined for an ordinary (at-most-once) room. */
  limitsFor(room: string): HistoryLimits | undefined {
    for (const rule of this.rules) if (rule.matches(room)) return rule.limits;
    return undefined;
  }

  get any(): boolean {
    return this.rules.length > 0;
  }
}

/** A room matcher as a predicate. */
export function roomPredicate(matcher: RoomMatcher): (room: string) => boolean {
  if (typeof matcher === 'string') return (room) => room === matcher;
  if (matcher instanceof RegExp) {
    // A global or sticky RegExp remembers lastIndex between test() calls; a copy without those flags does not.
    const pattern = new RegExp(matcher.source, matcher.flags.replace(/[gy]/g, ''));
    return (room) => pattern.test(room);
  }
  return matcher;
}

/** The store key of a namespace's room; the length prefix keeps "/a" + "b/c" apart from "/a/b" + "c". */
export function streamKey(namespace: string, room: string): string {
  return `${namespace.length}:${namespace}${room}`;
}

/** The namespace and room of a key made by streamKey(). */
export function parseStreamKey(key: string): { ns: string; room: string } | undefined {
  const colon = key.indexOf(':');
  const length = Number(key.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(length) || key.length < colon + 1 + length) return undefined;
  return { ns: key.slice(colon + 1, colon + 1 + length), room: key.slice(colon + 1 + length) };
}

/** Add `position` to an encoded event frame (which ends with "}"): positions are known only after the append. */
export function withPosition(payload: string, epoch: string, offset: number): string {
  return `${payload.slice(0, -1)},"position":{"epoch":${JSON.stringify(epoch)},"offset":${offset}}}`;
}
