import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';
import type { ServerName } from './load/dialects.js';
import { count, type BenchResults } from './report.js';

const CHROMIUM = '/usr/bin/chromium';
const COLORS: Record<ServerName, string> = {
  switchboard: '#d62728',
  'switchboard-noresume': '#ff9896',
  'ws-naive': '#7f7f7f',
  'ws-coalesced': '#1f77b4',
  'socket.io': '#2ca02c',
  'switchboard-socketio': '#9467bd',
};
const LABELS: Record<ServerName, string> = {
  switchboard: 'Switchboard',
  'switchboard-noresume': 'Switchboard, resume: false',
  'ws-naive': 'ws, naive send loop',
  'ws-coalesced': 'ws, framed once + coalesced writes',
  'socket.io': 'Socket.IO 4.8 (WebSocket)',
  'switchboard-socketio': 'Socket.IO client on Switchboard',
};

const W = 520;
const H = 380;
const M = { left: 70, right: 36, top: 36, bottom: 48 };

/** Deliveries per second against subscriber count, one panel per burst size, as SVG. */
export function fanoutSvg(r: BenchResults): string {
  const perTurns = [...new Set(r.fanout.map((x) => x.perTurn))].sort((a, b) => a - b);
  const subs = [...new Set(r.fanout.map((x) => x.subscribers))].sort((a, b) => a - b);
  const yMax = niceCeil(Math.max(...r.fanout.map((x) => x.deliveriesPerSec.max)) * 1.05);
  const lo = Math.log10(subs[0] as number);
  const hi = Math.log10(subs[subs.length - 1] as number);
  const span = hi - lo || 1;
  const x = (n: number): number => M.left + (subs.length === 1 ? 0.5 : (Math.log10(n) - lo) / span) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const panels = perTurns.map((perTurn, p) => {
    const parts: string[] = [];
    for (let k = 0; k <= 5; k++) {
      const v = (yMax * k) / 5;
      parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end" class="tick">${count(v)}</text>`);
    }
    for (const n of subs) parts.push(`<text x="${x(n)}" y="${H - M.bottom + 18}" text-anchor="middle" class="tick">${n.toLocaleString('en')}</text>`);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
    parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
    parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle" class="axis">subscribers in the room (log scale)</text>`);
    parts.push(`<text x="${M.left}" y="${M.top - 14}" class="title">${perTurn} message${perTurn === 1 ? '' : 's'} per event-loop turn</text>`);
    for (const server of Object.keys(COLORS) as ServerName[]) {
      const points = r.fanout.filter((f) => f.server === server && f.perTurn === perTurn).sort((a, b) => a.subscribers - b.subscribers);
      if (!points.length) continue;
      const c = COLORS[server];
      parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2.5" points="${points.map((f) => `${x(f.subscribers)},${y(f.deliveriesPerSec.median)}`).join(' ')}"/>`);
      for (const f of points) {
        const px = x(f.subscribers);
        parts.push(`<line x1="${px}" x2="${px}" y1="${y(f.deliveriesPerSec.min)}" y2="${y(f.deliveriesPerSec.max)}" stroke="${c}" stroke-width="1.5"/>`);
        parts.push(`<circle cx="${px}" cy="${y(f.deliveriesPerSec.median)}" r="4" fill="${c}"/>`);
      }
    }
    return `<g transform="translate(${p * W},0)">${parts.join('')}</g>`;
  });
  const legend = (Object.keys(COLORS) as ServerName[])
    .filter((s) => r.fanout.some((f) => f.server === s))
    .map((s, i) => `<g transform="translate(${M.left + i * 260},${H + 8})"><rect width="14" height="14" fill="${COLORS[s]}"/><text x="20" y="12" class="legend">${LABELS[s]}</text></g>`)
    .join('');
  const width = W * perTurns.length;
  const m = r.meta;
  const caption =
    `Deliveries/s, median of ${r.plan.fanout.runs} runs (bars: min–max) · ${m.date.slice(0, 10)} · commit ${m.commit.slice(0, 10)}` +
    `${m.uncommitted.length ? ' + uncommitted changes' : ''} · Node ${m.node} · server and load generator on separate cores`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 56}" viewBox="0 0 ${width} ${H + 56}">
<style>text{font-family:'DejaVu Sans',Arial,sans-serif;fill:#222}.tick{font-size:11px}.axis{font-size:12px}.title{font-size:14px;font-weight:bold}.legend{font-size:12px}.caption{font-size:11px;fill:#555}</style>
<rect width="100%" height="100%" fill="#fff"/>${panels.join('')}${legend}
<text x="${M.left}" y="${H + 46}" class="caption">${escapeXml(caption)}</text></svg>`;
}

/** Render the SVG in headless Chromium (the Debian package) and save a PNG screenshot. */
export async function renderFanoutPlot(r: BenchResults, pngPath: string): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`the plot needs Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${fanoutSvg(r)}</body></html>`);
    mkdirSync(dirname(pngPath), { recursive: true });
    await page.locator('svg').screenshot({ path: pngPath });
  } finally {
    await browser.close();
  }
}

function niceCeil(v: number): number {
  const step = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
