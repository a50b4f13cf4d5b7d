/**
 * The handshake step: `hello` → `welcome` on the upgraded connection, as the SDK opens a
 * session. It reports the session's heartbeat and limits (the idle step needs the
 * heartbeat), then closes with 1000 so the server ends the session at once.
 */
import { PROTOCOL_VERSION } from '../../protocol/constants.js';
import { StepName, fail, pass, warn, type StepResult } from './step-result.js';
import { isEnd, type LinkEnd, type ServerJson, type WsLink } from './ws-link.js';

/** The heartbeat a `welcome` announces, in ms. */
export interface Heartbeat {
  interval: number;
  timeout: number;
}

export interface HandshakeOutcome {
  result: StepResult;
  heartbeat?: Heartbeat;
}

/** Send `hello` and wait for `welcome` (or the error and close the server answers instead). */
/** `auth`: the hello's auth payload (`--auth`), for servers whose middleware wants credentials. */
export async function openSession(link: WsLink, timeoutMs: number, auth?: unknown): Promise<{ welcome: ServerJson } | { error: ServerJson | undefined; end: LinkEnd | undefined } | { silent: true }> {
  link.send(auth === undefined ? { type: 'hello', v: PROTOCOL_VERSION } : { type: 'hello', v: PROTOCOL_VERSION, auth });
  let error: ServerJson | undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const next = await link.next(deadline - Date.now());
    if (next === undefined) return error ? { error, end: undefined } : { silent: true };
    if (isEnd(next)) return { error, end: next };
    if (next.type === 'welcome') return { welcome: next };
    if (next.type === 'error') error = next;
  }
}

export async function checkHandshake(link: WsLink, timeoutMs: number, auth?: unknown): Promise<HandshakeOutcome> {
  const answer = await openSession(link, timeoutMs, auth);
  link.close(1000);
  if ('silent' in answer) {
    return { result: fail(StepName.Handshake, `no welcome within ${timeoutMs} ms of hello`, 'the server accepted the WebSocket but does not answer: check its logs, and that the endpoint is Switchboard') };
  }
  if ('error' in answer) {
    const { error, end } = answer;
    const code = typeof error?.code === 'string' ? error.code : undefined;
    const closed = end ? `, close ${end.code}${end.reason ? ` "${end.reason}"` : ''}` : '';
    const what = `hello answered with ${code ? `error ${code}: ${String(error?.message ?? '')}` : 'no welcome'}${closed}`;
    if (code === 'server_full') return { result: fail(StepName.Handshake, what, 'the server is at maxConnections: add capacity (a node) or raise the limit') };
    if (code === 'unsupported_version') return { result: fail(StepName.Handshake, what, 'upgrade the older side: this doctor speaks protocol version 1') };
    if (code) return { result: warn(StepName.Handshake, `${what} — the path works up to the app, which refuses a hello without credentials`, auth === undefined ? 'nothing to fix in the network; the app\'s middleware wants auth in hello: give it with --auth \'{"token":"…"}\'' : 'nothing to fix in the network; the app refused the --auth given') };
    return { result: fail(StepName.Handshake, what, 'the connection was closed before the session started: see the server\'s logs') };
  }
  const { welcome } = answer;
  const heartbeat = welcome.heartbeat as Heartbeat | undefined;
  const limits = (welcome.limits ?? {}) as Record<string, unknown>;
  const facts = [
    `session ${String(welcome.sid)}`,
    heartbeat ? `heartbeat every ${seconds(heartbeat.interval)} (timeout ${seconds(heartbeat.timeout)})` : 'no heartbeat announced',
    typeof limits.maxMessageBytes === 'number' ? `max message ${limits.maxMessageBytes} bytes` : undefined,
  ].filter((fact) => fact !== undefined);
  return { result: pass(StepName.Handshake, `welcome: ${facts.join(', ')}`), ...(heartbeat ? { heartbeat } : {}) };
}

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
