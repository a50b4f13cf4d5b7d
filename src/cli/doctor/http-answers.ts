/** What an unexpected answer from a fallback endpoint means, shared by the polling and SSE steps. */
import type { IncomingMessage } from 'node:http';
import { fail, skip, type StepName, type StepResult } from './step-result.js';

export function judgeHttpRefusal(step: StepName, url: URL, res: IncomingMessage, body: string): StepResult {
  const status = res.statusCode ?? 0;
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { code?: string }).code;
  } catch {
    // not Switchboard's JSON
  }
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120);
  const where = url.pathname;
  if (code === 'transport_disabled') return skip(step, `the server does not offer this transport (${text})`);
  if (status === 404) {
    return fail(step, `404 at ${where}${res.headers.server ? ` from ${res.headers.server}` : ''}: the fallback is not routed to Switchboard`, `route the whole path prefix to Switchboard (nginx: location ${where.replace(/\/[^/]*$/, '')} { … }, a prefix, not location = …)`);
  }
  if (status === 502 || status === 504) return fail(step, `${status} from ${res.headers.server ?? 'a proxy'} at ${where}: it cannot reach the server`, 'fix the proxy\'s upstream (nginx: proxy_pass)');
  if (status === 403 && code) return fail(step, `403 ${code} at ${where}`, 'see docs/ERRORS.md for this code');
  return fail(step, `${status} ${res.statusMessage ?? ''} at ${where} (${text || 'empty body'})`, 'the server or a proxy refuses the fallback: see its logs');
}
