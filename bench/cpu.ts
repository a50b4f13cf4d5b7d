import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './stats.js';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
export const CLOCK_TICKS = 100;

/** Jiffies of one core from /proc/stat: busy (everything but idle and iowait) and total. */
export interface CoreTimes {
  busy: number;
  total: number;
}

export function coreTimes(): CoreTimes[] {
  const cores: CoreTimes[] = [];
  for (const line of readFileSync('/proc/stat', 'latin1').split('\n')) {
    if (!/^cpu\d/.test(line)) continue;
    // user nice system idle iowait irq softirq steal …
    const v = line.split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    cores.push({ busy: total - (v[3] as number) - (v[4] as number), total });
  }
  return cores;
}

/** Busy fraction of each core between two samples. */
export function busyBetween(a: CoreTimes[], b: CoreTimes[]): number[] {
  return b.map((core, i) => {
    const before = a[i] as CoreTimes;
    const total = core.total - before.total;
    return total > 0 ? (core.busy - before.busy) / total : 0;
  });
}

/**
 * Wait until the machine is idle (every core under `threshold` busy over a 300 ms
 * sample) before a measurement, because other work on a shared 2-core machine would be
 * measured too. Gives up after `maxWaitMs` and says how busy it still was.
 */
export async function waitForQuiet(threshold: number, maxWaitMs: number): Promise<{ waitedMs: number; busy: number[] }> {
  const start = Date.now();
  for (;;) {
    const a = coreTimes();
    await sleep(300);
    const busy = busyBetween(a, coreTimes());
    if (busy.every((x) => x < threshold) || Date.now() - start >= maxWaitMs) return { waitedMs: Date.now() - start, busy };
  }
}

/**
 * CPU seconds used so far by every user-space process except `exclude` (the bench's own
 * load generator and server). Kernel threads are left out: ksoftirqd does the loopback
 * network work of the bench itself.
 */
export function otherProcessesCpu(exclude: ReadonlySet<number>): Map<number, { cpu: number; name: string }> {
  const used = new Map<number, { cpu: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || exclude.has(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === 2 || pid === 2) continue; // kthreadd and its children
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    used.set(pid, { cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS, name });
  }
  return used;
}

/**
 * Cores' worth of CPU that other processes used between two samples `seconds` apart,
 * and the three that used most (`name pid: cores`).
 */
export function otherCpuBetween(
  a: Map<number, { cpu: number }>,
  b: Map<number, { cpu: number; name: string }>,
  seconds: number,
): { cores: number; top: string[] } {
  const each: [string, number][] = [];
  for (const [pid, { cpu, name }] of b) each.push([`${name} ${pid}`, (cpu - (a.get(pid)?.cpu ?? 0)) / seconds]);
  each.sort((x, y) => y[1] - x[1]);
  return {
    cores: each.reduce((sum, [, c]) => sum + c, 0),
    top: each.slice(0, 3).filter(([, c]) => c > 0).map(([who, c]) => `${who}: ${c.toFixed(2)}`),
  };
}
