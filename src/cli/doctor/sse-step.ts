/**
 * The SSE step: `GET {path}/sse` must deliver its first event (`open`) at once. A proxy
 * that buffers the stream holds it back — the client sees a 200 and then nothing — so
 * the doctor times the first event against a bound (`--sse-wait`, 3 s by default). It
 * asks for gzip as a browser does: compression is what makes nginx hold events.
 */
import type { Readable } from 'node:stream';
import { constants, createGunzip } from 'node:zlib';
import { closeHttpConnection, httpCall, readBody } from './http-call.js';
import { judgeHttpRefusal } from './http-answers.js';
import { StepName, fail, pass, type StepResult } from './step-result.js';
import { httpUrl, type Target } from './target.js';
import type { Trust } from './trust.js';

const BUFFERED_FIX =
  'the proxy buffers the event stream: let the X-Accel-Buffering header through (no proxy_ignore_headers X-Accel-Buffering), leave text/event-stream out of gzip_types, or proxy_buffering off; in location /ws';

export async function checkSse(target: Target, waitMs: number, trust: Trust): Promise<StepResult> {
  const url = httpUrl(target, 'sse');
  const abort = new AbortController();
  const started = Date.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, waitMs);
  let answered = false;
  try {
    const res = await httpCall(url, { trust, headers: { Accept: 'text/event-stream', 'Accept-Encoding': 'gzip' } }, abort.signal);
    answered = true;
    if (res.statusCode !== 200) {
      clearTimeout(timer);
      return judgeHttpRefusal(StepName.Sse, url, res, await readBody(res));
    }
    const gzip = res.headers['content-encoding'] === 'gzip';
    // Each flush of the proxy's compressor yields what it holds: read it as it comes.
    const stream: Readable = gzip ? res.pipe(createGunzip({ finishFlush: constants.Z_SYNC_FLUSH })) : res;
    abort.signal.addEventListener('abort', () => stream.destroy(new Error('aborted')), { once: true });
    const event = await firstEvent(stream);
    const elapsed = Date.now() - started;
    abort.abort();
    if (event === undefined) return fail(StepName.Sse, `${url.pathname}: the stream ended before its first event`, BUFFERED_FIX);
    const cid = /^data: *(\{.*\})$/m.exec(event)?.[1];
    if (cid) {
      const id = (JSON.parse(cid) as { cid?: string }).cid;
      if (id) await closeHttpConnection(httpUrl(target, 'close', id), trust, waitMs);
    }
    return pass(StepName.Sse, `${url.pathname}: first event after ${elapsed} ms${gzip ? ' (gzip, flushed per event)' : ''}`);
  } catch (error) {
    if (timedOut) {
      return fail(
        StepName.Sse,
        `${url.pathname}: ${answered ? '200, but' : 'no answer and'} no event within ${waitMs} ms — the stream is held back (SSE clients fall back to long-polling after their connectTimeout)`,
        BUFFERED_FIX,
      );
    }
    return fail(StepName.Sse, `${url.pathname} failed: ${(error as Error).message}`, 'see the tcp and tls steps');
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** The text of the first complete event (up to its blank line), or undefined if the stream ends first. */
async function firstEvent(stream: Readable): Promise<string | undefined> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) {
    text += (chunk as string).replace(/\r\n/g, '\n');
    const end = text.indexOf('\n\n');
    if (end !== -1) return text.slice(0, end);
  }
  return undefined;
}
