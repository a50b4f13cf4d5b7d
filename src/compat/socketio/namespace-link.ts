import { CLOSE_CODE_RULES, CloseCode } from '../../protocol/close-codes.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ErrorFrame, WelcomeFrame } from '../../protocol/frames.js';
import type { SharedFrame } from '../../transport/shared-frame.js';
import type { ResumePolicy, Transport, TransportHandlers } from '../../transport/transport.js';
import type { EngineConnection } from './engine-ports.js';
import type { RecoveryLedger } from './recovery-ledger.js';
import {
  closeEvent,
  connectAnswer,
  connectError,
  disconnectPacket,
  encodeBinaryEvent,
  openEvent,
  type Rendering,
  renderFrame,
} from './socket-translation.js';
import type { EncodedSocketPacket } from './socket-packets.js';

/** What a link needs of the Engine.IO connection it rides and of the front door. */
export interface LinkHost {
  readonly engine: EngineConnection;
  /** Connection state recovery is on: pids, offsets, sessions kept across a lost connection. */
  readonly recovery: boolean;
  readonly ledger: RecoveryLedger;
  /** How a broadcast's shared frame renders, worked out once for all its recipients. */
  renderShared(frame: SharedFrame, nsp: string): Rendering;
  /** The plain (offset-free) Engine.IO text of a shared event, framed once for all its recipients. */
  sharedEvent(frame: SharedFrame, open: string): SharedFrame;
  /** The link ended (either side): the namespace is free for a new CONNECT. */
  unlinked(link: NamespaceLink): void;
}

/** What a reauth request is answered with: a Socket.IO client cannot hand over fresh credentials. */
const NO_REAUTH = { code: ErrorCode.Unauthorized, message: 'a Socket.IO client cannot send fresh credentials; it reconnects with new ones' };

/**
 * One namespace of a Socket.IO client, as the Switchboard session it is: a Transport whose
 * frames turn into Socket.IO packets on the Engine.IO connection (and back, by the
 * gateway). The session never knows: it handshakes, counts frames, resumes and ends as it
 * would on a WebSocket.
 */
export class NamespaceLink implements Transport {
  private handlers: TransportHandlers | undefined;
  private early: string[] | undefined;
  private closed = false;
  private welcomed = false;
  /** A CONNECT_ERROR (or DISCONNECT) told the client already: the close sends nothing more. */
  private told = false;
  /** Frames of the session since its welcome, in the session's numbering. */
  private count = 0;
  /** The session's offset base on this node (see RecoveryLedger). */
  private base = 0;
  /** `count` when the outstanding ping was sent: what its pong proves received. */
  private pingMark = -1;
  private acked = 0;
  private pid: string | undefined;

  constructor(
    private readonly host: LinkHost,
    readonly nsp: string,
    /** The offset the client presented, as a number: the base if the session is taken over here. */
    private readonly presentedOffset: number,
    /** The count the hello presented as received: where a resumed session's numbering goes on. */
    private readonly presentedReceived: number,
  ) {}

  get kind(): string {
    return `socket.io/${this.host.engine.transport}`;
  }

  get resumePolicy(): ResumePolicy {
    return this.host.recovery ? 'stable-token' : 'none';
  }

  get bufferedAmount(): number {
    return this.host.engine.bufferedAmount;
  }

  get isOpen(): boolean {
    return !this.closed && this.host.engine.isOpen;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = undefined;
    if (early) for (const frame of early) handlers.onFrame(frame, this);
  }

  send(frame: string | SharedFrame): void {
    if (this.closed) return;
    const rendering = typeof frame === 'string' ? renderFrame(frame, this.nsp) : this.host.renderShared(frame, this.nsp);
    if (rendering.kind === 'welcome') {
      this.welcome(rendering.frame);
      return;
    }
    this.count++;
    const engine = this.host.engine;
    switch (rendering.kind) {
      case 'event':
        if (this.host.recovery) engine.sendText(closeEvent(rendering.open, this.offset()));
        else engine.sendText(typeof frame === 'string' ? closeEvent(rendering.open) : this.host.sharedEvent(frame, rendering.open));
        return;
      case 'binary-event':
        this.sendPacket(encodeBinaryEvent(rendering.args, this.nsp, this.host.recovery ? this.offset() : undefined));
        return;
      case 'packet':
        this.sendPacket(rendering.packet);
        return;
      case 'error':
        this.error(rendering.frame);
        return;
      case 'reauth': {
        const ref = rendering.ref;
        queueMicrotask(() => this.fromClient(JSON.stringify({ type: 'reply', ref, error: NO_REAUTH })));
        return;
      }
      case 'silent':
        return;
    }
  }

  ping(): void {
    this.host.engine.ping();
  }

  /** The server ends the client's socket in this namespace. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.end();
    if (this.welcomed && !this.told) {
      // A close the client should come back from (shutdown, a slow consumer, a dead link) ends
      // the connection, so socket.io-client reconnects (and recovers); any other is final.
      if (CLOSE_CODE_RULES[code as CloseCode]?.[1] === true) this.host.engine.close();
      else this.host.engine.sendText(disconnectPacket(this.nsp));
    }
    queueMicrotask(() => this.handlers?.onClose(code, reason, this));
  }

  terminate(): void {
    if (this.closed) return;
    this.end();
    // The session found the peer dead: so is the Engine.IO connection under it.
    this.host.engine.terminate();
  }

  // --- from the gateway ------------------------------------------------------------------

  /** A native frame made of a client's packet. */
  fromClient(frame: string): void {
    if (this.closed) return;
    if (this.handlers) this.handlers.onFrame(frame, this);
    else (this.early ??= []).push(frame);
  }

  /** The client left the namespace (its DISCONNECT). */
  clientLeft(): void {
    if (this.closed) return;
    this.end();
    this.handlers?.onClose(CloseCode.Normal, 'client namespace disconnect', this);
  }

  /** The Engine.IO connection ended. */
  lost(reason: string): void {
    if (this.closed) return;
    this.end();
    this.handlers?.onClose(CloseCode.Abnormal, reason, this);
  }

  pingSent(): void {
    if (this.welcomed) this.pingMark = this.count;
  }

  pong(): void {
    if (this.closed) return;
    this.handlers?.onPong(this);
    if (this.pingMark > this.acked) {
      // What the client proved it received: the session may let go of it, and a recovery counts from it.
      this.acked = this.pingMark;
      if (this.pid !== undefined) this.host.ledger.set(this.pid, this.base, this.acked);
      this.fromClient(`{"type":"ack","received":${this.acked}}`);
    }
  }

  // ---------------------------------------------------------------------------------------

  private welcome(frame: WelcomeFrame): void {
    this.welcomed = true;
    if (frame.resumed) {
      this.count = this.presentedReceived;
      this.base = this.host.ledger.get(frame.resume ?? '')?.base ?? 0;
    } else {
      // A new session counts from 0; one taken over from another node too, after the offset the client had.
      this.count = 0;
      this.base = frame.restored ? this.presentedOffset : 0;
    }
    this.acked = this.count;
    this.pingMark = -1;
    const pid = this.host.recovery && frame.resume !== null ? frame.resume : undefined;
    this.pid = pid;
    if (pid !== undefined) this.host.ledger.set(pid, this.base, this.acked);
    this.host.engine.sendText(connectAnswer(this.nsp, frame.sid, pid));
    // A pong soon proves the client got the answer: the session is in use, and what follows can be let go of.
    this.host.engine.ping();
  }

  private error(frame: ErrorFrame): void {
    if (!this.welcomed) {
      // The handshake failed; a close follows.
      this.told = true;
      const unknown = frame.code === ErrorCode.BadHandshake && frame.message.startsWith('unknown namespace');
      const data: Record<string, unknown> = { code: unknown ? ErrorCode.UnknownNamespace : frame.code };
      if (frame.details !== undefined) data.details = frame.details;
      this.host.engine.sendText(connectError(this.nsp, unknown ? 'Invalid namespace' : frame.message, data));
      return;
    }
    const body: Record<string, unknown> = { code: frame.code, message: frame.message };
    if (frame.details !== undefined) body.details = frame.details;
    this.host.engine.sendText(closeEvent(openEvent(this.nsp, ['error', body]), this.host.recovery ? this.offset() : undefined));
  }

  private sendPacket(packet: EncodedSocketPacket): void {
    const engine = this.host.engine;
    engine.sendText(packet[0]);
    for (let i = 1; i < packet.length; i++) {
      const attachment = packet[i] as Uint8Array | ArrayBuffer;
      engine.sendBinary(attachment instanceof Uint8Array ? attachment : new Uint8Array(attachment));
    }
  }

  /** The offset of the frame just counted, as the client will present it. */
  private offset(): string {
    return String(this.base + this.count);
  }

  private end(): void {
    this.closed = true;
    this.host.unlinked(this);
  }
}
