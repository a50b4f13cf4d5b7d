/**
 * What `switchboard bench` shows: a progress line while it runs (rewritten in place on a
 * terminal, one line per tick otherwise) and the summary table at the end.
 */
import type { BenchResult, BenchSnapshot } from './bench-run.js';
import type { Percentiles } from './latency-stats.js';

export function progressLine(s: BenchSnapshot): string {
  const seconds = (s.elapsedMs / 1000).toFixed(1);
  const latency = s.latency.count > 0 ? ` | latency p50 ${s.latency.p50} ms p99 ${s.latency.p99} ms` : '';
  return `[${seconds}s ${s.phase}] connections ${s.opened}/${s.requested} joined ${s.joined} failed ${s.failed}` +
    (s.dropped > 0 ? ` dropped ${s.dropped}` : '') +
    ` | published ${s.published}${s.publishFailed > 0 ? ` (failed ${s.publishFailed})` : ''} | delivered ${s.deliveries}${latency}`;
}

export function summaryTable(r: BenchResult): string {
  const byCode = (counts: Record<string, number>): string => {
    const entries = Object.entries(counts);
    return entries.length === 0 ? '' : ` (${entries.map(([code, n]) => `${code} ${n}`).join(', ')})`;
  };
  const pct = (p: Percentiles): string => (p.count === 0 ? '-' : `p50 ${p.p50} ms   p95 ${p.p95} ms   p99 ${p.p99} ms   max ${p.max} ms`);
  const rows: Array<[string, string]> = [
    ['server', `${r.url}  room ${r.room}  publisher ${r.publisher}  ${(r.durationMs / 1000).toFixed(1)} s`],
    ['connections', `opened ${r.connections.opened}/${r.connections.requested}   joined ${r.connections.joined}   failed ${r.connections.failed}${byCode(r.connections.failedByCode)}   dropped ${r.connections.dropped}`],
    ['connect time', pct(r.connectMs)],
    ['messages', `published ${r.messages.published}   failed ${r.messages.failed}${byCode(r.messages.failedByCode)}`],
    ['deliveries', `${r.deliveries.count}${r.deliveries.expected !== null ? ` of ${r.deliveries.expected} expected` : ''}   ${r.deliveries.perSecond}/s   ${r.deliveries.perMessage} per message`],
    ['latency', pct(r.latencyMs)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}
