import { ErrorCode } from '../protocol/error-codes.js';
import { HttpApiError } from './http-errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether a Content-Type header says JSON: `application/json`, with parameters allowed but
 * a charset other than UTF-8 refused (JSON on the wire is UTF-8, RFC 8259).
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  for (const param of params) {
    const [name, value = ''] = param.split('=').map((s) => s.trim());
    if (name === 'charset' && value.replace(/^"|"$/g, '') !== 'utf-8' && value.replace(/^"|"$/g, '') !== 'utf8') return false;
  }
  return true;
}

/** The JSON object a request body holds, or `bad_request` saying what is wrong with it. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new HttpApiError(ErrorCode.BadRequest, 'the body is not valid UTF-8');
  }
  if (text.trim() === '') throw new HttpApiError(ErrorCode.BadRequest, 'the body is empty: send a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpApiError(ErrorCode.BadRequest, `the body is not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpApiError(ErrorCode.BadRequest, `the body must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  return m?.[1];
}
