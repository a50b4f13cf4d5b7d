import type { EngineSettings, EngineTransportName } from './engine-settings.js';

/**
 * The Socket.IO front door (server option `socketIo`): Engine.IO v4 and Socket.IO v5 on
 * the same HTTP server, so an unchanged `socket.io-client` connects to Switchboard.
 */
export interface SocketIoOptions {
  /** Where it answers. Default `'/socket.io/'` (socket.io-client's default `path`). */
  path?: string;
  /** Engine.IO transports clients may use. Default `['polling', 'websocket']`. */
  transports?: readonly EngineTransportName[];
  /** Milliseconds between the server's pings. Default: the server's `heartbeat.interval` (25000). */
  pingInterval?: number;
  /** Milliseconds a client has to answer a ping. Default: the server's `heartbeat.timeout` (20000). */
  pingTimeout?: number;
  /** Largest polling request body and WebSocket message, in bytes. Default: the server's `maxMessageBytes` (65536). */
  maxPayload?: number;
  /** Milliseconds a polling client has to complete its upgrade to WebSocket. Default 10000. */
  upgradeTimeout?: number;
  /** Most binary attachments one packet may carry. Default 10. */
  maxAttachments?: number;
  /**
   * Connection state recovery, as Socket.IO's `connectionStateRecovery`: a client that lost
   * its connection gets back its socket (same `socket.id`, rooms, `data`) and every event it
   * missed, on any node, within the server's `resume.ttl`. Events to the client then carry one
   * more argument, the offset. Default `false`, as in Socket.IO.
   */
  recovery?: boolean;
}

/** SocketIoOptions with every default filled in. */
export interface ResolvedSocketIoOptions extends EngineSettings {
  maxAttachments: number;
  recovery: boolean;
}

/** What the defaults come from. */
export interface SocketIoDefaults {
  heartbeat: { interval: number; timeout: number };
  maxMessageBytes: number;
}

const OPTION_NAMES = ['path', 'transports', 'pingInterval', 'pingTimeout', 'maxPayload', 'upgradeTimeout', 'maxAttachments', 'recovery'];

/** Resolve the `socketIo` server option; undefined when the front door is off. Throws TypeError/RangeError on a bad value. */
export function resolveSocketIoOptions(option: boolean | SocketIoOptions | undefined, defaults: SocketIoDefaults): ResolvedSocketIoOptions | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) throw new TypeError('Switchboard option socketIo must be true, false or an object of options');
  const given: SocketIoOptions = option === true ? {} : option;
  for (const name of Object.keys(given)) {
    if (!OPTION_NAMES.includes(name)) throw new TypeError(`unknown Switchboard option socketIo.${name}; known: ${OPTION_NAMES.join(', ')}`);
  }
  let path = given.path ?? '/socket.io/';
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`Switchboard option socketIo.path must start with "/", got ${String(path)}`);
  if (!path.endsWith('/')) path += '/';
  const transports = given.transports ?? ['polling', 'websocket'];
  if (!Array.isArray(transports) || transports.length === 0 || transports.some((t) => t !== 'polling' && t !== 'websocket')) {
    throw new TypeError(`Switchboard option socketIo.transports must list 'polling' and/or 'websocket', got ${JSON.stringify(transports)}`);
  }
  const resolved: ResolvedSocketIoOptions = {
    path,
    transports: [...new Set(transports)],
    pingInterval: positive('pingInterval', given.pingInterval ?? defaults.heartbeat.interval),
    pingTimeout: positive('pingTimeout', given.pingTimeout ?? defaults.heartbeat.timeout),
    maxPayload: positive('maxPayload', given.maxPayload ?? defaults.maxMessageBytes),
    upgradeTimeout: positive('upgradeTimeout', given.upgradeTimeout ?? 10_000),
    maxAttachments: positive('maxAttachments', given.maxAttachments ?? 10),
    recovery: given.recovery ?? false,
  };
  if (typeof resolved.recovery !== 'boolean') throw new TypeError('Switchboard option socketIo.recovery must be a boolean');
  return resolved;
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Switchboard option socketIo.${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
