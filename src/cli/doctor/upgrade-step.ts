/**
 * The upgrade step: the HTTP answer to a WebSocket upgrade, read the way a proxy mistake
 * shows in it. A 101 must carry the right Sec-WebSocket-Accept and echo `switchboard.v1`;
 * anything else is interpreted: Switchboard's own 426 (the upgrade arrived as a plain GET:
 * a proxy dropped Upgrade/Connection or spoke HTTP/1.0), a wrong path (and whether a
 * Switchboard server is behind it after all), a proxy's 502/504, limits, redirects.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DEFAULT_PATH, SUBPROTOCOL } from '../../protocol/constants.js';
import { StepName, fail, pass, warn, type StepResult } from './step-result.js';
import type { Target } from './target.js';
import { speaksTls } from './tls-check.js';
import { requestUpgrade, type UpgradeAnswer, type UpgradeRequestOptions } from './upgrade-request.js';
import { expectedAccept } from './ws-frames.js';
import { WsLink } from './ws-link.js';

/** The start of the text Switchboard answers a plain GET of its path with (src/server/plain-answers.ts). */
const PLAIN_GET_ANSWER = 'This is a WebSocket endpoint (subprotocol switchboard.v1)';
/** Switchboard's answer to an upgrade on another path (src/server/upgrade-gate.ts): it names the right one. */
const WRONG_PATH_ANSWER = /No WebSocket endpoint at (\S+); Switchboard listens on (\S+?)\.?\s*$/;

/** The line of that answer saying how the request arrived: `This request arrived as HTTP/1.0 ...`. */
const ARRIVED_AS = /^This request arrived as HTTP\/(\d\.\d)\b/m;

const NGINX_HEADERS_FIX = 'in the proxy\'s location for the path: proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; (docs/DEPLOYMENT.md)';
const NGINX_UPGRADE_FIX = 'in the proxy\'s location for the path: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; (docs/DEPLOYMENT.md)';

export interface UpgradeOutcome {
  result: StepResult;
  /** The open WebSocket when the upgrade passed, for the handshake step. */
  link?: WsLink;
  /** Why the fallback steps would only repeat this step's failure (no endpoint at this path, not HTTP), if so. */
  skipFallback?: string;
}

export async function checkUpgrade(target: Target, options: UpgradeRequestOptions): Promise<UpgradeOutcome> {
  const answer = await requestUpgrade(target, options);
  if (answer.kind === 'upgraded') return judgeUpgraded(answer);
  if (answer.kind === 'failed') {
    if (!target.secure && answer.code !== 'timeout' && (await speaksTls(target, options.timeoutMs))) {
      const wss = new URL(target.url.href);
      wss.protocol = 'wss:';
      return { result: fail(StepName.Upgrade, `no HTTP answer (${answer.error}): the port speaks TLS`, `connect to ${wss.href}`), skipFallback: 'not run: the port speaks TLS (see upgrade)' };
    }
    return { result: fail(StepName.Upgrade, `the upgrade request failed: ${answer.error}`, 'see the tcp and tls steps; a proxy may reset WebSocket requests') };
  }
  const result = await judgeRefused(target, options, answer);
  return { result, ...(answer.status === 404 ? { skipFallback: 'not run: no Switchboard endpoint at this path (see upgrade)' } : {}) };
}

function judgeUpgraded(answer: Extract<UpgradeAnswer, { kind: 'upgraded' }>): UpgradeOutcome {
  const { headers } = answer;
  const accept = headers['sec-websocket-accept'];
  const protocol = headers['sec-websocket-protocol'];
  const drop = (result: StepResult): UpgradeOutcome => {
    answer.socket.destroy();
    return { result };
  };
  if (answer.status !== 101) return drop(fail(StepName.Upgrade, `upgraded with status ${answer.status}, not 101`, 'something between the client and the server rewrites the upgrade: route the path straight to Switchboard'));
  if (accept !== expectedAccept(answer.key)) {
    return drop(fail(StepName.Upgrade, `101 with a wrong Sec-WebSocket-Accept (${accept ?? 'missing'}): clients refuse this handshake`, 'something in between answers the upgrade itself or rewrites headers: route the path straight to Switchboard'));
  }
  if (protocol !== SUBPROTOCOL) {
    return drop(
      fail(
        StepName.Upgrade,
        `101, but the subprotocol ${SUBPROTOCOL} was not echoed (Sec-WebSocket-Protocol: ${protocol ?? 'none'}): a browser closes this WebSocket at once — not a Switchboard endpoint`,
        'point the URL at the Switchboard path (the `path` server option, default /ws); a proxy must pass Sec-WebSocket-Protocol through',
      ),
    );
  }
  return { result: pass(StepName.Upgrade, `101 Switching Protocols, Sec-WebSocket-Accept correct, subprotocol ${SUBPROTOCOL}${via(headers)}`), link: new WsLink(answer.socket, answer.head) };
}

async function judgeRefused(target: Target, options: UpgradeRequestOptions, answer: Extract<UpgradeAnswer, { kind: 'refused' }>): Promise<StepResult> {
  const { status, body, headers } = answer;
  const said = `${status} ${answer.statusText}`.trim();
  const text = firstLine(body);
  if (status === 426 && body.startsWith(PLAIN_GET_ANSWER)) {
    const proxy = proxyName(headers) ?? 'a proxy';
    // Switchboard's answer says how the request arrived (src/server/plain-answers.ts): HTTP/1.0 is nginx's default to upstreams.
    const version = ARRIVED_AS.exec(body)?.[1];
    const mistake = version === '1.0' ? `speaks HTTP/1.0 to it (nginx's default) and drops the Upgrade/Connection headers` : version ? `drops the Upgrade/Connection headers (it arrived as HTTP/${version})` : 'drops the Upgrade/Connection headers or speaks HTTP/1.0 to it';
    return fail(StepName.Upgrade, `${said} from Switchboard: the upgrade reached it as a plain GET — ${proxy} in between ${mistake}`, version === '1.0' || !version ? NGINX_UPGRADE_FIX : NGINX_HEADERS_FIX);
  }
  const wrongPath = WRONG_PATH_ANSWER.exec(text);
  if (status === 404 && wrongPath) {
    return fail(StepName.Upgrade, `404 from Switchboard: no endpoint at ${target.path}, it listens on ${wrongPath[2]}`, `connect to ${withPath(target, wrongPath[2] ?? DEFAULT_PATH)} (or --path ${wrongPath[2]})`);
  }
  if (status === 404) {
    const elsewhere = target.path !== DEFAULT_PATH ? await switchboardAt(target, options, DEFAULT_PATH) : false;
    if (elsewhere) {
      return fail(StepName.Upgrade, `404 at ${target.path} (${quote(text)}), but a Switchboard endpoint answers at ${DEFAULT_PATH}: the wrong path`, `connect to ${withPath(target, DEFAULT_PATH)}, or route ${target.path} to Switchboard in the proxy`);
    }
    return fail(
      StepName.Upgrade,
      `404 at ${target.path} (${quote(text)})${proxyName(headers) ? ` from ${proxyName(headers)}` : ''}: no Switchboard endpoint here`,
      `use the path Switchboard listens on (its \`path\` option, default ${DEFAULT_PATH}) and route that path to it in the proxy`,
    );
  }
  if (status === 426) return fail(StepName.Upgrade, `${said} (${quote(text)}), not Switchboard's answer: the upgrade was lost on the way`, NGINX_UPGRADE_FIX);
  if (status === 400) {
    return fail(StepName.Upgrade, `400 Bad Request (${quote(text)}): the upgrade arrived incomplete — a proxy that drops the Upgrade/Connection headers, or not a WebSocket endpoint`, NGINX_UPGRADE_FIX);
  }
  if (status === 502 || status === 504) {
    return fail(StepName.Upgrade, `${said} from ${proxyName(headers) ?? 'a proxy'}: it cannot reach the server behind it`, 'start the Switchboard server, or fix the proxy\'s upstream address and port (nginx: proxy_pass)');
  }
  if (status === 503) return fail(StepName.Upgrade, `503 (${quote(text)}): the server is shutting down or unavailable`, 'retry after the restart; with several nodes, check that the others are up');
  if (status === 429) return warn(StepName.Upgrade, `429 (${quote(text)}), Retry-After ${headers['retry-after'] ?? '?'}: this address is over the server's limits`, 'wait and retry; behind a proxy set trustProxy so clients are not all counted as the proxy\'s address');
  if (status === 403) return fail(StepName.Upgrade, `403 (${quote(text)})`, 'the server refuses WebSocket here: check its `transports` option, or the proxy\'s access rules');
  if (status >= 300 && status < 400) {
    return fail(StepName.Upgrade, `${said} to ${headers.location ?? '(no Location)'}: WebSocket clients do not follow redirects`, `connect to the final URL directly${headers.location?.startsWith('https:') ? ' (wss://)' : ''}`);
  }
  if (status === 200) return fail(StepName.Upgrade, `200 OK with a page (${quote(text)}): an app or static server answered, not a WebSocket endpoint`, `use the path Switchboard listens on (default ${DEFAULT_PATH}), and route it to Switchboard with the upgrade headers`);
  return fail(StepName.Upgrade, `${said} (${quote(text)})`, 'the server or a proxy refused the upgrade: see its logs');
}

/** Whether a Switchboard endpoint answers an upgrade at `path` on the same host. */
async function switchboardAt(target: Target, options: UpgradeRequestOptions, path: string): Promise<boolean> {
  const probe = await requestUpgrade(target, { ...options, path });
  if (probe.kind === 'upgraded') {
    probe.socket.destroy();
    return probe.headers['sec-websocket-protocol'] === SUBPROTOCOL;
  }
  return probe.kind === 'refused' && probe.status === 426 && probe.body.startsWith(PLAIN_GET_ANSWER);
}

function withPath(target: Target, path: string): string {
  const url = new URL(target.url.href);
  url.pathname = path;
  return url.href;
}

/** The proxy or server software that answered, from the Server header (Node sends none; nginx does). */
function proxyName(headers: IncomingHttpHeaders): string | undefined {
  const server = headers.server;
  return typeof server === 'string' && server !== '' ? server.split(' ')[0] : undefined;
}

function via(headers: IncomingHttpHeaders): string {
  const name = proxyName(headers);
  return name ? ` (through ${name})` : '';
}

function firstLine(body: string): string {
  return body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160);
}

function quote(text: string): string {
  return text === '' ? 'empty body' : `"${text}"`;
}
