/** Plain HTTP requests of the fallback steps, over node:http(s) with the doctor's TLS choice. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { verifyOptions, type Trust } from './trust.js';

export interface HttpCallOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  trust: Trust;
}

/** Start a request; resolves with the response as soon as its headers arrive (the body still streams). */
export function httpCall(url: URL, options: HttpCallOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: options.method ?? 'GET',
      agent: false,
      headers: options.headers ?? {},
      signal,
      ...(secure ? verifyOptions(options.trust) : {}),
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end(options.body);
  });
}

/** The whole body as text (at most 64 KiB: the doctor's answers are small). */
export async function readBody(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) {
    text += chunk as string;
    if (text.length > 65536) break;
  }
  return text;
}

/** Close an HTTP-transport connection the doctor opened, so the server forgets it at once. */
export async function closeHttpConnection(url: URL, trust: Trust, timeoutMs: number): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await httpCall(url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: '{"code":1000}', trust }, abort.signal);
    res.resume();
  } catch {
    // Best effort: the server drops an abandoned connection by its own timeout.
  } finally {
    clearTimeout(timer);
  }
}
