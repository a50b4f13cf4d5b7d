/**
 * Where an HTTP transport answer goes: a ServerResponse, or a RelayedResponse that carries
 * the answer back to the node a request arrived at (see relayed-response.ts).
 */
export interface AnswerTarget {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  setHeader(name: string, value: string): unknown;
  end(body?: Buffer | string): unknown;
  once(event: 'close', listener: () => void): unknown;
  destroy(): unknown;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON answer of an HTTP transport endpoint. Nothing of them may be cached: every answer is `no-store`. */
export function answerJson(res: AnswerTarget, status: number, body: Buffer | string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    'Content-Type': JSON_TYPE,
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/** A refusal: `{"code":"...","message":"..."}` with the error code of docs/ERRORS.md. */
export function answerError(res: AnswerTarget, status: number, code: string, message: string, headers?: Readonly<Record<string, string>>): void {
  answerJson(res, status, JSON.stringify({ code, message }), headers);
}

/** `204 No Content`: a POST was taken in. */
export function answerTaken(res: AnswerTarget): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(204, { 'Cache-Control': 'no-store' });
  res.end();
}
