/**
 * One WebSocket upgrade request made with node:http(s), so the doctor sees the answer as
 * it is: a 101 with its headers, or any other status with its body (which WebSocket
 * libraries swallow).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { SUBPROTOCOL } from '../../protocol/constants.js';
import type { Target } from './target.js';
import { verifyOptions, type Trust } from './trust.js';
import { webSocketKey } from './ws-frames.js';

/** Longest body of a refusal the doctor reads: enough for any error text. */
const MAX_BODY_BYTES = 8192;

export type UpgradeAnswer =
  | { kind: 'upgraded'; status: number; headers: IncomingHttpHeaders; key: string; socket: Duplex; head: Buffer }
  | { kind: 'refused'; status: number; statusText: string; headers: IncomingHttpHeaders; body: string; httpVersion: string }
  | { kind: 'failed'; error: string; code?: string };

export interface UpgradeRequestOptions {
  timeoutMs: number;
  trust: Trust;
  /** Sent as `Origin`, as a browser page on that origin would. None: like a Node client. */
  origin?: string;
  /** Another path than the target's (to probe where an endpoint is). */
  path?: string;
}

export function requestUpgrade(target: Target, options: UpgradeRequestOptions): Promise<UpgradeAnswer> {
  const key = webSocketKey();
  const request = (target.secure ? httpsRequest : httpRequest)({
    host: target.host,
    port: target.port,
    path: options.path ?? target.requestTarget,
    method: 'GET',
    agent: false,
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Protocol': SUBPROTOCOL,
      ...(options.origin ? { Origin: options.origin } : {}),
    },
    ...(target.secure ? { ...verifyOptions(options.trust), ...(isIP(target.host) ? {} : { servername: target.host }) } : {}),
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: UpgradeAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const timer = setTimeout(() => {
      settle({ kind: 'failed', error: `no answer to the upgrade request within ${options.timeoutMs} ms`, code: 'timeout' });
      request.destroy();
    }, options.timeoutMs);
    request.once('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      settle({ kind: 'upgraded', status: res.statusCode ?? 0, headers: res.headers, key, socket, head });
    });
    request.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => {
        settle({ kind: 'refused', status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), httpVersion: res.httpVersion });
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) finish();
      });
      res.once('end', finish);
      res.once('error', finish);
      res.once('close', finish);
    });
    request.once('error', (error: NodeJS.ErrnoException) => settle({ kind: 'failed', error: error.message, ...(error.code ? { code: error.code } : {}) }));
    request.end();
  });
}
