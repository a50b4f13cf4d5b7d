import type { SharedFrame } from '../../transport/shared-frame.js';
import type { Transport, TransportRequestInfo } from '../../transport/transport.js';
import type { EngineCloseReason, EngineConnection, EngineConnectionHandlers } from './engine-ports.js';
import { type LinkHost, NamespaceLink } from './namespace-link.js';
import type { RecoveryLedger } from './recovery-ledger.js';
import { parseOffset, type PresentedOffset } from './recovery-offsets.js';
import { type SocketPacket, SocketPacketDecoder, SocketPacketType } from './socket-packets.js';
import { eventFrame, type Rendering, renderFrame, replyFrame } from './socket-translation.js';

/** What the gateway needs of the front door. */
export interface GatewayHost {
  readonly recovery: boolean;
  readonly ledger: RecoveryLedger;
  /** Most binary attachments one packet may announce. */
  readonly maxAttachments: number;
  /** Start a Switchboard session on `transport` (the server's front-door port). */
  start(transport: Transport, info: TransportRequestInfo): void;
}

/** Renderings of broadcasts, once per shared frame whatever the number of Socket.IO recipients. */
const renderings = new WeakMap<SharedFrame, Rendering>();

/**
 * The Socket.IO v5 layer of one Engine.IO connection: decodes the client's packets, keeps
 * one NamespaceLink (one Switchboard session) per connected namespace, and routes packets
 * to them. A packet that breaks the protocol closes the connection, as Socket.IO does.
 */
export class SocketGateway implements EngineConnectionHandlers, LinkHost {
  private readonly links = new Map<string, NamespaceLink>();
  private readonly decoder: SocketPacketDecoder;

  constructor(
    readonly engine: EngineConnection,
    private readonly door: GatewayHost,
  ) {
    this.decoder = new SocketPacketDecoder({ maxAttachments: door.maxAttachments });
    engine.attach(this);
  }

  get recovery(): boolean {
    return this.door.recovery;
  }

  get ledger(): RecoveryLedger {
    return this.door.ledger;
  }

  // --- EngineConnectionHandlers ----------------------------------------------------------

  onMessage(data: string | Uint8Array): void {
    const step = this.decoder.add(data);
    if (step.kind === 'pending') return;
    if (step.kind === 'error') {
      this.engine.close();
      return;
    }
    this.packet(step.packet);
  }

  onPingSent(): void {
    for (const link of this.links.values()) link.pingSent();
  }

  onPong(): void {
    for (const link of this.links.values()) link.pong();
  }

  onClose(reason: EngineCloseReason): void {
    this.decoder.reset();
    for (const link of [...this.links.values()]) link.lost(reason);
  }

  // --- LinkHost -------------------------------------------------------------------------

  renderShared(frame: SharedFrame, nsp: string): Rendering {
    let rendering = renderings.get(frame);
    if (rendering === undefined) {
      rendering = renderFrame(frame.payload.toString(), nsp);
      renderings.set(frame, rendering);
    }
    return rendering;
  }

  unlinked(link: NamespaceLink): void {
    if (this.links.get(link.nsp) === link) this.links.delete(link.nsp);
  }

  // ---------------------------------------------------------------------------------------

  private packet(packet: SocketPacket): void {
    const link = this.links.get(packet.nsp);
    if (packet.type === SocketPacketType.CONNECT) {
      // A second CONNECT of a namespace it is in: Socket.IO closes the connection.
      if (link) this.engine.close();
      else this.connect(packet.nsp, packet.data as Record<string, unknown> | undefined);
      return;
    }
    if (!link) {
      // Socket.IO closes a connection that sends to a namespace it has not connected.
      this.engine.close();
      return;
    }
    switch (packet.type) {
      case SocketPacketType.EVENT:
      case SocketPacketType.BINARY_EVENT:
        link.fromClient(eventFrame(packet));
        return;
      case SocketPacketType.ACK:
      case SocketPacketType.BINARY_ACK:
        link.fromClient(replyFrame(packet));
        return;
      case SocketPacketType.DISCONNECT:
        link.clientLeft();
        return;
      default:
        // CONNECT_ERROR is the server's to send.
        this.engine.close();
    }
  }

  private connect(nsp: string, auth: Record<string, unknown> | undefined): void {
    const hello: Record<string, unknown> = { type: 'hello', v: 1, ns: nsp };
    if (auth !== undefined) hello.auth = auth;
    let presented: PresentedOffset | undefined;
    let received = 0;
    if (this.recovery && auth !== undefined && typeof auth.pid === 'string') {
      // No offset (or not one of ours): the client saw no event of the session.
      presented = parseOffset(auth.offset) ?? { count: this.ledger.get(auth.pid)?.base ?? 0, positions: new Map() };
      received = this.ledger.receivedFor(auth.pid, presented.count);
      hello.resume = auth.pid;
      hello.received = received;
    }
    const link = new NamespaceLink(this, nsp, presented, received);
    this.links.set(nsp, link);
    this.door.start(link, this.engine.info);
    link.fromClient(JSON.stringify(hello));
  }
}
