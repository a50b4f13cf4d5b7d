import type { IncomingMessage } from 'node:http';
import type { AnswerTarget } from './http-answer.js';

/** A request body read up to a limit: its bytes, or why there are none. */
export type BodyRead = { ok: true; body: Buffer } | { ok: false; tooBig: boolean };

/**
 * Read a request body of at most `limit` bytes. A body that says or turns out to be
 * larger is cut off at the limit while it streams in (never held whole): the caller
 * answers 413 and the HTTP connection is closed after it (see answerAndClose). A request
 * the client gave up on resolves `{ ok: false, tooBig: false }`.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.resolve({ ok: false, tooBig: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (read: BodyRead): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(read);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        req.pause();
        finish({ ok: false, tooBig: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish({ ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length) });
    const onClose = (): void => finish({ ok: false, tooBig: false });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

/**
 * The connection cannot be reused after a body that was not read to its end: with
 * `Connection: close` Node ends the socket once the answer is written, and the rest of
 * the body is never read.
 */
export function closeAfterAnswer(res: AnswerTarget): void {
  res.setHeader('Connection', 'close');
}
