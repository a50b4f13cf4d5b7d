/**
 * The refusals of the Engine.IO front door, in engine.io's own shape — `{"code":N,"message":"..."}`
 * with its codes and messages, so a Socket.IO client, proxy or log reader sees what it would
 * see from engine.io — plus, where Switchboard has a reason of its own, a `context` with
 * Switchboard's error code (docs/ERRORS.md) and what to change.
 */
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../../protocol/error-codes.js';
import type { AnswerTarget } from '../../transport/http-answer.js';
import { rejectUpgrade } from '../../transport/http-reject.js';

/** engine.io's error codes (`Server.errors`), by name. */
export const EngineErrorCode = {
  UnknownTransport: 0,
  UnknownSid: 1,
  BadHandshakeMethod: 2,
  BadRequest: 3,
  Forbidden: 4,
  UnsupportedProtocolVersion: 5,
} as const;

export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

/** engine.io's messages (`Server.errorMessages`), word for word: clients and tests compare them. */
export const ENGINE_ERROR_MESSAGES: Readonly<Record<EngineErrorCode, string>> = {
  0: 'Transport unknown',
  1: 'Session ID unknown',
  2: 'Bad handshake method',
  3: 'Bad request',
  4: 'Forbidden',
  5: 'Unsupported protocol version',
};

/** Switchboard's own reason for a refusal. */
export interface EngineErrorContext {
  code: ErrorCode;
  message: string;
}

/** One refusal: the HTTP status, engine.io's code, Switchboard's reason if it has one, and extra headers (Retry-After). */
export interface EngineRefusal {
  status: number;
  code: EngineErrorCode;
  context?: EngineErrorContext;
  headers?: Readonly<Record<string, string>>;
}

/** The status engine.io gives a code: 403 for Forbidden, 400 for the rest. */
export function engineRefusal(code: EngineErrorCode, context?: EngineErrorContext, status = code === EngineErrorCode.Forbidden ? 403 : 400): EngineRefusal {
  return context === undefined ? { status, code } : { status, code, context };
}

export function engineErrorBody(refusal: EngineRefusal): string {
  const body: { code: number; message: string; context?: EngineErrorContext } = { code: refusal.code, message: ENGINE_ERROR_MESSAGES[refusal.code] };
  if (refusal.context) body.context = refusal.context;
  return JSON.stringify(body);
}

/** Answer an HTTP request (or a relayed one) with the refusal; nothing when an answer was already written. */
export function answerEngineError(res: AnswerTarget, refusal: EngineRefusal): void {
  if (res.headersSent || res.destroyed) return;
  const body = engineErrorBody(refusal);
  res.writeHead(refusal.status, {
    ...refusal.headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 403: 'Forbidden', 413: 'Payload Too Large', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** Refuse a WebSocket upgrade with the same status and body a polling request would get. */
export function rejectEngineUpgrade(socket: Duplex, refusal: EngineRefusal): void {
  rejectUpgrade(socket, refusal.status, STATUS_TEXT[refusal.status] ?? 'Bad Request', engineErrorBody(refusal), refusal.headers);
}
