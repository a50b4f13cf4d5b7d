/**
 * Samples of a duration (connect times, delivery latencies) and their percentiles. Pure:
 * the bench records numbers, the report asks for p50/p95/p99.
 */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Beyond this many samples, every other one is kept: memory stays bounded on long runs at high rates. */
const MAX_SAMPLES = 1_000_000;

export class LatencySamples {
  private samples: number[] = [];
  private stride = 1;
  private seen = 0;
  private largest = 0;

  add(ms: number): void {
    this.seen++;
    if (ms > this.largest) this.largest = ms;
    if (this.seen % this.stride !== 0) return;
    this.samples.push(ms);
    if (this.samples.length >= MAX_SAMPLES) {
      this.samples = this.samples.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  get count(): number {
    return this.seen;
  }

  /** Nearest-rank percentiles, rounded to 0.1 ms; zeros when there are no samples. */
  percentiles(): Percentiles {
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (p: number): number => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number));
    return { count: this.seen, p50: at(50), p95: at(95), p99: at(99), max: round(this.largest) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Counts by error code, e.g. connections failed by `unauthorized` / `disconnected` / `timeout`. */
export class CodeCounts {
  readonly byCode: Record<string, number> = {};
  total = 0;

  add(code: string): void {
    this.total++;
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
  }
}
