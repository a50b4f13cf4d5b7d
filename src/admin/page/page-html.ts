/** What the page needs to know of the server, written into it as JSON. */
export interface PageConfig {
  /** The admin namespace. */
  namespace: string;
  /** The server's WebSocket path. */
  endpoint: string;
  /** Where the browser client is imported from; null when the server does not serve it and no clientUrl was given. */
  clientUrl: string | null;
  /** Where the page's script and stylesheet are (the dashboard's path). */
  base: string;
}

/** The dashboard page: the markup only; the script fills it in once connected. */
export function pageHtml(config: PageConfig): string {
  // JSON inside <script>: "<" escaped, so no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  const base = escapeAttribute(config.base);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Switchboard admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/dashboard.css">
<script type="application/json" id="admin-config">${json}</script>
<script type="module" src="${base}/dashboard.js"></script>
</head>
<body>
<header>
  <h1><span>Switchboard</span> admin</h1>
  <span id="status" class="pill">not connected</span>
  <span id="where" class="where"></span>
  <span class="spacer"></span>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<section id="login" class="panel">
  <h2>Admin token</h2>
  <form id="login-form">
    <p>Enter the admin token this server was started with. It is sent in the connection's handshake and kept in this tab only.</p>
    <input id="token" type="password" autocomplete="current-password" placeholder="admin token" required minlength="1" aria-label="admin token">
    <button type="submit">Connect</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>
<main id="dashboard" hidden>
  <div id="problems" class="problems" hidden></div>
  <section class="panel span-3"><h2>Connections</h2><div id="connections-total" class="big">–</div><div id="connections-by-transport" class="chips"></div></section>
  <section class="panel span-3"><h2>Sessions</h2><div id="sessions-connected" class="big">–</div><div id="sessions-waiting" class="sub"></div></section>
  <section class="panel span-3"><h2>Rooms</h2><div id="rooms-total" class="big">–</div><div class="sub">with a member (user rooms too)</div></section>
  <section class="panel span-3"><h2>Nodes</h2><div id="nodes-total" class="big">–</div><div id="uptime" class="sub"></div></section>
  <section class="panel span-4 chart" id="chart-messages"></section>
  <section class="panel span-4 chart" id="chart-deliveries"></section>
  <section class="panel span-4 chart" id="chart-bytes"></section>
  <section class="panel span-6"><h2>Busiest rooms</h2><table><thead><tr><th>Room</th><th>Namespace</th><th class="num">Members</th><th class="bar-cell"></th></tr></thead><tbody id="room-list"></tbody></table></section>
  <section class="panel span-6"><h2>Recent refusals</h2><table><thead><tr><th>When</th><th>Code</th><th>Transport</th><th>Address</th><th>Origin / namespace</th></tr></thead><tbody id="refusal-list"></tbody></table></section>
  <section class="panel span-12"><h2>Nodes</h2><table><thead><tr><th>Node</th><th class="num">Connections</th><th class="num">Sessions</th><th class="num">Rooms</th><th class="num">Msgs in/s</th><th class="num">Msgs out/s</th><th class="num">Bus lag</th></tr></thead><tbody id="node-list"></tbody></table></section>
  <section class="panel span-12"><h2>Sessions <span id="sessions-shown"></span></h2><table><thead><tr><th>Session</th><th>User</th><th>Namespace</th><th>Rooms</th><th>Node</th><th></th></tr></thead><tbody id="session-list"></tbody></table></section>
</main>
<div id="notice" class="notice" role="status" hidden></div>
</body>
</html>
`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
