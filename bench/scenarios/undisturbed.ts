import { otherCpuBetween, otherProcessesCpu, waitForQuiet } from '../cpu.js';

/** Before each run, wait (up to 20 s) for both cores to be under 10% busy. */
const QUIET_THRESHOLD = 0.1;
const QUIET_MAX_WAIT_MS = 20_000;
/** A run during which other processes used more than this much of a core is measured again. */
export const OTHER_CPU_LIMIT = 0.05;
const MAX_ATTEMPTS = 4;

/** Measures how much CPU processes other than the bench's used during a window. */
export class OtherCpuWatch {
  private readonly exclude: Set<number>;
  private before = new Map<number, { cpu: number }>();
  private t0 = 0;

  constructor(serverPid: number) {
    this.exclude = new Set([process.pid, serverPid]);
  }

  start(): void {
    this.before = otherProcessesCpu(this.exclude);
    this.t0 = performance.now();
  }

  /** Cores' worth of CPU the others used since `start`, and who used most. */
  stop(): { otherCpu: number; otherTop: string[] } {
    const { cores, top } = otherCpuBetween(this.before, otherProcessesCpu(this.exclude), (performance.now() - this.t0) / 1000);
    return { otherCpu: cores, otherTop: top };
  }
}

export interface Undisturbed {
  /** CPU other processes used during the kept run's window, in cores. */
  otherCpu: number;
  /** The processes that used most of it (`name pid: cores`). */
  otherTop: string[];
  /** Runs made to get one without other work: 1 when the first was undisturbed. */
  attempts: number;
  quietWaitMs: number;
}

/**
 * The machine is shared (other sessions run tests on it), so each run waits for the
 * cores to be idle, watches the other processes' CPU during its window, and is measured
 * again when they took more than 5% of a core — up to 4 times, then the least disturbed
 * run is kept and its `otherCpu` tells how much it was disturbed.
 */
export async function undisturbed<R extends { otherCpu: number; otherTop: string[] }>(
  what: string,
  run: () => Promise<R>,
  log: (line: string) => void,
): Promise<R & Undisturbed> {
  let best: (R & Undisturbed) | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const quiet = await waitForQuiet(QUIET_THRESHOLD, QUIET_MAX_WAIT_MS);
    const r = { ...(await run()), attempts: attempt, quietWaitMs: quiet.waitedMs };
    if (r.otherCpu <= OTHER_CPU_LIMIT) return r;
    log(`    (${what}: other processes used ${pct(r.otherCpu)} of a core during the window — ${r.otherTop.join(', ')}${attempt < MAX_ATTEMPTS ? '; measuring again' : ''})`);
    if (!best || r.otherCpu < best.otherCpu) best = r;
  }
  return { ...(best as R & Undisturbed), attempts: MAX_ATTEMPTS };
}

export const pct = (x: number): string => `${Math.round(x * 100)}%`;
