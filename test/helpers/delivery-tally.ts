/**
 * Counting what reached the handlers in a delivery audit: numbered messages seen by one
 * client (lost, duplicated, reordered), the sessions it went through, and the gaps the
 * server owned up to with `recovered: false`. Pure bookkeeping, no sockets.
 */

/** The numbers one handler saw of a stream numbered 0, 1, 2, ... in send order. */
export class NumberTally {
  private readonly seen = new Set<number>();
  private max = -1;
  received = 0;
  duplicates = 0;
  /** Arrivals of a number lower than one already seen (duplicates not counted). */
  reordered = 0;

  record(n: number): void {
    this.received++;
    if (this.seen.has(n)) {
      this.duplicates++;
      return;
    }
    this.seen.add(n);
    if (n < this.max) this.reordered++;
    this.max = Math.max(this.max, n);
  }

  has(n: number): boolean {
    return this.seen.has(n);
  }

  /** Numbers in [0, total) never seen. */
  missing(total: number): number[] {
    const out: number[] = [];
    for (let n = 0; n < total; n++) if (!this.seen.has(n)) out.push(n);
    return out;
  }
}

/** How one client's connection went: every `connect` after the first is a reconnect. */
export class SessionLog {
  connects = 0;
  /** Reconnects that resumed the session on its node (`resumed: true`). */
  resumed = 0;
  /** Reconnects that kept the session id without a resume: another node restored it (no frames in flight). */
  restored = 0;
  /** Reconnects that started a new session: what the old one was owed is gone. */
  fresh = 0;
  /** Longest time between a disconnect and the next connect, in ms. */
  longestAwayMs = 0;
  private lastId: string | undefined;
  private downSince: number | undefined;

  connected(resumed: boolean, id: string | undefined): void {
    this.connects++;
    if (this.connects > 1) {
      if (resumed) this.resumed++;
      else if (id !== undefined && id === this.lastId) this.restored++;
      else this.fresh++;
    }
    if (this.downSince !== undefined) this.longestAwayMs = Math.max(this.longestAwayMs, Date.now() - this.downSince);
    this.downSince = undefined;
    this.lastId = id;
  }

  disconnected(): void {
    this.downSince ??= Date.now();
  }

  get reconnects(): number {
    return Math.max(0, this.connects - 1);
  }

  /** Every reconnect resumed the session where it was: nothing the server sent may be missing. */
  get allResumed(): boolean {
    return this.fresh === 0 && this.restored === 0;
  }
}

/** A durable room's `recovered: false`: publications after `fromOffset` up to `toOffset` were not replayed. */
export interface ReportedGap {
  fromOffset: number;
  toOffset: number;
}

/** Of the numbers missing at a durable-room client, those inside no reported gap: silent loss. */
export function unreportedLoss(missing: readonly number[], offsetOf: (n: number) => number | undefined, gaps: readonly ReportedGap[]): number[] {
  return missing.filter((n) => {
    const offset = offsetOf(n);
    if (offset === undefined) return true; // never stored: nobody can have reported it
    return !gaps.some((g) => offset > g.fromOffset && offset <= g.toOffset);
  });
}

/** One row of the audit's table: one case (topology, transport, mechanism) over all its clients. */
export interface CaseFigures {
  case: string;
  clients: number;
  /** Messages all clients together should have seen, or publishes they should have had handled. */
  expected: number;
  lost: number;
  duplicated: number;
  reordered: number;
  reconnects: number;
  resumed: number;
  restored: number;
  fresh: number;
  /** Durable: `recovered: false` events; reliable: publishes rejected (`unconfirmed` and others). */
  gaps: number;
  /** Durable: missing numbers in no reported gap. Ordinary: lost by clients whose sessions all resumed. */
  silent: number;
  /** Outages, and connections each one blackholed or cut. */
  cuts: number;
}

const COLUMNS: [keyof CaseFigures, string][] = [
  ['case', 'case'],
  ['clients', 'clients'],
  ['expected', 'expected'],
  ['lost', 'lost'],
  ['duplicated', 'dup'],
  ['reordered', 'reord'],
  ['reconnects', 'reconn'],
  ['resumed', 'resumed'],
  ['restored', 'restored'],
  ['fresh', 'new'],
  ['gaps', 'gaps/rej'],
  ['silent', 'silent'],
  ['cuts', 'cuts'],
];

/** The figures as a fixed-width table, lost also as a share of what was expected. */
export function formatTable(rows: readonly CaseFigures[]): string {
  const cells = rows.map((r) =>
    COLUMNS.map(([key]) => {
      if (key === 'lost') {
        const share = r.expected > 0 ? (100 * r.lost) / r.expected : 0;
        return `${r.lost} (${share.toFixed(1)}%)`;
      }
      return String(r[key]);
    }),
  );
  const header = COLUMNS.map(([, title]) => title);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}
