/**
 * Engine.IO protocol v4 packets: the bottom layer of the Socket.IO front door (issue 17).
 * Matches the `engine.io-parser` package (v5, protocol 4) on everything a real client
 * sends or accepts, and is stricter where that package is lenient:
 *
 * - a text packet is one type digit and its data (`4hello`, `2probe`, `6`);
 * - a binary message on WebSocket is the raw bytes of a binary frame (no type byte);
 * - an HTTP long-polling payload is packets joined by the record separator "\x1e",
 *   a binary message inside it being `b` + standard padded base64.
 *
 * Decoding never throws: bad input gives an `EngineCodecError` with a reason. Unlike
 * `engine.io-parser`, it refuses bad base64 (that package drops the bad characters) and a
 * payload with any bad packet (that package keeps the packets before it); and the encoder
 * refuses a text packet holding "\x1e" in a payload (that package writes it, and its own
 * decoder then splits the packet in two).
 */
import { fromBase64, toBase64 } from '../../protocol/binary.js';

/** The packet types, by their wire digit. */
export const ENGINE_PACKET_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const;

export type EnginePacketType = (typeof ENGINE_PACKET_TYPES)[number];

/**
 * One Engine.IO packet. Only a message carries binary data. A decoded text packet has
 * `data` only when it is not empty (as `engine.io-parser` does); for encoding, a missing
 * `data` and `''` are the same.
 */
export type EnginePacket =
  | { readonly type: 'message'; readonly data?: string | Uint8Array }
  | { readonly type: Exclude<EnginePacketType, 'message'>; readonly data?: string };

/** The record separator between the packets of a long-polling payload. */
export const PAYLOAD_SEPARATOR = '\x1e';

export type EngineCodecErrorReason =
  | 'empty-packet'
  | 'unknown-type'
  | 'bad-base64'
  | 'too-many-packets'
  | 'separator-in-packet';

/** Why input could not be decoded (or a payload encoded); a value, never thrown. */
export interface EngineCodecError {
  readonly error: EngineCodecErrorReason;
  readonly message: string;
}

export function isEngineCodecError(value: unknown): value is EngineCodecError {
  return typeof value === 'object' && value !== null && 'error' in value && !Array.isArray(value);
}

function fail(error: EngineCodecErrorReason, message: string): EngineCodecError {
  return { error, message };
}

/** The WebSocket form: a binary message is its bytes (sent as a binary frame), anything else a string. */
export function encodePacket(packet: EnginePacket): string | Uint8Array {
  if (packet.data instanceof Uint8Array) return packet.data;
  return String(ENGINE_PACKET_TYPES.indexOf(packet.type)) + (packet.data ?? '');
}

/**
 * Reads one packet: a string (a WebSocket text frame or one packet of a payload, where
 * `b` + base64 is a binary message) or bytes (a WebSocket binary frame: a binary message,
 * even an empty one).
 */
export function decodePacket(data: string | Uint8Array): EnginePacket | EngineCodecError {
  if (typeof data !== 'string') return { type: 'message', data };
  if (data === '') return fail('empty-packet', 'an empty packet has no type');
  const digit = data.charCodeAt(0) - 48;
  if (data[0] === 'b') {
    const bytes = fromBase64(data.slice(1));
    return bytes === undefined ? fail('bad-base64', 'a binary packet that is not padded standard base64') : { type: 'message', data: bytes };
  }
  const type = ENGINE_PACKET_TYPES[digit];
  if (type === undefined) return fail('unknown-type', `unknown packet type ${JSON.stringify(data[0])}`);
  return data.length > 1 ? { type, data: data.slice(1) } : { type };
}

/** The long-polling form: packets joined by "\x1e", binary messages as `b` + base64. */
export function encodePayload(packets: readonly EnginePacket[]): string | EngineCodecError {
  const parts: string[] = [];
  for (const packet of packets) {
    if (packet.data instanceof Uint8Array) {
      parts.push(`b${toBase64(packet.data)}`);
      continue;
    }
    const text = encodePacket(packet) as string;
    // A separator inside would cut the packet in two on the other side.
    if (text.includes(PAYLOAD_SEPARATOR)) return fail('separator-in-packet', 'a text packet holds the record separator "\\x1e"');
    parts.push(text);
  }
  return parts.join(PAYLOAD_SEPARATOR);
}

export interface DecodePayloadOptions {
  /** Refuse a payload of more packets than this (checked before any packet is decoded). */
  readonly maxPackets?: number;
}

/** Reads a long-polling payload: every packet must decode, or the whole payload is an error. */
export function decodePayload(text: string, options: DecodePayloadOptions = {}): EnginePacket[] | EngineCodecError {
  const parts = text.split(PAYLOAD_SEPARATOR, options.maxPackets === undefined ? undefined : options.maxPackets + 1);
  if (options.maxPackets !== undefined && parts.length > options.maxPackets) {
    return fail('too-many-packets', `a payload of more than ${options.maxPackets} packets`);
  }
  const packets: EnginePacket[] = [];
  for (const [i, part] of parts.entries()) {
    const packet = decodePacket(part);
    if (isEngineCodecError(packet)) return fail(packet.error, `packet ${i}: ${packet.message}`);
    packets.push(packet);
  }
  return packets;
}
