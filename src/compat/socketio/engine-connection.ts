/**
 * One Engine.IO v4 connection: its packets in order on whichever transport carries it
 * (long-polling, then WebSocket once the client upgrades), its heartbeat, and its close.
 * It knows nothing of Socket.IO: message packets go to the handlers as they are.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import type { AnswerTarget } from '../../transport/http-answer.js';
import { closeAfterAnswer } from '../../transport/http-body.js';
import type { SharedFrame } from '../../transport/shared-frame.js';
import type { TransportRequestInfo } from '../../transport/transport.js';
import type { WebSocketTransport } from '../../transport/websocket.js';
import { answerEngineError, engineRefusal, EngineErrorCode } from './engine-errors.js';
import { EngineHeartbeat, type EngineTimers } from './engine-heartbeat.js';
import { decodePacket, isEngineCodecError, type EnginePacket } from './engine-packets.js';
import { answerPostOk, decodePostPayload, HeldPoll, payloadOf, type PostBody, type QueuedPacket } from './engine-polling.js';
import type { EngineCloseReason, EngineConnection, EngineConnectionHandlers, EngineSettings, EngineTransportName } from './engine-ports.js';
import { UpgradeProbe } from './engine-upgrade.js';

export interface EngineSocketHost {
  readonly settings: EngineSettings;
  readonly timers: EngineTimers;
  reportError(err: unknown, context: Record<string, unknown>): void;
  /** A POST body over `maxPayload` closed the connection (answered 413): for the server's count of refusals. */
  tooBig(socket: EngineSocket): void;
  /** The connection closed (its onClose is called); its close packet may still wait for a poll. */
  closed(socket: EngineSocket): void;
  /** The connection is over, and no request reaches it any more (once its last poll took its close, when it had to wait for one). */
  ended(socket: EngineSocket): void;
}

/**
 * How a connection ends on the wire: `goodbye` sends a close packet after what was queued
 * (engine.io's orderly close), `quiet` only lets a held poll go (with a noop) and closes a
 * WebSocket, `drop` cuts both at once.
 */
type Ending = 'goodbye' | 'quiet' | 'drop';

const CLOSE_PACKET = '1';
const PING_PACKET = '2';
const PONG_PACKET = '3';
const NOOP_PACKET = '6';

/** WebSocket close codes after which the transport failed, rather than closed (engine.io: 'transport error'). */
const FAILED_WS_CODES: ReadonlySet<number> = new Set([1002, 1007, 1009]);

export class EngineSocket implements EngineConnection {
  private carrier: EngineTransportName;
  private ws: WebSocketTransport | undefined;
  private readonly poll = new HeldPoll(() => this.finish('transport error', 'drop'));
  /** Packets for the next poll, in order (polling only). */
  private outbox: QueuedPacket[] = [];
  private outboxBytes = 0;
  private flushQueued = false;
  private state: 'open' | 'closed' | 'ended' = 'open';
  /** While the close packet waits for the client's next poll. */
  private lingerTimer: unknown;
  private handlers: EngineConnectionHandlers | undefined;
  private early: (string | Uint8Array)[] = [];
  private closedAs: EngineCloseReason | undefined;
  private probe: UpgradeProbe | undefined;
  private readonly heartbeat: EngineHeartbeat;
  /** A POST body is being read (engine.io refuses a second one at the same time). */
  private receiving = false;

  constructor(
    readonly id: string,
    readonly info: TransportRequestInfo,
    ws: WebSocketTransport | undefined,
    private readonly host: EngineSocketHost,
  ) {
    this.carrier = ws ? 'websocket' : 'polling';
    if (ws) this.carryOn(ws);
    this.heartbeat = new EngineHeartbeat(host.settings, host.timers, {
      ping: () => {
        this.push(PING_PACKET);
        this.call('onPingSent');
      },
      pong: () => this.call('onPong'),
      // A peer that does not answer is not waited for (a WebSocket close handshake would hold its socket for 30 s).
      timedOut: () => this.finish('ping timeout', 'drop'),
    });
    this.heartbeat.start();
  }

  get transport(): EngineTransportName {
    return this.carrier;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Bytes queued and not yet handed to the network (polling: text counted by its length). */
  get bufferedAmount(): number {
    return this.carrier === 'websocket' ? (this.ws as WebSocketTransport).bufferedAmount : this.outboxBytes;
  }

  /** A WebSocket may take the connection over: it is open, polling, and not upgrading already. */
  get upgradable(): boolean {
    return this.state === 'open' && this.carrier === 'polling' && this.probe === undefined;
  }

  /** The connection is over but its close packet waits for a poll: requests still reach it. */
  get reachable(): boolean {
    return this.state !== 'ended';
  }

  attach(handlers: EngineConnectionHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = [];
    for (const data of early) this.call('onMessage', data);
    if (this.closedAs !== undefined) this.call('onClose', this.closedAs);
  }

  sendText(packet: string | SharedFrame): void {
    if (this.state !== 'open') return;
    if (this.carrier === 'websocket') (this.ws as WebSocketTransport).send(packet);
    else this.push(typeof packet === 'string' ? packet : packet.payload.toString());
  }

  sendBinary(data: Uint8Array): void {
    if (this.state !== 'open') return;
    if (this.carrier === 'websocket') (this.ws as WebSocketTransport).sendBinary(data);
    else this.push(data);
  }

  ping(): void {
    if (this.state === 'open') this.heartbeat.pingNow();
  }

  close(): void {
    this.finish('forced close', 'goodbye');
  }

  terminate(): void {
    this.finish('forced close', 'drop');
  }

  /** A poll relayed from another node reached a client that had left: its packets are lost, so the connection cannot go on in order. */
  pollLost(): void {
    this.finish('transport error', 'drop');
  }

  /** The server shuts down: a close packet, then the transport. */
  shutdown(): void {
    this.finish('server shutting down', 'goodbye');
  }

  /** A GET for this connection (from this node or relayed from another). The caller checked it is polling. */
  pollRequest(res: AnswerTarget): void {
    if (!this.poll.hold(res)) {
      // engine.io: "overlap from client" — the held poll gets the close packet, this one a 400.
      answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest, { code: ErrorCode.BadRequest, message: 'a poll is pending on this connection already; polls must not overlap' }));
      this.finish('transport error', 'goodbye');
      return;
    }
    if (this.state === 'closed') this.flush(false);
    else if (this.probe?.probed) this.flush(true);
    else if (this.outbox.length > 0) this.queueFlush();
  }

  /** A POST body is being read for this connection; false when one is already (the caller refuses this one). */
  startReceiving(): boolean {
    if (this.receiving) return false;
    this.receiving = true;
    return true;
  }

  /** A POST for this connection, its body read (here or on the node it arrived at). */
  postRequest(body: PostBody, res: AnswerTarget): void {
    this.receiving = false;
    if (this.state !== 'open') {
      // Closing: what the client says now is not read (engine.io ignores packets once closing).
      answerPostOk(res);
      return;
    }
    const max = this.host.settings.maxPayload;
    switch (body.kind) {
      case 'aborted':
        // Packets were lost on the way: the connection cannot go on in order.
        this.finish('transport error', 'goodbye');
        return;
      case 'binary-content':
        answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest, { code: ErrorCode.BadRequest, message: 'Engine.IO v4 payloads are text (binary messages as b + base64), not application/octet-stream' }));
        this.finish('transport error', 'goodbye');
        return;
      case 'too-big':
        this.host.tooBig(this);
        closeAfterAnswer(res);
        answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest, { code: ErrorCode.MessageTooBig, message: `the body is larger than maxPayload (${max} bytes); the connection is closed` }, 413));
        this.finish('transport error', 'goodbye');
        return;
      case 'not-utf8':
        answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest, { code: ErrorCode.BadRequest, message: 'the body is not valid UTF-8; the connection is closed' }));
        this.finish('parse error', 'goodbye');
        return;
      case 'text': {
        const packets = decodePostPayload(body.text, max);
        if (isEngineCodecError(packets)) {
          answerEngineError(res, engineRefusal(EngineErrorCode.BadRequest, { code: ErrorCode.BadRequest, message: `a malformed payload (${packets.message}); the connection is closed` }));
          this.finish('parse error', 'goodbye');
          return;
        }
        for (const packet of packets) {
          if (this.state !== 'open') break;
          this.receive(packet);
        }
        answerPostOk(res);
      }
    }
  }

  /** A WebSocket with this connection's sid: it may take the connection over (see engine-upgrade.ts). False when it may not. */
  beginUpgrade(ws: WebSocketTransport): boolean {
    if (!this.upgradable) return false;
    this.probe = new UpgradeProbe(ws, this.host.settings.upgradeTimeout, this.host.timers, {
      probed: () => this.flush(true),
      upgraded: (carrier) => this.upgraded(carrier),
      abandoned: () => {
        this.probe = undefined;
      },
    });
    return true;
  }

  private upgraded(ws: WebSocketTransport): void {
    this.probe = undefined;
    if (this.state !== 'open') {
      ws.close(1000, '');
      return;
    }
    // The client stopped polling before it sent `5`; a poll still held is let go empty.
    this.poll.answer(NOOP_PACKET);
    this.carrier = 'websocket';
    this.carryOn(ws);
    const waiting = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    for (const packet of waiting) this.write(ws, packet);
  }

  /** `ws` carries the connection from now on. */
  private carryOn(ws: WebSocketTransport): void {
    this.ws = ws;
    ws.attach({
      onFrame: (data) => {
        const packet = decodePacket(data);
        if (isEngineCodecError(packet)) this.finish('parse error', 'goodbye');
        else this.receive(packet);
      },
      onPong: () => {},
      onClose: (code) => this.finish(FAILED_WS_CODES.has(code) ? 'transport error' : 'transport close', 'quiet'),
    });
  }

  private write(ws: WebSocketTransport, packet: QueuedPacket): void {
    if (typeof packet === 'string') ws.send(packet);
    else ws.sendBinary(packet);
  }

  /** One packet from the client, on whichever transport. */
  private receive(packet: EnginePacket): void {
    if (this.state !== 'open') return;
    if (packet.type !== 'pong') this.heartbeat.activity();
    switch (packet.type) {
      case 'message':
        if (this.handlers) this.call('onMessage', packet.data ?? '');
        else this.early.push(packet.data ?? '');
        return;
      case 'pong':
        this.heartbeat.pong();
        return;
      case 'ping':
        this.push(PONG_PACKET + (packet.data ?? ''));
        return;
      case 'close':
        this.finish('transport close', 'quiet');
        return;
      case 'open':
        // Only the server opens.
        this.finish('parse error', 'goodbye');
        return;
      default:
        // `upgrade` on the transport that carries the connection already, `noop`: nothing to do (as engine.io).
        return;
    }
  }

  /** Queue a packet for the client on the current transport. */
  private push(packet: QueuedPacket): void {
    if (this.carrier === 'websocket') {
      this.write(this.ws as WebSocketTransport, packet);
      return;
    }
    this.outbox.push(packet);
    this.outboxBytes += packet.length;
    if (this.poll.holding) this.queueFlush();
  }

  /** Packets queued in one turn leave in one poll answer. */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush(false);
    });
  }

  /** Answer the held poll with the queued packets (or a noop when `evenEmpty`). */
  private flush(evenEmpty: boolean): void {
    if (!this.poll.holding) return;
    if (this.outbox.length === 0) {
      if (evenEmpty) this.poll.answer(NOOP_PACKET);
      return;
    }
    const payload = payloadOf(this.outbox);
    this.outbox = [];
    this.outboxBytes = 0;
    if (typeof payload !== 'string') {
      this.host.reportError(new Error(`an Engine.IO packet cannot travel by long-polling: ${payload.message}`), { phase: 'engine.io polling', sid: this.id });
      this.finish('transport error', 'drop');
      return;
    }
    this.poll.answer(payload);
    if (this.state === 'closed') this.end();
  }

  private finish(reason: EngineCloseReason, ending: Ending): void {
    if (this.state !== 'open') {
      // A lingering close whose poll went away: nothing more to wait for.
      if (this.state === 'closed' && ending === 'drop') this.end();
      return;
    }
    this.state = 'closed';
    this.host.closed(this);
    this.heartbeat.stop();
    this.probe?.cancel();
    this.probe = undefined;
    this.closedAs = reason;
    if (this.carrier === 'websocket') {
      const ws = this.ws as WebSocketTransport;
      if (ending === 'drop') ws.terminate();
      else {
        if (ending === 'goodbye') ws.send(CLOSE_PACKET);
        ws.close(1000, '');
      }
      this.end();
    } else if (ending === 'goodbye') {
      this.outbox.push(CLOSE_PACKET);
      if (this.poll.holding) this.flush(false);
      else this.linger();
    } else {
      if (ending === 'quiet') this.poll.answer(NOOP_PACKET);
      else this.poll.drop();
      this.end();
    }
    this.call('onClose', reason);
  }

  /** Keep the close packet for the client's next poll, for as long as a live client takes to poll again. */
  private linger(): void {
    const { pingInterval, pingTimeout } = this.host.settings;
    this.lingerTimer = this.host.timers.setTimeout(() => this.end(), pingInterval + pingTimeout);
  }

  private end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.host.timers.clearTimeout(this.lingerTimer);
    this.outbox = [];
    this.outboxBytes = 0;
    this.host.ended(this);
  }

  /** Call a handler; one that throws is reported, never let into the request or socket that carried the packet. */
  private call<K extends keyof EngineConnectionHandlers>(name: K, ...args: Parameters<EngineConnectionHandlers[K]>): void {
    const handlers = this.handlers;
    if (!handlers) return;
    try {
      (handlers[name] as (...a: Parameters<EngineConnectionHandlers[K]>) => void)(...args);
    } catch (err) {
      this.host.reportError(err, { phase: `engine.io ${name}`, sid: this.id });
    }
  }
}
