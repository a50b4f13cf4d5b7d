/**
 * A small seeded PRNG for fault-injection tests, so the random decisions of a failing run
 * (which link to cut, when, how) can be replayed: run again with FAULT_SEED=<seed>.
 * Timing on a real event loop still varies between runs; the seed fixes the decisions.
 */
export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] (both included). */
  int(min: number, max: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** mulberry32: 32-bit state, good enough spread for test decisions, trivially reproducible. */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed: seed >>> 0,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick() from an empty array');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    chance: (p) => next() < p,
  };
}

/**
 * The seed for this run: FAULT_SEED from the environment (decimal or 0x hex) when set,
 * otherwise a fresh one. Tests print it so a failure can be replayed.
 */
export function faultSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FAULT_SEED?.trim();
  if (raw) {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`FAULT_SEED must be an integer from 0 to 4294967295, got ${JSON.stringify(raw)}`);
    }
    return value;
  }
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

/** A seed for a sub-stream (one per test), so adding a test does not shift another test's decisions. */
export function deriveSeed(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}
