/**
 * The dashboard's browser script, served at `{path}/dashboard.js` as a module. Plain
 * JavaScript with no build step: it imports Switchboard's own browser client, connects to
 * the admin namespace with the token in the handshake's auth, and draws each snapshot.
 * Everything that comes from clients (user names, rooms, origins) is put in the page as
 * text, never as markup.
 */
export const PAGE_SCRIPT = String.raw`
const config = JSON.parse(document.getElementById('admin-config').textContent);
const TOKEN_KEY = 'switchboard.admin.token';
/** Points kept per chart: two minutes at the default interval. */
const HISTORY = 120;
const $ = (id) => document.getElementById(id);

let client;
const history = { messagesIn: [], messagesOut: [], deliveries: [], bytesIn: [], bytesOut: [] };
/** When each point of history was read (ms), to say what span the charts cover. */
const historyAt = [];

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren(...(rows.length ? rows : [el('tr', null, el('td', { class: 'empty', colspan: String(columns) }, emptyText))]));
}

const count = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
function rate(value) {
  if (value === undefined || value === null) return '–';
  if (value >= 1e6) return (value / 1e6).toFixed(1) + 'M';
  if (value >= 1e4) return (value / 1e3).toFixed(1) + 'k';
  return value >= 100 ? count.format(value) : value.toFixed(value >= 10 ? 0 : 1);
}
function bytes(value) {
  if (value === undefined || value === null) return '–';
  const units = ['B', 'KB', 'MB', 'GB'];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return (unit === 0 ? value.toFixed(0) : value.toFixed(1)) + ' ' + units[unit];
}
function duration(seconds) {
  if (seconds < 60) return Math.floor(seconds) + ' s';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min';
  if (seconds < 86400) return (seconds / 3600).toFixed(1) + ' h';
  return (seconds / 86400).toFixed(1) + ' d';
}
function sumValues(record) {
  let total = 0;
  for (const value of Object.values(record)) total += value;
  return total;
}

// --- charts: a moving line per series on a canvas, newest point on the right -------------

const charts = {
  messages: { title: 'Messages / s', series: [['messagesIn', 'in', '#4cc2ff'], ['messagesOut', 'out', '#b68cff']], format: rate },
  deliveries: { title: 'Broadcast deliveries / s', series: [['deliveries', 'deliveries', '#3ddc97']], format: rate },
  bytes: { title: 'Bandwidth / s', series: [['bytesIn', 'in', '#4cc2ff'], ['bytesOut', 'out', '#b68cff']], format: bytes },
};

function buildCharts() {
  for (const [name, chart] of Object.entries(charts)) {
    const section = $('chart-' + name);
    chart.value = el('span', { class: 'value', id: 'value-' + name }, '–');
    chart.canvas = el('canvas', { 'aria-label': chart.title, role: 'img' });
    const legend = el('div', { class: 'legend' }, ...chart.series.map(([, label, color]) => el('span', null, el('i', { style: 'background:' + color }), label)));
    section.replaceChildren(el('h2', null, chart.title), chart.value, chart.canvas, legend);
  }
}

function drawChart(chart) {
  const canvas = chart.canvas;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (width === 0) return;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  let max = 0;
  for (const [key] of chart.series) for (const v of history[key]) max = Math.max(max, v);
  const top = max > 0 ? max * 1.15 : 1;
  g.strokeStyle = '#273149';
  g.lineWidth = 1;
  for (const f of [0.25, 0.5, 0.75]) { g.beginPath(); g.moveTo(0, height * f); g.lineTo(width, height * f); g.stroke(); }
  g.fillStyle = '#8a96b0';
  g.font = '11px system-ui, sans-serif';
  const span = historyAt.length > 1 ? (historyAt.at(-1) - historyAt[0]) / 1000 : 0;
  g.fillText('max ' + chart.format(max) + (span > 0 ? ' · last ' + duration(span) : ''), 4, 12);
  // Until the window is full the points spread over the whole width (a fresh page is not a sliver on the right); then it scrolls.
  const step = width / (Math.max(historyAt.length, 2) - 1);
  for (const [key, , color] of chart.series) {
    const points = history[key];
    if (points.length < 2) continue;
    const x0 = width - (points.length - 1) * step;
    const y = (v) => height - 2 - (v / top) * (height - 16);
    g.beginPath();
    points.forEach((v, i) => (i === 0 ? g.moveTo(x0, y(v)) : g.lineTo(x0 + i * step, y(v))));
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.lineJoin = 'round';
    g.stroke();
    g.lineTo(width, height);
    g.lineTo(x0, height);
    g.closePath();
    g.globalAlpha = 0.12;
    g.fillStyle = color;
    g.fill();
    g.globalAlpha = 1;
  }
  canvas.dataset.points = String(history[chart.series[0][0]].length);
  const latest = chart.series.map(([key]) => history[key].at(-1));
  // Each value named when there are two ("in 5.0 · out 124"): a bare "5.0 / 124" left the reader guessing.
  const named = chart.series.length > 1;
  chart.value.replaceChildren(...chart.series.flatMap(([key, label], i) => [
    i > 0 ? el('span', { class: 'sep' }, ' · ') : null,
    named ? el('small', null, label + ' ') : null,
    el('span', { 'data-series': key }, latest[i] === undefined ? '–' : chart.format(latest[i])),
  ].filter(Boolean)));
}

// --- a snapshot --------------------------------------------------------------------------

function render(snapshot) {
  const total = snapshot.total;
  $('connections-total').textContent = count.format(sumValues(total.connections));
  $('connections-by-transport').replaceChildren(...Object.entries(total.connections).sort((a, b) => b[1] - a[1]).map(([transport, n]) => el('span', { class: 'chip', 'data-transport': transport }, transport, el('b', null, count.format(n)))));
  $('sessions-connected').textContent = count.format(total.sessions.connected);
  $('sessions-waiting').textContent = count.format(total.sessions.waiting) + ' waiting to be resumed';
  $('rooms-total').textContent = count.format(total.rooms);
  $('nodes-total').textContent = count.format(snapshot.nodes.length);
  const oldest = Math.max(0, ...snapshot.nodes.map((n) => n.uptimeSeconds));
  $('uptime').textContent = 'oldest up ' + duration(oldest);
  $('where').textContent = 'via node ' + snapshot.node;

  const problems = $('problems');
  problems.hidden = snapshot.problems.length === 0;
  problems.textContent = snapshot.problems.join(' · ');

  if (total.rates) {
    for (const key of Object.keys(history)) {
      history[key].push(total.rates[key]);
      if (history[key].length > HISTORY) history[key].shift();
    }
    historyAt.push(snapshot.at);
    if (historyAt.length > HISTORY) historyAt.shift();
  }
  for (const chart of Object.values(charts)) drawChart(chart);

  fill($('node-list'), snapshot.nodes.map((n) => el('tr', { 'data-node': n.id },
    el('td', null, el('code', null, n.id), n.id === snapshot.node ? ' (this one)' : ''),
    el('td', { class: 'num' }, count.format(sumValues(n.connections))),
    el('td', { class: 'num' }, count.format(n.sessions.connected)),
    el('td', { class: 'num' }, count.format(n.rooms)),
    el('td', { class: 'num' }, rate(n.rates && n.rates.messagesIn)),
    el('td', { class: 'num' }, rate(n.rates && n.rates.messagesOut)),
    el('td', { class: 'num' }, (n.busLagSeconds * 1000).toFixed(1) + ' ms'))), 7, 'no nodes');

  const most = Math.max(1, ...snapshot.busiestRooms.map((r) => r.members));
  fill($('room-list'), snapshot.busiestRooms.map((r) => el('tr', { 'data-room': r.room, 'data-ns': r.namespace },
    el('td', null, r.room), el('td', null, el('code', null, r.namespace)),
    el('td', { class: 'num' }, count.format(r.members)),
    el('td', null, el('div', { class: 'bar', style: 'width:' + (100 * r.members / most).toFixed(1) + '%' })))), 4, 'no rooms with members');

  const sessions = snapshot.sessions;
  $('sessions-shown').textContent = sessions.total > sessions.list.length ? '(' + sessions.list.length + ' of ' + sessions.total + ')' : '(' + sessions.total + ')';
  fill($('session-list'), sessions.list.map((s) => el('tr', { 'data-id': s.id, 'data-ns': s.ns },
    el('td', null, el('code', null, s.id)),
    el('td', null, s.user === undefined ? '–' : s.user),
    el('td', null, el('code', null, s.ns)),
    el('td', { title: s.rooms.join(', ') }, s.rooms.length ? s.rooms.slice(0, 3).join(', ') + (s.rooms.length > 3 ? ' +' + (s.rooms.length - 3) : '') : '–'),
    el('td', null, el('code', null, s.node)),
    el('td', { class: 'num' }, el('button', { type: 'button', class: 'danger disconnect', onclick: (event) => disconnectSession(s, event.currentTarget) }, 'Disconnect')))), 6, 'no sessions');

  fill($('refusal-list'), snapshot.recentRefusals.map((r) => el('tr', null,
    el('td', null, new Date(r.at).toLocaleTimeString()),
    el('td', null, el('span', { class: 'code-tag' }, r.code)),
    el('td', null, r.transport),
    el('td', null, el('code', null, r.address)),
    el('td', null, [r.origin, r.namespace].filter(Boolean).join(' · ') || '–'))), 5, 'no refusals');
}

// --- actions -----------------------------------------------------------------------------

let noticeTimer;
function notice(text) {
  const box = $('notice');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

async function disconnectSession(session, button) {
  button.disabled = true;
  try {
    const answer = await client.emitWithAck('disconnectSession', { ns: session.ns, id: session.id });
    notice(answer.found ? 'Disconnected session ' + session.id : 'Session ' + session.id + ' was not found (already gone)');
  } catch (error) {
    notice('Disconnect failed: ' + error.code + ': ' + error.message);
    button.disabled = false;
  }
}

function setStatus(state, text) {
  const status = $('status');
  status.className = 'pill ' + state;
  status.textContent = text || state;
}

function showLogin(message) {
  $('login').hidden = false;
  $('dashboard').hidden = true;
  $('sign-out').hidden = true;
  $('login-error').textContent = message || '';
}

async function start(token) {
  $('login-error').textContent = '';
  if (config.clientUrl === null) {
    showLogin('This server does not serve the Switchboard browser client (serveClient: false). Serve it and pass its URL to adminDashboard as clientUrl.');
    return;
  }
  let sdk;
  try {
    sdk = await import(config.clientUrl);
  } catch (error) {
    showLogin('Could not load the Switchboard browser client from ' + config.clientUrl + ': ' + error.message);
    return;
  }
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + config.endpoint;
  client = sdk.connect(url, { namespace: config.namespace, auth: { token } });
  setStatus('connecting');
  client.on('state', (change) => setStatus(change.state, change.state === 'disconnected' ? 'disconnected (' + change.reason + ')' : change.state));
  client.on('connect', () => {
    $('login').hidden = true;
    $('dashboard').hidden = false;
    $('sign-out').hidden = false;
  });
  client.on('connect_error', (error) => {
    if (error.code !== 'unauthorized') return;
    sessionStorage.removeItem(TOKEN_KEY);
    client.close();
    showLogin('Refused: ' + error.code + ' (' + error.message + ')');
    setStatus('disconnected', 'refused');
  });
  client.on('snapshot', render);
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value;
  $('token').value = '';
  sessionStorage.setItem(TOKEN_KEY, token);
  start(token);
});

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  if (client) client.close();
  setStatus('disconnected', 'signed out');
  showLogin('');
});

window.addEventListener('resize', () => { for (const chart of Object.values(charts)) drawChart(chart); });

buildCharts();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
`;
