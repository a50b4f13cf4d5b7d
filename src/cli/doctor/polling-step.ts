/** The polling step: `GET {path}/poll` opens a long-polling connection (200 with a `cid`). */
import { closeHttpConnection, httpCall, readBody } from './http-call.js';
import { judgeHttpRefusal } from './http-answers.js';
import { StepName, fail, pass, type StepResult } from './step-result.js';
import { httpUrl, type Target } from './target.js';
import type { Trust } from './trust.js';

export async function checkPolling(target: Target, timeoutMs: number, trust: Trust): Promise<StepResult> {
  const url = httpUrl(target, 'poll');
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await httpCall(url, { trust }, abort.signal);
    const body = await readBody(res);
    if (res.statusCode !== 200) return judgeHttpRefusal(StepName.Polling, url, res, body);
    let cid: unknown;
    try {
      cid = (JSON.parse(body) as { cid?: unknown }).cid;
    } catch {
      // judged below
    }
    if (typeof cid !== 'string') {
      return fail(StepName.Polling, `200 at ${url.pathname} but not a Switchboard answer (${body.trim().slice(0, 80)})`, `route ${url.pathname} to Switchboard`);
    }
    await closeHttpConnection(httpUrl(target, 'close', cid), trust, timeoutMs);
    return pass(StepName.Polling, `${url.pathname} opened a long-polling connection`);
  } catch (error) {
    if (abort.signal.aborted) return fail(StepName.Polling, `no answer from ${url.pathname} within ${timeoutMs} ms`, 'a proxy holds the request: check its upstream and timeouts');
    return fail(StepName.Polling, `${url.pathname} failed: ${(error as Error).message}`, 'see the tcp and tls steps');
  } finally {
    clearTimeout(timer);
  }
}
