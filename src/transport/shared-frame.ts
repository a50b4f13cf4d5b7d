import { mayCarryBinary, textFormToBinaryMessage } from '../protocol/binary.js';
import { binaryFrame, headerLengthOf, textFrame } from './websocket-frame.js';

/**
 * One encoded text frame for many connections: a broadcast's event, or a frame kept to
 * be sent again on resume. It is encoded to UTF-8 and framed once, when it is made;
 * every recipient's transport then writes the same bytes (the WebSocket transport
 * writes `wire` as is, others take `payload`). Nothing is copied or allocated per
 * recipient.
 *
 * A frame in the text form of binary data (see protocol/binary.ts) also has a binary
 * message, for the WebSocket connections that asked for them: made on the first such
 * recipient, once for all of them. A frame without binary data pays one substring check.
 */
export class SharedFrame {
  /** The complete WebSocket text frame: header and payload in one buffer. */
  readonly wire: Buffer;
  /** Bytes of payload (what resume bookkeeping counts). */
  readonly length: number;
  /** The text may be in the text form of binary data; false for every plain frame. */
  private readonly carriesBinary: boolean;
  /** The complete WebSocket binary frame, once made; null when the text turned out to hold no binary data. */
  private binary: Buffer | null | undefined;

  constructor(text: string) {
    const wire = textFrame(text);
    this.wire = wire;
    this.length = wire.length - headerLengthOf(wire);
    this.carriesBinary = mayCarryBinary(text);
  }

  /** The UTF-8 payload (a view into `wire`, not a copy). */
  get payload(): Buffer {
    return this.wire.subarray(this.wire.length - this.length);
  }

  /**
   * The complete WebSocket binary frame of this frame's binary message, or undefined when
   * it carries no binary data (then `wire` goes to every connection).
   */
  get binaryWire(): Buffer | undefined {
    if (!this.carriesBinary) return undefined;
    if (this.binary === undefined) {
      const message = textFormToBinaryMessage(this.payload.toString());
      this.binary = message ? binaryFrame(message) : null;
    }
    return this.binary ?? undefined;
  }
}
