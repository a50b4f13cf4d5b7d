/**
 * The idle step (`--idle 75s`): does a connection with no application traffic survive that
 * long? The doctor opens a session and then behaves like an idle SDK client: it sends
 * nothing of its own and answers the server's heartbeat pings. So the only bytes on the
 * wire are the heartbeat's — exactly what a real idle client has. A proxy whose read
 * timeout is shorter than the server's heartbeat interval cuts it (the server is silent
 * for longer than the proxy waits); one that the heartbeat keeps awake does not, and then
 * real clients are not cut either.
 */
import { StepName, fail, pass, skip, warn, type StepResult } from './step-result.js';
import type { Target } from './target.js';
import type { Trust } from './trust.js';
import { openSession, seconds, type Heartbeat } from './handshake-step.js';
import { requestUpgrade } from './upgrade-request.js';
import { WsLink } from './ws-link.js';

/**
 * The longest silence of a server between heartbeat pings: its interval plus the sweep
 * delay of the heartbeat check, max(5, min(interval, timeout) / 4) (docs/API.md).
 */
export function longestSilence(heartbeat: Heartbeat): number {
  return heartbeat.interval + Math.max(5, Math.floor(Math.min(heartbeat.interval, heartbeat.timeout) / 4));
}

export async function checkIdle(target: Target, idleMs: number | undefined, timeoutMs: number, trust: Trust, auth?: unknown): Promise<StepResult> {
  if (idleMs === undefined) return skip(StepName.Idle, 'not run: --idle 75s checks that a connection idle for 75 s is not cut (by a proxy timeout)');
  const answer = await requestUpgrade(target, { timeoutMs, trust });
  if (answer.kind !== 'upgraded') return fail(StepName.Idle, 'could not open a WebSocket to watch', 'see the upgrade step');
  const link = new WsLink(answer.socket, answer.head);
  const session = await openSession(link, timeoutMs, auth);
  if (!('welcome' in session)) {
    link.close(1000);
    return fail(StepName.Idle, 'no session to watch (no welcome)', 'see the handshake step');
  }
  const heartbeat = session.welcome.heartbeat as Heartbeat | undefined;
  const opened = Date.now();
  const end = await link.endWithin(idleMs);
  link.close(1000);
  const every = heartbeat ? `the server pings every ${seconds(heartbeat.interval)}` : 'the server announced no heartbeat';
  if (end) {
    const after = seconds(Math.round((end.at - opened) / 100) * 100);
    const silence = seconds(Math.round((end.at - end.lastServerBytesAt) / 100) * 100);
    const how = end.closeFrame ? `closed ${end.code}${end.reason ? ` "${end.reason}"` : ''}` : 'cut without a close frame (1006)';
    return fail(
      StepName.Idle,
      `the idle connection was ${how} after ${after}, ${silence} after the last bytes from the server; ${every}`,
      heartbeat
        ? `raise the proxy's read timeout (nginx proxy_read_timeout) above ${seconds(longestSilence(heartbeat))}, or lower the server's heartbeat.interval below the proxy's timeout`
        : 'raise the proxy\'s read timeout (nginx proxy_read_timeout)',
    );
  }
  const found = `open for ${seconds(idleMs)} with no app traffic, answering ${link.pingsAnswered} heartbeat ping(s); ${every}`;
  if (heartbeat && idleMs < longestSilence(heartbeat)) {
    return warn(
      StepName.Idle,
      `${found}: shorter than the longest silence between pings (${seconds(longestSilence(heartbeat))}), so a proxy timeout between the two would not show`,
      `run with --idle ${Math.ceil(longestSilence(heartbeat) / 1000) + 5}s to watch a whole heartbeat cycle`,
    );
  }
  return pass(StepName.Idle, found);
}
