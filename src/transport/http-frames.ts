/**
 * How frames travel over HTTP (docs/PROTOCOL.md, "HTTP transports"): a POST body of one
 * frame or an array of frames, a poll response `{"frames":[...]}`, and Server-Sent Events.
 * Outgoing frames are already-encoded JSON bytes: they are copied into place, never parsed
 * or encoded again.
 */

/** A POST body taken apart: the text of each frame, as a WebSocket message would have carried it. */
export type SendBody = { ok: true; frames: string[] } | { ok: false; message: string };

/** How a connection ended, as the client is told it. */
export interface CloseNotice {
  code: number;
  reason: string;
}

/**
 * A send body: one frame object, or an array of frames handled in order. Elements that are
 * not frame objects are passed on as they are, so the session answers them exactly as it
 * would a malformed WebSocket message.
 */
export function parseSendBody(text: string): SendBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `the body is not JSON (${(err as Error).message})` };
  }
  if (Array.isArray(value)) return { ok: true, frames: splitArray(text) };
  if (value !== null && typeof value === 'object') return { ok: true, frames: [text.trim()] };
  return { ok: false, message: 'the body must be one frame object or a JSON array of frame objects' };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;

/**
 * The elements of a JSON array that is known to be valid, as the exact text the client
 * sent (no number is reformatted, nothing is encoded again). One pass over the text.
 */
export function splitArray(text: string): string[] {
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_SQUARE || c === OPEN_CURLY) {
      depth++;
      if (depth === 1) start = i + 1;
    } else if (c === CLOSE_SQUARE || c === CLOSE_CURLY) {
      depth--;
      if (depth === 0) push(elements, text, start, i);
    } else if (c === COMMA && depth === 1) {
      push(elements, text, start, i);
      start = i + 1;
    }
  }
  return elements;
}

function push(elements: string[], text: string, from: number, to: number): void {
  const element = text.slice(from, to).trim();
  // `[]` has no element; a valid array has no other empty one.
  if (element !== '') elements.push(element);
}

const FRAMES_OPEN = Buffer.from('{"frames":[');
const FRAMES_CLOSE = Buffer.from(']}');
const COMMA_BYTE = Buffer.from(',');

/** The body of a poll response: the frames in order and, when the connection is over, how it closed. */
export function pollBody(frames: readonly Buffer[], close?: CloseNotice): Buffer {
  const tail = close === undefined ? FRAMES_CLOSE : Buffer.from(`],"close":${JSON.stringify({ code: close.code, reason: close.reason })}}`);
  let length = FRAMES_OPEN.length + tail.length + Math.max(0, frames.length - 1);
  for (const frame of frames) length += frame.length;
  const body = Buffer.allocUnsafe(length);
  let at = FRAMES_OPEN.copy(body, 0);
  for (let i = 0; i < frames.length; i++) {
    if (i > 0) at += COMMA_BYTE.copy(body, at);
    at += (frames[i] as Buffer).copy(body, at);
  }
  tail.copy(body, at);
  return body;
}

/** The answer to the poll that opens a connection. */
export function openingPollBody(cid: string): Buffer {
  return Buffer.from(JSON.stringify({ cid, frames: [] }));
}

const DATA = Buffer.from('data: ');
const EVENT_END = Buffer.from('\n\n');

/**
 * Frames as Server-Sent Events of the default type (`message`), one `data:` line each:
 * compact JSON has no line breaks (they are escaped inside strings), so a frame is one line.
 */
export function sseMessages(frames: readonly Buffer[]): Buffer {
  let length = 0;
  for (const frame of frames) length += DATA.length + frame.length + EVENT_END.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const frame of frames) {
    at += DATA.copy(out, at);
    at += frame.copy(out, at);
    at += EVENT_END.copy(out, at);
  }
  return out;
}

/** A named event: `open` (with the cid) and `close` (with the close code and reason). */
export function sseEvent(name: 'open' | 'close', data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
