import { CloseCode, closeCodeName, shouldReconnectAfter } from '../protocol/close-codes.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import type { ErrorPayload } from '../protocol/frames.js';
import { ConnectionReason, type ChangeDetails } from './connection-state.js';
import type { TransportClosed, TransportKind } from './client-transport.js';

/** What a socket close means for the client: why, whether to reconnect, and what to tell the app. */
export interface CloseOutcome {
  reason: ConnectionReason;
  reconnect: boolean;
  details: ChangeDetails;
  /** Set when the close ended an attempt before the welcome: reported as `connect_error`. */
  connectError?: SwitchboardError;
}

export interface CloseContext {
  url: string;
  /** What carried the connection (default: a WebSocket). */
  transport?: TransportKind;
  /** Whether the welcome had arrived on this socket. */
  handshakeDone: boolean;
  /** The error frame the server sent just before closing, if any: it says why in words. */
  lastError: ErrorPayload | undefined;
  /** The server's limit from the last welcome, to explain a 1009. */
  maxMessageBytes: number | undefined;
}

/**
 * Classify a close the client did not initiate. Whether to reconnect comes from the close
 * code table in the protocol layer, so the SDK and docs/ERRORS.md cannot disagree.
 */
export function classifyClose(closed: TransportClosed, ctx: CloseContext): CloseOutcome {
  if (!closed.opened) {
    if (closed.refusal?.code === ErrorCode.OriginNotAllowed) {
      const error = originRefused(closed.refusal.message, ctx.url);
      return { reason: ConnectionReason.Unauthorized, reconnect: false, details: { error, closeCode: closed.code }, connectError: error };
    }
    const why = closed.errorMessage ?? `closed with code ${closed.code}`;
    // An HTTP transport can read why the server refused (a WebSocket upgrade cannot): its code tells the app.
    const code = closed.refusal?.code ?? ErrorCode.Disconnected;
    const error = new SwitchboardError(code, `could not open ${TRANSPORT_NAMES[ctx.transport ?? 'websocket']} to ${ctx.url}: ${why}`);
    return { reason: ConnectionReason.TransportError, reconnect: true, details: { error, closeCode: closed.code }, connectError: error };
  }
  const { reason, error: said } = describeClose(closed, ctx);
  // No other transport and no retry cures it: the server's configuration has to change.
  const originRefusal = said?.code === ErrorCode.OriginNotAllowed;
  const error = originRefusal ? originRefused(said.message, ctx.url) : said;
  const details: ChangeDetails = { closeCode: closed.code };
  if (error) details.error = error;
  const outcome: CloseOutcome = { reason, reconnect: shouldReconnectAfter(closed.code) && !originRefusal, details };
  if (!ctx.handshakeDone) {
    outcome.connectError = error ?? new SwitchboardError(ErrorCode.Disconnected, `the server closed the connection during the handshake${codeText(closed)}`);
  }
  return outcome;
}

function describeClose(closed: TransportClosed, ctx: CloseContext): { reason: ConnectionReason; error?: SwitchboardError } {
  const fromServer = (fallbackCode: string, fallbackMessage: string): SwitchboardError => {
    if (ctx.lastError) return SwitchboardError.fromPayload(ctx.lastError);
    // Without an error frame (an origin refusal reads nothing and sends none), the close reason may name the code.
    const said = codeInReason(closed.reason);
    if (said) return new SwitchboardError(said.code, said.message || fallbackMessage);
    return new SwitchboardError(fallbackCode, closed.reason || fallbackMessage);
  };
  switch (closed.code) {
    case CloseCode.Normal:
      return { reason: ConnectionReason.ServerDisconnect };
    case CloseCode.GoingAway:
      return { reason: ConnectionReason.ServerShutdown };
    case CloseCode.PolicyViolation:
      // Before the welcome a 1008 is the middleware saying no; after it, a policy such as `overloaded`.
      return ctx.handshakeDone
        ? { reason: ConnectionReason.PolicyViolation, error: fromServer(ErrorCode.Overloaded, 'closed by server policy') }
        : { reason: ConnectionReason.Unauthorized, error: fromServer(ErrorCode.Unauthorized, 'the server refused the connection') };
    case CloseCode.MessageTooBig: {
      const limit = ctx.maxMessageBytes === undefined ? 'its configured limit' : `at most ${ctx.maxMessageBytes} bytes`;
      return {
        reason: ConnectionReason.MessageTooBig,
        error: new SwitchboardError(ErrorCode.MessageTooBig, `message too big: the server accepts ${limit} per frame`),
      };
    }
    case CloseCode.SlowConsumer:
      return {
        reason: ConnectionReason.SlowConsumer,
        error:
          ctx.lastError?.code === ErrorCode.SlowConsumer
            ? SwitchboardError.fromPayload(ctx.lastError)
            : new SwitchboardError(ErrorCode.SlowConsumer, closed.reason || 'the connection fell too far behind a durable room'),
      };
    case CloseCode.SessionTakenOver:
      return {
        reason: ConnectionReason.SessionTakenOver,
        error:
          ctx.lastError?.code === ErrorCode.SessionTakenOver
            ? SwitchboardError.fromPayload(ctx.lastError)
            : new SwitchboardError(ErrorCode.SessionTakenOver, 'a newer connection resumed this session; this one does not reconnect'),
      };
    case CloseCode.UserDisconnected:
      // An earlier, unrelated error frame is not the cause: only the one that says so is.
      return {
        reason: ConnectionReason.UserDisconnected,
        error:
          ctx.lastError?.code === ErrorCode.UserDisconnected
            ? SwitchboardError.fromPayload(ctx.lastError)
            : new SwitchboardError(ErrorCode.UserDisconnected, 'the server disconnected every connection of this user'),
      };
    case CloseCode.AuthExpired:
      // The error frame before the close has `auth_expired`, or the code the middleware refused the fresh credentials with.
      return { reason: ConnectionReason.AuthExpired, error: fromServer(ErrorCode.AuthExpired, 'the credentials expired and were not renewed') };
    case CloseCode.BadHandshake:
      return { reason: ConnectionReason.ProtocolError, error: fromServer(ErrorCode.BadHandshake, 'the server refused the handshake') };
    case CloseCode.UnsupportedVersion:
      return {
        reason: ConnectionReason.UnsupportedVersion,
        error: fromServer(
          ErrorCode.UnsupportedVersion,
          `this client speaks switchboard protocol v${PROTOCOL_VERSION} and the server another version: upgrade the older side`,
        ),
      };
    default:
      // After the welcome an earlier error frame is unrelated to this close; during the handshake it is the cause.
      return !ctx.handshakeDone && ctx.lastError
        ? { reason: ConnectionReason.TransportClosed, error: SwitchboardError.fromPayload(ctx.lastError) }
        : { reason: ConnectionReason.TransportClosed };
  }
}

const TRANSPORT_NAMES: Record<TransportKind, string> = {
  websocket: 'a WebSocket',
  sse: 'an SSE stream',
  polling: 'a long-polling connection',
};

/**
 * A close reason of the form `<code>` or `<code>: <message>` (what the server sends with
 * 1008), split; undefined for free text.
 */
export function codeInReason(reason: string): { code: string; message: string } | undefined {
  const match = /^([a-z][a-z0-9_]*)(?::\s*([\s\S]*))?$/.exec(reason);
  if (!match) return undefined;
  return { code: match[1] as string, message: match[2] ?? '' };
}

/**
 * The server refused the page's origin (`allowedOrigins`). The error says the remedy, with the
 * page's origin where there is a page; `said` is the server's own words, kept for the log.
 */
export function originRefused(said: string, url: string): SwitchboardError {
  const origin = pageOrigin();
  const who = origin === undefined ? 'the Origin this client sent' : `pages on ${origin}`;
  const remedy = origin === undefined ? 'add that origin' : `add '${origin}'`;
  const server = said ? ` (the server said: ${said})` : '';
  return new SwitchboardError(ErrorCode.OriginNotAllowed, `${url} does not accept connections from ${who}: ${remedy} to the server's allowedOrigins option${server}`);
}

/** `location.origin` of the page the client runs in; undefined outside a page (and for an opaque `null` origin). */
function pageOrigin(): string | undefined {
  const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  return typeof origin === 'string' && origin !== '' && origin !== 'null' ? origin : undefined;
}

function codeText(closed: TransportClosed): string {
  const name = closeCodeName(closed.code);
  const reason = closed.reason ? `: ${closed.reason}` : '';
  return ` (close ${closed.code}${name ? ` ${name}` : ''}${reason})`;
}
