import type { RunMeta } from '../meta.js';
import type { FlapFigures, FlapPlan, HeldMemory } from './measure.js';

/** What bench/results/flap-<timestamp>.json holds. */
export interface FlapResults {
  meta: RunMeta;
  plan: FlapPlan & { heartbeatMs: number };
  flap: FlapFigures[];
  memory: HeldMemory[];
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)}`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The run as two tables: delivery on flapping links, then memory per held session. */
export function formatFlapReport(results: FlapResults): string {
  const { plan } = results;
  const memory = new Map(results.memory.map((m) => [m.system, m]));
  const rows = results.flap.map((f) => {
    const m = memory.get(f.system);
    return [
      f.system,
      `${f.lostPct.toFixed(1)}%`,
      `${f.lost}`,
      `${f.duplicated}`,
      `${f.reordered}`,
      `${f.reconnects}`,
      `${f.resumed}`,
      `${f.fresh}`,
      f.system === 'switchboard-durable' ? `${f.gaps} (${f.lostInGaps} msgs)` : '-',
      `${f.away}`,
      m ? kib(m.heapPerSessionBytes) : '-',
      m ? kib(m.rssPerSessionBytes) : '-',
    ];
  });
  const header = ['system', 'lost %', 'lost', 'dup', 'reord', 'reconn', 'resumed', 'new', 'recovered:false', 'away', 'heap KiB/sess', 'rss KiB/sess'];
  const first = results.flap[0];
  const outages = first ? `${first.flap.outages} outages (${first.flap.blackholed} blackholed, ${first.flap.resets} RST, ${first.flap.fins} FIN), ${first.flap.refused} attempts refused` : '';
  const held = results.memory[0];
  const silent = results.flap.flatMap((f) => f.silent.map((c) => `  ${f.system} client ${c.client}: missing ${c.missing.join(' ')} outside its recovered:false gaps ${JSON.stringify(c.gaps.map((g) => [g.fromOffset, g.toOffset]))} (resumed ${c.resumed}, new ${c.fresh}${c.connected ? '' : ', not connected'}; errors ${JSON.stringify(c.errors)})`));
  return [
    ...(silent.length > 0 ? ['SILENT LOSS in a durable room (numbers n at offset n + 1):', ...silent] : []),
    `${plan.clients} clients in one room, ${plan.messages} numbered messages at ${plan.rate}/s, seed ${plan.seed}, heartbeat ${plan.heartbeatMs} ms + ${plan.heartbeatMs} ms; links per client: ${outages}`,
    table(header, rows),
    `lost: numbers never passed to a client's handler, over ${plan.clients} × ${plan.messages}; away: clients not connected when counted; memory: (settled memory with ${held?.sessions ?? '-'} sessions held away while ${held?.messages ?? '-'} messages flowed − before they came) / sessions`,
  ].join('\n');
}
