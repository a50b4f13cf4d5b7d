/**
 * The origin step: would a browser page on `--origin` be let in? A refused page's
 * WebSocket is upgraded and then closed with 1008 `origin_not_allowed: …` (PROTOCOL.md),
 * so the doctor opens one with that Origin and says hello. Without `--origin` it sends no
 * Origin header, as Node clients do, and the server does not check it.
 */
import { StepName, fail, pass, skip, warn, type StepResult } from './step-result.js';
import type { Target } from './target.js';
import type { Trust } from './trust.js';
import { openSession } from './handshake-step.js';
import { requestUpgrade } from './upgrade-request.js';
import { WsLink } from './ws-link.js';

export async function checkOrigin(target: Target, origin: string | undefined, timeoutMs: number, trust: Trust, auth?: unknown): Promise<StepResult> {
  if (origin === undefined) {
    return skip(StepName.Origin, 'no --origin: sent no Origin header, as a Node client does (a browser page always sends one: --origin https://your.app checks it)');
  }
  const answer = await requestUpgrade(target, { timeoutMs, trust, origin });
  if (answer.kind === 'failed') return fail(StepName.Origin, `the upgrade with Origin ${origin} failed: ${answer.error}`, 'see the upgrade step');
  if (answer.kind === 'refused') {
    return fail(StepName.Origin, `the upgrade with Origin ${origin} got ${answer.status} (${answer.body.trim().slice(0, 120)})`, 'a proxy or the server refuses this origin at the HTTP level: check its access rules');
  }
  const link = new WsLink(answer.socket, answer.head);
  const session = await openSession(link, timeoutMs, auth);
  link.close(1000);
  if ('welcome' in session) return pass(StepName.Origin, `a page on ${origin} is allowed (welcome received)`);
  const end = 'end' in session ? session.end : undefined;
  if (end && end.code === 1008 && end.reason.startsWith('origin_not_allowed')) {
    return fail(
      StepName.Origin,
      `a page on ${origin} is refused: close 1008 "${end.reason}"`,
      `add '${origin}' to the server's allowedOrigins option (behind a proxy of the same site: proxy_set_header Host $host;)`,
    );
  }
  if ('error' in session && session.error) {
    return warn(StepName.Origin, `a page on ${origin} passes the origin check; hello answered with error ${String(session.error.code)}`, 'see the handshake step');
  }
  return fail(StepName.Origin, `a page on ${origin}: ${end ? `closed ${end.code} "${end.reason}"` : 'no welcome'} before the session started`, 'see the server\'s connection_error events for the reason');
}
