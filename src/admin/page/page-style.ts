/** The dashboard's stylesheet, served at `{path}/dashboard.css`: self-contained, no web fonts (the page works offline). */
export const PAGE_STYLE = String.raw`
:root {
  color-scheme: dark;
  --bg: #0f1420; --panel: #171e2e; --line: #273149; --text: #e6ebf5; --muted: #8a96b0;
  --accent: #4cc2ff; --accent2: #b68cff; --good: #3ddc97; --warn: #ffb547; --bad: #ff5d73;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header { display: flex; align-items: center; gap: 12px; padding: 14px 24px; border-bottom: 1px solid var(--line); background: #121929; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; letter-spacing: .2px; }
header h1 span { color: var(--accent); }
header .spacer { flex: 1; }
header .where { color: var(--muted); font-size: 12px; }
.pill { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; padding: 3px 10px; border-radius: 999px; background: #1f2840; color: var(--muted); }
.pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
.pill.connected { color: var(--good); } .pill.connected::before { background: var(--good); }
.pill.connecting { color: var(--warn); } .pill.connecting::before { background: var(--warn); }
.pill.disconnected { color: var(--bad); } .pill.disconnected::before { background: var(--bad); }
button { font: inherit; color: var(--text); background: #24304a; border: 1px solid #34425f; border-radius: 6px; padding: 5px 12px; cursor: pointer; }
button:hover { background: #2d3b5a; }
button.danger { border-color: #7a2f3d; background: #3a1f29; color: #ffc2cb; }
button.danger:hover { background: #52242f; }
button:disabled { opacity: .5; cursor: default; }
main { padding: 20px 24px 40px; display: grid; gap: 16px; grid-template-columns: repeat(12, 1fr); align-items: start; max-width: 1500px; margin: 0 auto; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
.panel h2 { margin: 0 0 10px; font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); font-weight: 600; }
.span-3 { grid-column: span 3; } .span-4 { grid-column: span 4; } .span-6 { grid-column: span 6; } .span-12 { grid-column: span 12; }
@media (max-width: 1000px) { .span-3, .span-4, .span-6 { grid-column: span 12; } }
.big { font-size: 34px; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.1; }
.sub { color: var(--muted); font-size: 12px; margin-top: 4px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 10px; }
.chip { font-size: 12px; background: #1f2840; border-radius: 6px; padding: 2px 8px; color: var(--muted); }
.chip b { color: var(--text); font-weight: 600; margin-left: 4px; }
.chart { display: flex; flex-direction: column; gap: 6px; }
.chart .legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); }
.chart .legend i { display: inline-block; width: 10px; height: 3px; border-radius: 2px; margin-right: 5px; vertical-align: middle; }
.chart .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.chart .value small { font-size: 13px; font-weight: 500; color: var(--muted); }
.chart .value .sep { color: var(--muted); font-weight: 400; }
.chart canvas { width: 100%; height: 90px; display: block; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 500; font-size: 12px; padding: 4px 8px; border-bottom: 1px solid var(--line); }
td { padding: 6px 8px; border-bottom: 1px solid #1f2840; font-variant-numeric: tabular-nums; overflow-wrap: break-word; }
td code, td button { white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; color: #c9d4ec; }
th.bar-cell { width: 35%; }
.bar { height: 6px; border-radius: 3px; background: linear-gradient(90deg, var(--accent), var(--accent2)); min-width: 2px; }
.empty { color: var(--muted); font-style: italic; padding: 6px 8px; }
.code-tag { color: var(--bad); font: 12px ui-monospace, monospace; }
.problems { grid-column: span 12; background: #3a2a12; border: 1px solid #6b4b16; color: #ffd9a0; border-radius: 8px; padding: 8px 12px; font-size: 13px; }
.notice { position: fixed; bottom: 18px; right: 18px; background: #24304a; border: 1px solid #34425f; border-radius: 8px; padding: 10px 14px; box-shadow: 0 6px 24px #0008; }
#login { max-width: 420px; margin: 12vh auto; }
#login form { display: flex; flex-direction: column; gap: 10px; }
#login input { font: inherit; padding: 8px 10px; border-radius: 6px; border: 1px solid #34425f; background: #0f1420; color: var(--text); }
#login p { color: var(--muted); margin: 0; }
.error { color: var(--bad); }
[hidden] { display: none !important; }
`;
