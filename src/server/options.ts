import type { StreamStore } from '../delivery/stream-store.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_PATH,
} from '../protocol/constants.js';

export interface SwitchboardOptions {
  /** HTTP path of the WebSocket endpoint. Default `/ws`. */
  path?: string;
  heartbeat?: {
    /** Milliseconds between pings. Default 25000. */
    interval?: number;
    /** Extra silence tolerated after `interval` before a peer is dropped. Default 20000. */
    timeout?: number;
  };
  /** Largest incoming frame in bytes; larger ones close the connection with 1009. Default 65536. */
  maxMessageBytes?: number;
  /** Milliseconds a new connection has to send its hello. Default 10000. */
  handshakeTimeout?: number;
  /** Default timeout of `emitWithAck` to clients, in milliseconds. Default 10000. */
  ackTimeout?: number;
  /** Frames a connection may queue behind a pending handshake, connect or join. Default 256. */
  maxQueuedFrames?: number;
  /** Enable permessage-deflate. Default false: it costs hundreds of KiB per connection. */
  perMessageDeflate?: boolean;
  /**
   * Serve the browser client at `/switchboard/client.js` and `/switchboard/client-<version>.js`
   * (with source maps), so pages can import it with no build step. Default true.
   */
  serveClient?: boolean;
  /**
   * Unsent bytes a connection may hold while it is in a durable room; past it the
   * connection is closed with 4009 and the client recovers from history. Default 1 MiB.
   */
  maxBufferedBytes?: number;
  /** Where durable rooms keep their streams. Default: in this process's memory (lost on restart). */
  streams?: StreamStore;
  /**
   * Session resume: a connection that drops without a close (network loss, missed
   * heartbeats) keeps its session — id, namespaces, rooms, pending replies — for `ttl` ms,
   * and a client that comes back with its resume token and its count of received frames
   * gets every frame after that count again (`resumed: true`). Frames are kept until the
   * client acknowledges them, up to `maxUnackedFrames` / `maxUnackedBytes`; a resume from
   * before the oldest kept frame is refused (`resumed: false`). `false` turns resume off.
   * Defaults: ttl 120000, 1000 frames, 1 MiB.
   */
  resume?: { ttl?: number; maxUnackedFrames?: number; maxUnackedBytes?: number } | false;
  /** Reliable publishes remembered per session for deduplication. Default 1000. */
  dedupeWindow?: number;
}

export interface ResolvedOptions {
  path: string;
  heartbeat: { interval: number; timeout: number };
  maxMessageBytes: number;
  handshakeTimeout: number;
  ackTimeout: number;
  maxQueuedFrames: number;
  perMessageDeflate: boolean;
  serveClient: boolean;
  maxBufferedBytes: number;
  /** ttl 0: resume is off. */
  resume: { ttl: number; maxUnackedFrames: number; maxUnackedBytes: number };
  dedupeWindow: number;
}

export function resolveOptions(options: SwitchboardOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    path: options.path ?? DEFAULT_PATH,
    heartbeat: {
      interval: options.heartbeat?.interval ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      timeout: options.heartbeat?.timeout ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    },
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    handshakeTimeout: options.handshakeTimeout ?? 10_000,
    ackTimeout: options.ackTimeout ?? 10_000,
    maxQueuedFrames: options.maxQueuedFrames ?? 256,
    perMessageDeflate: options.perMessageDeflate ?? false,
    serveClient: options.serveClient ?? true,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    resume: {
      ttl: options.resume === false ? 0 : (options.resume?.ttl ?? 120_000),
      maxUnackedFrames: (options.resume || undefined)?.maxUnackedFrames ?? 1000,
      maxUnackedBytes: (options.resume || undefined)?.maxUnackedBytes ?? 1024 * 1024,
    },
    dedupeWindow: options.dedupeWindow ?? 1000,
  };
  const positive: [string, number][] = [
    ['heartbeat.interval', resolved.heartbeat.interval],
    ['heartbeat.timeout', resolved.heartbeat.timeout],
    ['maxMessageBytes', resolved.maxMessageBytes],
    ['handshakeTimeout', resolved.handshakeTimeout],
    ['ackTimeout', resolved.ackTimeout],
    ['maxQueuedFrames', resolved.maxQueuedFrames],
    ['maxBufferedBytes', resolved.maxBufferedBytes],
    ['resume.maxUnackedFrames', resolved.resume.maxUnackedFrames],
    ['resume.maxUnackedBytes', resolved.resume.maxUnackedBytes],
    ['dedupeWindow', resolved.dedupeWindow],
  ];
  for (const [name, value] of positive) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`Switchboard option ${name} must be a positive number, got ${value}`);
  }
  if (!(resolved.resume.ttl >= 0) || !Number.isFinite(resolved.resume.ttl)) {
    throw new RangeError(`Switchboard option resume.ttl must be 0 (off) or a positive number, got ${resolved.resume.ttl}`);
  }
  if (!resolved.path.startsWith('/')) throw new RangeError(`Switchboard option path must start with "/", got "${resolved.path}"`);
  return resolved;
}
