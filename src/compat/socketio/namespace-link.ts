import { CLOSE_CODE_RULES, CloseCode } from '../../protocol/close-codes.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ErrorFrame, StreamPosition, WelcomeFrame } from '../../protocol/frames.js';
import { SharedFrame } from '../../transport/shared-frame.js';
import type { ResumePolicy, Transport, TransportHandlers } from '../../transport/transport.js';
import type { EngineConnection } from './engine-ports.js';
import type { RecoveryLedger } from './recovery-ledger.js';
import { type PresentedOffset, SeenPositions } from './recovery-offsets.js';
import {
  closeEvent,
  connectAnswer,
  connectError,
  disconnectPacket,
  encodeBinaryEvent,
  openEvent,
  type Publication,
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
  /** The link ended (either side): the namespace is free for a new CONNECT. */
  unlinked(link: NamespaceLink): void;
}

/** The refs of the requests a link makes for its client (rejoins after a takeover), counted down from the top of the ref space, far from a client's own ack ids. */
const FIRST_OWN_REF = Number.MAX_SAFE_INTEGER;

/** A durable room joined again after a takeover, and its live events that wait for the replay. */
interface Rejoin {
  room: string;
  held: { rendering: Publication & Rendering; frame: string | SharedFrame }[];
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
  /** The last position the client saw in each durable room: what its offsets carry, and what drops a publication seen twice. */
  private readonly positions = new SeenPositions();
  /**
   * Rooms being rejoined after a takeover, by the ref of the join: their live events wait
   * until the replay of the gap before them is through.
   */
  private rejoins: Map<number, Rejoin> | undefined;
  private nextRef = FIRST_OWN_REF;

  constructor(
    private readonly host: LinkHost,
    readonly nsp: string,
    /** The offset the client presented (recovery): its base and positions serve a takeover. */
    private readonly presented: PresentedOffset | undefined,
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
    switch (rendering.kind) {
      case 'event':
      case 'binary-event':
        this.publish(rendering, frame);
        return;
      case 'position':
        if (this.host.recovery && !this.positions.seen(rendering.room, rendering.position)) this.positions.set(rendering.room, rendering.position);
        return;
      case 'reply':
        if (rendering.ref > this.nextRef) this.rejoined(rendering.ref, rendering.data);
        else this.sendPacket(rendering.packet);
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

  /**
   * Engine.IO's own heartbeat watches the connection (it closes one whose pong does not
   * come within pingTimeout, and then this link is lost): while it is open, the peer is alive.
   * No extra ping goes out, so the client sees Engine.IO's heartbeat and nothing else.
   */
  ping(): void {
    if (this.isOpen) this.handlers?.onPong(this);
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

  /** An event: with its offset (recovery), and not twice (a publication a rejoin replays again). */
  private publish(rendering: Publication & Rendering, frame: string | SharedFrame): void {
    const { room, position } = rendering;
    // Positions serve recovery only (offsets, rejoins after a takeover): without it nothing is tracked.
    if (room !== undefined && position !== undefined && this.host.recovery) {
      if (this.rejoins !== undefined && this.holdFor(room, rendering, frame)) return;
      if (this.positions.seen(room, position)) return;
      this.positions.set(room, position);
    }
    const offset = this.host.recovery ? this.positions.offset(this.base + this.count) : undefined;
    if (rendering.kind === 'binary-event') {
      this.sendPacket(encodeBinaryEvent(rendering.args, this.nsp, offset));
    } else if (rendering.kind === 'event') {
      const engine = this.host.engine;
      if (offset !== undefined || typeof frame === 'string') engine.sendText(closeEvent(rendering.open, offset));
      else engine.sendText((rendering.plain ??= new SharedFrame(closeEvent(rendering.open))));
    }
  }

  /** Whether a live event of `room` waits behind the room's rejoin (a takeover). */
  private holdFor(room: string, rendering: Publication & Rendering, frame: string | SharedFrame): boolean {
    for (const rejoin of (this.rejoins as Map<number, Rejoin>).values()) {
      if (rejoin.room !== room) continue;
      rejoin.held.push({ rendering, frame });
      return true;
    }
    return false;
  }

  /**
   * Taken over from a node that died: the frames it sent are gone, so each durable room the
   * client's offset names is joined again from the position the client saw, and its gap
   * replayed, before its live events go on.
   */
  private rejoin(positions: Map<string, StreamPosition>): void {
    if (positions.size === 0) return;
    this.rejoins = new Map();
    for (const [room, since] of positions) {
      this.positions.set(room, since);
      const ref = this.nextRef--;
      this.rejoins.set(ref, { room, held: [] });
      this.fromClient(JSON.stringify({ type: 'join', ref, ns: this.nsp, room, since }));
    }
  }

  /**
   * A rejoin's answer: the replay is through. What came meanwhile — live publications that
   * the new node delivered before it processed the join, then the replay of the gap, which
   * may overlap them — goes out in the room's order, each publication once.
   */
  private rejoined(ref: number, answer: unknown): void {
    const rejoin = this.rejoins?.get(ref);
    if (!rejoin) return;
    this.rejoins?.delete(ref);
    if (this.rejoins?.size === 0) this.rejoins = undefined;
    if ((answer as { recovered?: unknown } | undefined)?.recovered === false) {
      // The gap is gone from the room's history: never a silent hole — the client is told, and goes on from here.
      const message = `the publications of room "${rejoin.room}" missed while the session moved to another node are no longer in its history: reload the room's state`;
      this.errorEvent({ code: ErrorCode.Unrecoverable, message, room: rejoin.room });
    }
    // Stable: publications of another epoch (the room's history was lost) keep their arrival order, after the others.
    const epoch = this.positions.get(rejoin.room)?.epoch;
    const ordered = rejoin.held
      .map((held, arrival) => ({ held, arrival, offset: held.rendering.position?.epoch === epoch ? (held.rendering.position?.offset ?? 0) : Number.MAX_SAFE_INTEGER }))
      .sort((a, b) => a.offset - b.offset || a.arrival - b.arrival);
    for (const { held } of ordered) this.publish(held.rendering, held.frame);
  }

  private welcome(frame: WelcomeFrame): void {
    this.welcomed = true;
    if (frame.resumed) {
      this.count = this.presentedReceived;
      this.base = this.host.ledger.get(frame.resume ?? '')?.base ?? 0;
    } else {
      // A new session counts from 0; one taken over from another node too, after the offset the client had.
      this.count = 0;
      this.base = frame.restored ? (this.presented?.count ?? 0) : 0;
    }
    // What the client saw goes on from its offset (a resume replays the rest; a takeover rejoins).
    if (frame.resumed || frame.restored) for (const [room, position] of this.presented?.positions ?? []) this.positions.set(room, position);
    this.acked = this.count;
    this.pingMark = -1;
    const pid = this.host.recovery && frame.resume !== null ? frame.resume : undefined;
    this.pid = pid;
    if (pid !== undefined) this.host.ledger.set(pid, this.base, this.acked);
    this.host.engine.sendText(connectAnswer(this.nsp, frame.sid, pid));
    // The session is in use (a Socket.IO client acknowledges nothing itself): it is kept the
    // whole resume TTL, not the short one of a connection abandoned after its handshake. The
    // count was acknowledged already (by the hello, or is 0).
    if (pid !== undefined) this.fromClient(`{"type":"ack","received":${this.count}}`);
    if (frame.restored && this.presented) this.rejoin(this.presented.positions);
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
    this.errorEvent(body);
  }

  /** An `error` event: what a native client would get as an `error` frame. */
  private errorEvent(body: Record<string, unknown>): void {
    this.host.engine.sendText(closeEvent(openEvent(this.nsp, ['error', body]), this.host.recovery ? this.positions.offset(this.base + this.count) : undefined));
  }

  private sendPacket(packet: EncodedSocketPacket): void {
    const engine = this.host.engine;
    engine.sendText(packet[0]);
    for (let i = 1; i < packet.length; i++) {
      const attachment = packet[i] as Uint8Array | ArrayBuffer;
      engine.sendBinary(attachment instanceof Uint8Array ? attachment : new Uint8Array(attachment));
    }
  }

  private end(): void {
    this.closed = true;
    this.host.unlinked(this);
  }
}
