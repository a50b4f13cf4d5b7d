import { encodeTextForm, hasBinary, reviveBinary } from '../../protocol/binary.js';
import type { SharedFrame } from '../../transport/shared-frame.js';
import type { ErrorFrame, ErrorPayload, StreamPosition, WelcomeFrame } from '../../protocol/frames.js';
import { encodePacket, type EncodedSocketPacket, type SocketPacket, SocketPacketType } from './socket-packets.js';

/**
 * The two directions of the Socket.IO gateway as pure functions: a native frame
 * (docs/PROTOCOL.md) the server sends becomes Socket.IO packets, and a Socket.IO packet a
 * client sends becomes a native frame. Nothing here knows a connection.
 */

/** What a native server frame is for a Socket.IO client. */
export type Rendering =
  /** The handshake succeeded: the CONNECT answer. */
  | { kind: 'welcome'; frame: WelcomeFrame }
  /** Before the welcome: CONNECT_ERROR; after it: an `error` event. */
  | { kind: 'error'; frame: ErrorFrame }
  /**
   * An event that is no request: the Engine.IO text up to, not including, its closing `]`
   * (so an offset can be appended as one more argument), and the namespace it is for.
   */
  | ({
      kind: 'event';
      open: string;
      /** For a broadcast's rendering (one per shared frame): its offset-free Engine.IO frame, framed once on first use. */
      plain?: SharedFrame;
    } & Publication)
  /** An event whose data holds binary values: encoded per recipient (an offset changes it). */
  | ({ kind: 'binary-event'; args: unknown[] } & Publication)
  /** A durable room's stream moved past a publication this socket was left out of. */
  | { kind: 'position'; room: string; position: StreamPosition }
  /** The answer to request `ref` (`data`: the reply's data, undefined for an error). */
  | { kind: 'reply'; ref: number; packet: EncodedSocketPacket; data?: unknown }
  /** Complete packets, the same for every recipient: a request, a namespace disconnect. */
  | { kind: 'packet'; packet: EncodedSocketPacket }
  /** The server asks for fresh credentials: a Socket.IO client has no way to give them. */
  | { kind: 'reauth'; ref: number }
  /** Nothing for the client (heartbeats, presence, positions): counted, not sent. */
  | { kind: 'silent' };

/** Where an event of a durable room stands in its stream (both absent for other events). */
export interface Publication {
  room?: string;
  position?: StreamPosition;
}

/** The Engine.IO message type digit every Socket.IO packet travels under. */
const MESSAGE = '4';

/** How a Socket.IO client gets a native frame; `nsp` is its namespace (`/` is left off the wire). */
export function renderFrame(text: string, nsp: string): Rendering {
  const frame = JSON.parse(text) as Record<string, unknown>;
  switch (frame.type) {
    case 'welcome':
      return { kind: 'welcome', frame: frame as unknown as WelcomeFrame };
    case 'error':
      return { kind: 'error', frame: frame as unknown as ErrorFrame };
    case 'event':
      return renderEvent(frame, nsp);
    case 'reply':
      return renderReply(frame, nsp);
    case 'disconnect':
      return { kind: 'packet', packet: [`${MESSAGE}${SocketPacketType.DISCONNECT}${nspPart(nsp)}`] };
    case 'reauth':
      return { kind: 'reauth', ref: frame.ref as number };
    case 'position':
      return { kind: 'position', room: frame.room as string, position: frame.position as StreamPosition };
    default:
      return { kind: 'silent' };
  }
}

function renderEvent(frame: Record<string, unknown>, nsp: string): Rendering {
  const args: unknown[] = 'data' in frame ? [frame.event, frame.data] : [frame.event];
  const publication: Publication = frame.position === undefined ? {} : { room: frame.room as string, position: frame.position as StreamPosition };
  if (frame.bin !== undefined) {
    // The server made this text form itself: it revives.
    reviveBinary(frame);
    args[1] = frame.data;
    if (frame.ref !== undefined) return { kind: 'packet', packet: messages(encodePacket({ type: SocketPacketType.EVENT, nsp, id: frame.ref as number, data: args })) };
    return { kind: 'binary-event', args, ...publication };
  }
  if (frame.ref !== undefined) {
    // A request: the client's handler gets an ack function as its last argument, so no offset follows (see NamespaceLink).
    return { kind: 'packet', packet: [`${MESSAGE}${SocketPacketType.EVENT}${nspPart(nsp)}${frame.ref as number}${JSON.stringify(args)}`] };
  }
  return { kind: 'event', open: openEvent(nsp, args), ...publication };
}

/** The Engine.IO text of an EVENT with `args`, up to, not including, its closing `]`. */
export function openEvent(nsp: string, args: readonly unknown[]): string {
  return `${MESSAGE}${SocketPacketType.EVENT}${nspPart(nsp)}${JSON.stringify(args).slice(0, -1)}`;
}

function renderReply(frame: Record<string, unknown>, nsp: string): Rendering {
  const ref = frame.ref as number;
  if (frame.error !== undefined) {
    return { kind: 'reply', ref, packet: messages(encodePacket({ type: SocketPacketType.ACK, nsp, id: ref, data: [errorAnswer(frame.error as ErrorPayload)] })) };
  }
  if (frame.bin !== undefined) reviveBinary(frame);
  const data = 'data' in frame ? [frame.data] : [];
  return { kind: 'reply', ref, packet: messages(encodePacket({ type: SocketPacketType.ACK, nsp, id: ref, data })), data: frame.data };
}

/** What a Socket.IO client's ack callback gets for a request that failed: one object, `{error: {code, message}}`. */
export function errorAnswer(error: ErrorPayload): { error: ErrorPayload } {
  return { error: error.details === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, details: error.details } };
}

/** The complete Engine.IO text of an event whose text `open` ends before its `]`, with `offset` as its last argument. */
export function closeEvent(open: string, offset?: string): string {
  return offset === undefined ? `${open}]` : `${open},"${offset}"]`;
}

/** An encoded packet's text as an Engine.IO message (its attachments travel as binary messages). */
export function messages(packet: EncodedSocketPacket): EncodedSocketPacket {
  packet[0] = MESSAGE + packet[0];
  return packet;
}

/** A binary event with `offset` as its last argument (recovery), encoded. */
export function encodeBinaryEvent(args: unknown[], nsp: string, offset?: string): EncodedSocketPacket {
  return messages(encodePacket({ type: SocketPacketType.EVENT, nsp, data: offset === undefined ? args : [...args, offset] }));
}

/** The CONNECT answer: `sid` (Socket.IO's `socket.id`) and, with recovery, the `pid` a client presents to recover. */
export function connectAnswer(nsp: string, sid: string, pid?: string): string {
  return MESSAGE + encodePacket({ type: SocketPacketType.CONNECT, nsp, data: pid === undefined ? { sid } : { sid, pid } })[0];
}

/** CONNECT_ERROR: `message` and `data` as Socket.IO's `connect_error` shows them (`err.message`, `err.data`). */
export function connectError(nsp: string, message: string, data: unknown): string {
  return MESSAGE + encodePacket({ type: SocketPacketType.CONNECT_ERROR, nsp, data: { message, data } })[0];
}

/** The server ends the client's socket in `nsp` (`io server disconnect`). */
export function disconnectPacket(nsp: string): string {
  return `${MESSAGE}${SocketPacketType.DISCONNECT}${nspPart(nsp)}`;
}

function nspPart(nsp: string): string {
  return nsp === '/' ? '' : `${nsp},`;
}

// --- client → server ---------------------------------------------------------------------

/**
 * The one value a Switchboard handler or reply gets for Socket.IO arguments: none is no
 * data, one is itself, several are the array of them.
 */
export function argumentsToData(args: readonly unknown[]): { data?: unknown } {
  if (args.length === 0) return {};
  return { data: args.length === 1 ? args[0] : args };
}

/** The native text of an event from a Socket.IO client (`ref` when it asked for an ack). */
export function eventFrame(packet: SocketPacket): string {
  const [name, ...args] = packet.data as unknown[];
  const frame: Record<string, unknown> = { type: 'event', ns: packet.nsp, event: String(name), ...argumentsToData(args) };
  if (packet.id !== undefined) frame.ref = packet.id;
  return encodeNative(frame);
}

/** The native text of a Socket.IO client's ACK to a server request. */
export function replyFrame(packet: SocketPacket): string {
  return encodeNative({ type: 'reply', ref: packet.id, ...argumentsToData(packet.data as unknown[]) });
}

function encodeNative(frame: Record<string, unknown>): string {
  return 'data' in frame && hasBinary(frame.data) ? encodeTextForm(frame) : JSON.stringify(frame);
}
