import type { ServerName } from './load/dialects.js';
import type { RunMeta } from './meta.js';
import type { Plan } from './plan.js';
import type { ConnectRateResult } from './scenarios/connect-rate.js';
import type { FanoutResult } from './scenarios/fanout.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { RequestAckResult } from './scenarios/request-ack.js';
import { spread, type Spread } from './stats.js';
import { OTHER_CPU_LIMIT } from './scenarios/undisturbed.js';

/** Everything one run of the bench measured: the JSON file, the table and the plot all come from this. */
export interface BenchResults {
  meta: RunMeta;
  plan: Plan;
  fanout: FanoutResult[];
  memory: MemoryResult[];
  requestAck: RequestAckResult[];
  connectRate: ConnectRateResult[];
}

const LABEL: Record<ServerName, string> = {
  switchboard: 'Switchboard',
  'switchboard-noresume': 'SB resume off',
  'ws-naive': 'ws naive',
  'ws-coalesced': 'ws coalesced',
  'socket.io': 'Socket.IO',
  'switchboard-socketio': 'Socket.IO client on SB',
};
const ORDER: ServerName[] = ['switchboard', 'switchboard-noresume', 'ws-naive', 'ws-coalesced', 'socket.io', 'switchboard-socketio'];
/** Socket.IO clients on Switchboard against the real socket.io server: a last ratio column when both ran. */
const SIO_ON_SB: ServerName = 'switchboard-socketio';
const SIO_RATIO_HEAD = 'SB Socket.IO / Socket.IO';
/** The extra cells of a row when `servers` has Socket.IO clients on Switchboard. */
const sioCells = (servers: ServerName[], cells: () => string[]): string[] => (servers.includes(SIO_ON_SB) ? cells() : []);

export const count = (n: number): string =>
  !Number.isFinite(n) ? '–' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`;
const ms = (n: number): string => (!Number.isFinite(n) ? '–' : n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2));
const kib = (n: number): string => (!Number.isFinite(n) ? '–' : (n / 1024).toFixed(1));
const pct = (n: number): string => (!Number.isFinite(n) ? '–' : `${Math.round(n * 100)}%`);
const runs = (n: number): string => `${n} run${n === 1 ? '' : 's'}`;
const cell = (s: Spread | undefined, f: (n: number) => string): string => (s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : '–');
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a / b) ? '–' : `${(a / b).toFixed(2)}×`;

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The tables as Markdown: readable on a terminal, pasted as-is into docs/PERFORMANCE.md. */
export function formatReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(
    `Switchboard bench (${r.plan.mode}), ${m.date.slice(0, 16).replace('T', ' ')} UTC, commit ${m.commit.slice(0, 12)}` +
      `${m.uncommitted.length ? ` plus ${m.uncommitted.length} uncommitted changes` : ''}; Node ${m.node}, ws ${m.versions.ws}` +
      ` (${m.nativeAddons.length ? m.nativeAddons.join(', ') : 'no bufferutil/utf-8-validate'}), socket.io ${m.versions['socket.io']}; ` +
      `${m.cores} × ${m.cpu}. Medians of the runs, (min–max) in brackets.`,
  );
  const servers = ORDER.filter((s) => [...r.fanout, ...r.memory, ...r.requestAck, ...r.connectRate].some((x) => x.server === s));
  if (r.fanout.length) out.push(fanoutTables(r.fanout, servers, r.plan));
  if (r.memory.length) out.push(memoryTable(r.memory, servers));
  if (r.requestAck.length) out.push(requestAckTable(r.requestAck, servers));
  if (r.connectRate.length) out.push(connectRateTable(r.connectRate, servers));
  out.push(targetsTable(r));
  const notes = measurementNotes(r);
  if (notes.length) out.push(['### Measurement notes', ...notes.map((n) => `- ${n}`)].join('\n\n'));
  return out.join('\n\n');
}

/** What may limit or disturb the numbers above: other work on the machine, a busy load generator, lost deliveries. */
function measurementNotes(r: BenchResults): string[] {
  const notes: string[] = [];
  const all = [
    ...r.fanout.flatMap((x) => x.runs.map((run) => ({ what: `fan-out ${LABEL[x.server]} ${x.subscribers} × ${x.perTurn}`, run }))),
    ...r.requestAck.flatMap((x) => x.runs.map((run) => ({ what: `request/ack ${LABEL[x.server]} ${x.rate}/s`, run }))),
    ...r.connectRate.flatMap((x) => x.runs.map((run) => ({ what: `connect rate ${LABEL[x.server]}`, run }))),
  ];
  const repeated = all.reduce((n, x) => n + (x.run.attempts ?? 1) - 1, 0);
  if (repeated) notes.push(`${repeated} run(s) were measured again because other processes used more than ${pct(OTHER_CPU_LIMIT)} of a core during the window.`);
  const disturbed = new Map<string, number[]>();
  for (const x of all) if (x.run.otherCpu > OTHER_CPU_LIMIT) disturbed.set(x.what, [...(disturbed.get(x.what) ?? []), x.run.otherCpu]);
  if (disturbed.size) {
    const runsKept = [...disturbed.values()].reduce((n, v) => n + v.length, 0);
    notes.push(
      `${runsKept} kept run(s) were still disturbed after 4 tries (the least disturbed was kept; other processes' CPU during it, at most): ` +
        [...disturbed].map(([what, v]) => `${what} ${v.length}× up to ${pct(Math.max(...v))}`).join('; ') + '.',
    );
  }
  const busyLoader = r.fanout.filter((x) => x.runs.some((run) => run.loaderCoreBusy > 0.95));
  if (busyLoader.length) {
    const drain = Math.max(...busyLoader.flatMap((x) => x.runs.map((run) => run.drainMs)));
    notes.push(
      `The load generator's core was over 95% busy in some runs of: ${busyLoader.map((x) => `${LABEL[x.server]} ${x.subscribers} × ${x.perTurn}`).join('; ')}. ` +
        `The last deliveries of those runs arrived within ${Math.round(drain)} ms of the server's last publish, so it kept up (a load generator that fell behind would leave a backlog to drain); ` +
        'its busy core does add to their latency.',
    );
  }
  const lost = r.fanout.filter((x) => x.runs.some((run) => run.missing > 0));
  if (lost.length) notes.push(`Deliveries missing after the drain: ${lost.map((x) => `${LABEL[x.server]} ${x.subscribers} × ${x.perTurn}: ${Math.max(...x.runs.map((run) => run.missing))}`).join('; ')}.`);
  const unanswered = r.requestAck.filter((x) => x.runs.some((run) => run.unanswered > 0));
  if (unanswered.length) notes.push(`Requests unanswered within 5 s: ${unanswered.map((x) => `${LABEL[x.server]} ${x.rate}/s`).join('; ')}.`);
  return notes;
}

function fanoutTables(results: FanoutResult[], servers: ServerName[], plan: Plan): string {
  const keys = [...new Map(results.map((x) => [`${x.subscribers}×${x.perTurn}`, x])).values()].sort(
    (a, b) => a.subscribers - b.subscribers || a.perTurn - b.perTurn,
  );
  const find = (s: ServerName, k: FanoutResult): FanoutResult | undefined =>
    results.find((x) => x.server === s && x.subscribers === k.subscribers && x.perTurn === k.perTurn);
  const sb = (k: FanoutResult): number | undefined => find('switchboard', k)?.deliveriesPerSec.median;
  const rows = keys.map((k) => [
    `${k.subscribers} × ${k.perTurn}`,
    ...servers.map((s) => cell(find(s, k)?.deliveriesPerSec, count)),
    ratio(sb(k), find('ws-naive', k)?.deliveriesPerSec.median),
    ratio(sb(k), find('ws-coalesced', k)?.deliveriesPerSec.median),
    ratio(sb(k), find('socket.io', k)?.deliveriesPerSec.median),
    ...sioCells(servers, () => [ratio(find(SIO_ON_SB, k)?.deliveriesPerSec.median, find('socket.io', k)?.deliveriesPerSec.median)]),
  ]);
  const latency = keys.map((k) => [
    `${k.subscribers} × ${k.perTurn}`,
    ...servers.map((s) => cell(find(s, k)?.latencyP99Ms, ms)),
    ...sioCells(servers, () => [ratio(find(SIO_ON_SB, k)?.latencyP99Ms.median, find('socket.io', k)?.latencyP99Ms.median)]),
  ]);
  const cpu = keys.map((k) => [
    `${k.subscribers} × ${k.perTurn}`,
    ...servers.map((s) => {
      const x = find(s, k);
      if (!x) return '–';
      const loaderCore = Math.max(...x.runs.map((run) => run.loaderCoreBusy));
      return `${pct(x.serverCpu.median)} / ${pct(x.loaderCpu.median)} (${pct(loaderCore)})`;
    }),
  ]);
  const window = `${runs(plan.fanout.runs)} of ${plan.fanout.measureMs / 1000} s after ${plan.fanout.warmupMs} ms of warm-up`;
  return [
    `### Fan-out: deliveries per second to one room (subscribers × messages per turn; ${window})`,
    table(['room × per turn', ...servers.map((s) => LABEL[s]), 'SB / ws naive', 'SB / ws coalesced', 'SB / Socket.IO', ...sioCells(servers, () => [SIO_RATIO_HEAD])], rows),
    `### Fan-out: p99 delivery latency, ms (send stamp to arrival at up to ${plan.fanout.probes} probe subscribers, one per 100, at full load)`,
    table(['room × per turn', ...servers.map((s) => LABEL[s]), ...sioCells(servers, () => [SIO_RATIO_HEAD])], latency),
    '### Fan-out: CPU over the window — server process / load generator process (busiest load-generator core reading of the runs)',
    table(['room × per turn', ...servers.map((s) => LABEL[s])], cpu),
  ].join('\n\n');
}

function memoryTable(results: MemoryResult[], servers: ServerName[]): string {
  const get = (s: ServerName): MemoryResult | undefined => results.find((x) => x.server === s);
  const n = results[0]?.connections ?? 0;
  const rows = (['rssPerConnection', 'heapPerConnection'] as const).map((key) => [
    key === 'rssPerConnection' ? 'RSS' : 'heap used',
    ...servers.map((s) => cell(get(s)?.[key], kib)),
    ratio(get('switchboard')?.[key].median, get('ws-naive')?.[key].median),
    ratio(get('switchboard')?.[key].median, get('socket.io')?.[key].median),
    ...sioCells(servers, () => [ratio(get(SIO_ON_SB)?.[key].median, get('socket.io')?.[key].median)]),
  ]);
  return [
    `### Idle memory per connection, KiB (${n.toLocaleString('en')} connections, after forced GC, minus the server with none; ${runs(results[0]?.runs.length ?? 0)})`,
    table(['', ...servers.map((s) => LABEL[s]), 'SB / ws', 'SB / Socket.IO', ...sioCells(servers, () => [SIO_RATIO_HEAD])], rows),
  ].join('\n\n');
}

function requestAckTable(results: RequestAckResult[], servers: ServerName[]): string {
  const rates = [...new Set(results.map((x) => x.rate))].sort((a, b) => a - b);
  const get = (s: ServerName, rate: number): RequestAckResult | undefined => results.find((x) => x.server === s && x.rate === rate);
  const rows = rates.flatMap((rate) => [
    ...(['p50Ms', 'p99Ms'] as const).map((key) => [
      `${rate.toLocaleString('en')}/s ${key === 'p50Ms' ? 'p50' : 'p99'}`,
      ...servers.map((s) => cell(get(s, rate)?.[key], ms)),
      ratio(get('switchboard', rate)?.[key].median, get('ws-naive', rate)?.[key].median),
      ratio(get('switchboard', rate)?.[key].median, get('socket.io', rate)?.[key].median),
      ...sioCells(servers, () => [ratio(get(SIO_ON_SB, rate)?.[key].median, get('socket.io', rate)?.[key].median)]),
    ]),
    [
      `${rate.toLocaleString('en')}/s server GC: pauses, longest ms`,
      ...servers.map((s) => {
        const runs = get(s, rate)?.runs.filter((run) => run.serverGc);
        if (!runs?.length) return '–';
        return `${spread(runs.map((run) => run.serverGc.count)).median}, ${ms(spread(runs.map((run) => run.serverGc.maxMs)).median)}`;
      }),
      '',
      '',
      ...sioCells(servers, () => ['']),
    ],
  ]);
  const c = results[0];
  return [
    `### Request/ack round trip, ms (${c?.connections} connections, open-loop offered rate; ${runs(c?.runs.length ?? 0)}; ws servers echo the frame back)`,
    table(['rate', ...servers.map((s) => LABEL[s]), 'SB / ws echo', 'SB / Socket.IO', ...sioCells(servers, () => [SIO_RATIO_HEAD])], rows),
  ].join('\n\n');
}

function connectRateTable(results: ConnectRateResult[], servers: ServerName[]): string {
  const get = (s: ServerName): ConnectRateResult | undefined => results.find((x) => x.server === s);
  const c = results[0];
  const rows = [
    [
      'connections/s',
      ...servers.map((s) => cell(get(s)?.perSec, count)),
      ratio(get('switchboard')?.perSec.median, get('ws-naive')?.perSec.median),
      ratio(get('switchboard')?.perSec.median, get('socket.io')?.perSec.median),
      ...sioCells(servers, () => [ratio(get(SIO_ON_SB)?.perSec.median, get('socket.io')?.perSec.median)]),
    ],
    ['server CPU', ...servers.map((s) => pct(get(s)?.serverCpu.median ?? NaN)), '', '', ...sioCells(servers, () => [''])],
    ['load generator CPU', ...servers.map((s) => { const x = get(s); return x ? pct(Math.max(...x.runs.map((run) => run.loaderCpu))) : '–'; }), '', '', ...sioCells(servers, () => [''])],
  ];
  return [
    `### Connections opened per second (${c?.connections.toLocaleString('en')} per run, ${c?.concurrency} handshakes in flight, handshake complete; ${runs(c?.runs.length ?? 0)} after two warm-up runs)`,
    table(['', ...servers.map((s) => LABEL[s]), 'SB / ws', 'SB / Socket.IO', ...sioCells(servers, () => [SIO_RATIO_HEAD])], rows),
  ].join('\n\n');
}

export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** The issue's targets, judged on the medians of this run. */
export function evaluateTargets(r: BenchResults): TargetVerdict[] {
  const fan = (s: ServerName, subs: number, perTurn: number): number | undefined =>
    r.fanout.find((x) => x.server === s && x.subscribers === subs && x.perTurn === perTurn)?.deliveriesPerSec.median;
  const verdicts: TargetVerdict[] = [];
  const ratioTarget = (target: string, pairs: [string, number | undefined, number | undefined][], ok: (x: number) => boolean): void => {
    const known = pairs.filter(([, a, b]) => a !== undefined && b !== undefined) as [string, number, number][];
    verdicts.push({
      target,
      measured: known.length ? known.map(([label, a, b]) => `${(a / b).toFixed(2)}× ${label}`.trim()).join(', ') : 'not measured',
      met: known.length ? known.every(([, a, b]) => ok(a / b)) : undefined,
    });
  };
  const rooms = [1000, 5000].filter((n) => r.fanout.some((x) => x.subscribers === n));
  ratioTarget('fan-out at 8 messages per turn ≥ 0.85× ws coalesced', rooms.map((n) => [`(${n})`, fan('switchboard', n, 8), fan('ws-coalesced', n, 8)]), (x) => x >= 0.85);
  ratioTarget('fan-out at 1 message per turn ≥ 1.0× ws naive', rooms.map((n) => [`(${n})`, fan('switchboard', n, 1), fan('ws-naive', n, 1)]), (x) => x >= 1.0);
  const mem = (s: ServerName): MemoryResult | undefined => r.memory.find((x) => x.server === s);
  ratioTarget('idle RSS per connection ≤ 1.25× ws', [['', mem('switchboard')?.rssPerConnection.median, mem('ws-naive')?.rssPerConnection.median]], (x) => x <= 1.25);
  ratioTarget('idle heap per connection ≤ 0.4× Socket.IO', [['', mem('switchboard')?.heapPerConnection.median, mem('socket.io')?.heapPerConnection.median]], (x) => x <= 0.4);
  const p99 = (s: ServerName): number | undefined => r.requestAck.find((x) => x.server === s && x.rate === 5000)?.p99Ms.median;
  ratioTarget('request/ack p99 at 5,000/s ≤ 1.5× raw ws echo', [['', p99('switchboard'), p99('ws-naive')]], (x) => x <= 1.5);
  return verdicts;
}

function targetsTable(r: BenchResults): string {
  const rows = evaluateTargets(r).map((v) => [v.target, v.measured, v.met === undefined ? 'not measured' : v.met ? 'met' : 'NOT met']);
  return ['### Targets of issue 6 (ratios of medians in this run)', table(['target', 'measured', 'verdict'], rows)].join('\n\n');
}
