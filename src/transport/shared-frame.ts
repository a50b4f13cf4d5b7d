import { headerLengthOf, textFrame } from './websocket-frame.js';

/**
 * One encoded text frame for many connections: a broadcast's event, or a frame kept to
 * be sent again on resume. It is encoded to UTF-8 and framed once, when it is made;
 * every recipient's transport then writes the same bytes (the WebSocket transport
 * writes `wire` as is, others take `payload`). Nothing is copied or allocated per
 * recipient.
 */
export class SharedFrame {
  /** The complete WebSocket text frame: header and payload in one buffer. */
  readonly wire: Buffer;
  /** Bytes of payload (what resume bookkeeping counts). */
  readonly length: number;

  constructor(text: string) {
    const wire = textFrame(text);
    this.wire = wire;
    this.length = wire.length - headerLengthOf(wire);
  }

  /** The UTF-8 payload (a view into `wire`, not a copy). */
  get payload(): Buffer {
    return this.wire.subarray(this.wire.length - this.length);
  }
}
