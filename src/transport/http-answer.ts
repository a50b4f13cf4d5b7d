import type { ServerResponse } from 'node:http';

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON answer of an HTTP transport endpoint. Nothing of them may be cached: every answer is `no-store`. */
export function answerJson(res: ServerResponse, status: number, body: Buffer | string, headers: Readonly<Record<string, string>> = {}): void {
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
export function answerError(res: ServerResponse, status: number, code: string, message: string, headers?: Readonly<Record<string, string>>): void {
  answerJson(res, status, JSON.stringify({ code, message }), headers);
}

/** `204 No Content`: a POST was taken in. */
export function answerTaken(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(204, { 'Cache-Control': 'no-store' });
  res.end();
}
