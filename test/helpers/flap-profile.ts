import type { SeededRandom } from './seeded-random.js';

/** A range of milliseconds, both ends included. */
export type MsRange = readonly [min: number, max: number];

/**
 * How one client's link behaves, like a phone's radio: up for a while, then out for a
 * while, again and again. Outages are short most of the time and long now and then.
 */
export interface FlapProfile {
  /** How long the link stays up between outages. */
  up: MsRange;
  /** A short outage (a tunnel, a cell handover). */
  shortOut: MsRange;
  /** A long outage (a dead zone). */
  longOut: MsRange;
  /** Probability that an outage is a short one. */
  shortChance: number;
  /**
   * Probability that an outage leaves the client's open connections silent (every byte
   * dropped, no FIN, no RST: the peers find out by their heartbeats, as after a phone
   * changed cells) rather than cutting them at once.
   */
  blackholeChance: number;
  /** Of the cuts that are not silent: probability of an RST rather than a FIN. */
  resetChance: number;
  /** Of the connection attempts during an outage: probability of an RST after the accept rather than an immediate close. */
  refuseWithResetChance: number;
  /** Added one-way delay of every chunk, in ms. */
  latencyMs: number;
  /** Extra one-way delay drawn uniformly in [0, jitterMs] per chunk (order is kept). */
  jitterMs: number;
}

/**
 * The profile of issue 13's outside measurement, a phone on a train: up 1–4 s, then out
 * 0.1–0.9 s (80%) or 2–5 s (20%). Phones mostly go silent rather than reset, hence half
 * of the outages blackhole; 40 ms ± 30 ms of latency is a good mobile link.
 */
export const HARSH_PROFILE: FlapProfile = {
  up: [1000, 4000],
  shortOut: [100, 900],
  longOut: [2000, 5000],
  shortChance: 0.8,
  blackholeChance: 0.5,
  resetChance: 0.5,
  refuseWithResetChance: 0.5,
  latencyMs: 40,
  jitterMs: 30,
};

/** The harsh profile with some fields changed, e.g. `profile({ blackholeChance: 0 })`. */
export function profile(changes: Partial<FlapProfile>): FlapProfile {
  return { ...HARSH_PROFILE, ...changes };
}

/** How an outage treats the connections open when it starts. */
export type OutageKind = 'blackhole' | 'reset' | 'fin';

/** One period of a link's timeline: up for `upMs`, then out for `outMs`. */
export interface FlapPeriod {
  /** Start of the outage, in ms from the start of the timeline. */
  outAt: number;
  outMs: number;
  kind: OutageKind;
}

/**
 * A link's outages from 0 to `durationMs`, drawn from `random` alone: the same seed gives
 * the same timeline whatever the event loop does. The link is up at 0 and after the last
 * outage; no outage starts after `durationMs`, the last one may end after it.
 */
export function flapTimeline(p: FlapProfile, random: SeededRandom, durationMs: number): FlapPeriod[] {
  const periods: FlapPeriod[] = [];
  const draw = ([min, max]: MsRange): number => random.int(min, max);
  let t = draw(p.up);
  while (t < durationMs) {
    const outMs = random.chance(p.shortChance) ? draw(p.shortOut) : draw(p.longOut);
    const kind: OutageKind = random.chance(p.blackholeChance) ? 'blackhole' : random.chance(p.resetChance) ? 'reset' : 'fin';
    periods.push({ outAt: t, outMs, kind });
    t += outMs + draw(p.up);
  }
  return periods;
}
