/**
 * HTTP long-polling as Engine.IO v4 speaks it: a GET is held until there is something to
 * send and is answered with a payload (packets joined by "\x1e"); a POST carries a
 * payload up and is answered `ok`. Answers go to an AnswerTarget, so a poll that arrived
 * at another node of the cluster is held and answered here the same way.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { AnswerTarget } from '../../transport/http-answer.js';
import { readBody } from '../../transport/http-body.js';
import { decodePacket, decodePayload, encodePayload, isEngineCodecError, PAYLOAD_SEPARATOR, type EngineCodecError, type EnginePacket } from './engine-packets.js';

/**
 * A POST body as read where the request arrived: its text, or why there is none. Plain
 * data, so that it travels to the node holding the connection as it is.
 */
export type PostBody =
  | { kind: 'text'; text: string }
  | { kind: 'too-big' }
  | { kind: 'not-utf8' }
  /** `application/octet-stream`: Engine.IO v3's binary payloads, which v4 does not have. */
  | { kind: 'binary-content' }
  /** The client gave up on the request before its body was complete. */
  | { kind: 'aborted' };

/** Read a POST body of at most `maxPayload` bytes (engine.io's maxHttpBufferSize). */
export async function readPostBody(req: IncomingMessage, maxPayload: number): Promise<PostBody> {
  if (req.headers['content-type'] === 'application/octet-stream') return { kind: 'binary-content' };
  const read = await readBody(req, maxPayload);
  if (!read.ok) return read.tooBig ? { kind: 'too-big' } : { kind: 'aborted' };
  return isUtf8(read.body) ? { kind: 'text', text: read.body.toString() } : { kind: 'not-utf8' };
}

/**
 * The packets of a POST body. A payload of n packets has at least 2n − 1 bytes, so the
 * bound never refuses a body within maxPayload: it only keeps the split from making more
 * pieces than that before anything is decoded.
 */
export function decodePostPayload(text: string, maxPayload: number): EnginePacket[] | EngineCodecError {
  return decodePayload(text, { maxPackets: Math.ceil((maxPayload + 1) / 2) });
}

/** `ok`, as engine.io answers a POST: text/html, which no user agent offers to download. */
export function answerPostOk(res: AnswerTarget): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': 2, 'Cache-Control': 'no-store' });
  res.end('ok');
}

/** A poll's answer: the payload as text (binary messages in it are `b` + base64). */
export function answerPoll(res: AnswerTarget, payload: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': Buffer.byteLength(payload), 'Cache-Control': 'no-store' });
  res.end(payload);
}

/** One packet waiting for a poll: an Engine.IO text packet (type digit included), or a binary message's bytes. */
export type QueuedPacket = string | Uint8Array;

/** The payload of queued packets; a text packet holding "\x1e" makes it an error (it would split in two on the client). */
export function payloadOf(packets: readonly QueuedPacket[]): string | EngineCodecError {
  // Text packets are complete already: the codec is needed only for binary messages, or to say what is wrong.
  if (packets.every((packet) => typeof packet === 'string') && !packets.some((packet) => packet.includes(PAYLOAD_SEPARATOR))) {
    return packets.join(PAYLOAD_SEPARATOR);
  }
  const decoded: EnginePacket[] = [];
  for (const packet of packets) {
    const one = typeof packet === 'string' ? decodePacket(packet) : ({ type: 'message', data: packet } as const);
    if (isEngineCodecError(one)) return one;
    decoded.push(one);
  }
  return encodePayload(decoded);
}

/** The single poll a connection may hold at a time, and who to tell when it goes away unanswered. */
export class HeldPoll {
  private res: AnswerTarget | undefined;

  constructor(private readonly onLost: () => void) {}

  get holding(): boolean {
    return this.res !== undefined;
  }

  /** Hold `res`; false when a poll is held already (engine.io: "overlap from client"). */
  hold(res: AnswerTarget): boolean {
    if (this.res !== undefined) return false;
    this.res = res;
    res.once('close', () => {
      // Answered polls are let go before they end: only one that closes while held is lost.
      if (this.res !== res) return;
      this.res = undefined;
      this.onLost();
    });
    return true;
  }

  /** Answer the held poll with `payload`; false when none is held. */
  answer(payload: string): boolean {
    const res = this.res;
    if (res === undefined) return false;
    this.res = undefined;
    answerPoll(res, payload);
    return true;
  }

  /** Drop the held poll without an answer: the client sees the connection fail. */
  drop(): void {
    const res = this.res;
    this.res = undefined;
    res?.destroy();
  }
}
