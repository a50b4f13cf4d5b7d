import type { SharedFrame } from '../transport/shared-frame.js';
import type { ResumePolicy, Transport, TransportHandlers, TransportRequestInfo } from '../transport/transport.js';
import type { SwitchboardOptions, TracedSession } from './options.js';
import type { ServerLog } from './server-log.js';

/** The `DEBUG` name that turns frame tracing on, as the `debug` package's users write it. */
export const TRACE_DEBUG_NAME = 'switchboard:frames';

/** What replaces a credential in a traced frame. */
const REDACTED = '[redacted]';

/**
 * Frame tracing (option `traceFrames`, `DEBUG=switchboard:frames`): a session chosen for it
 * gets its transport wrapped at its start, and the wrapper writes every frame in and out.
 * Sessions not traced keep their transport as it is, so with tracing off nothing on any
 * path checks for it. With a `traceFrames` function each session is decided at its hello
 * (the first frame); the sessions it declines keep the wrapper, which then only forwards.
 */
export class FrameTracer {
  private constructor(
    private readonly log: ServerLog,
    private readonly choose: ((session: TracedSession) => boolean) | undefined,
  ) {}

  /** The tracer the options and `DEBUG` ask for; undefined when tracing is off (the default). */
  static fromOptions(option: SwitchboardOptions['traceFrames'], debug: string | undefined, log: ServerLog): FrameTracer | undefined {
    if (option !== undefined && typeof option !== 'boolean' && typeof option !== 'function') {
      throw new TypeError(`Switchboard option traceFrames must be a boolean or a function (session) => boolean, got ${typeof option}`);
    }
    if (option === true || debugWants(debug, TRACE_DEBUG_NAME)) return new FrameTracer(log, undefined);
    return typeof option === 'function' ? new FrameTracer(log, option) : undefined;
  }

  /** The transport a new session gets: this one, wrapped to write its frames. */
  wrap(transport: Transport, info: TransportRequestInfo): Transport {
    return new TracedTransport(transport, this, info.remoteAddress, this.choose === undefined ? true : undefined);
  }

  /** Whether to trace the session whose first frame is `first` (a `traceFrames` function decides; one that throws declines). */
  decide(session: string | undefined, transport: TracedTransport, address: string, first: string | Uint8Array): boolean {
    const hello = typeof first === 'string' ? parse(first) : undefined;
    const ns = hello !== undefined && typeof hello === 'object' && hello !== null && typeof (hello as { ns?: unknown }).ns === 'string' ? (hello as { ns: string }).ns : '/';
    try {
      return this.choose?.({ id: session ?? '', namespace: ns, transport: transport.kind, address }) === true;
    } catch {
      return false;
    }
  }

  /**
   * Refs of the `reauth` requests each session sent and whose reply has not come yet: that
   * reply's `data` is the client's fresh credentials, in whatever shape its `auth` has (a JWT
   * string, `{ jwt, password }`), so no key name gives it away. Kept per session (weakly) and
   * not per connection: a reply held across a resume arrives on the next one.
   */
  private readonly reauths = new WeakMap<object, Set<number>>();

  /** Write one frame: to `logger.debug`, or one line on stderr without a logger. `session` is the transport's handlers (the Session). */
  write(session: object | undefined, direction: 'in' | 'out', data: string | Uint8Array | SharedFrame): void {
    const frame = readable(data);
    if (session !== undefined && typeof frame === 'object' && frame !== null) this.guardReauth(session, direction, frame as { type?: unknown; ref?: unknown; data?: unknown });
    this.print(sessionId(session), direction, frame);
  }

  /** Remember an outgoing `reauth`'s ref; redact the `data` of the reply to it (then forget the ref). */
  private guardReauth(session: object, direction: 'in' | 'out', frame: { type?: unknown; ref?: unknown; data?: unknown }): void {
    if (typeof frame.ref !== 'number') return;
    if (direction === 'out' && frame.type === 'reauth') {
      let refs = this.reauths.get(session);
      if (refs === undefined) this.reauths.set(session, (refs = new Set()));
      refs.add(frame.ref);
    } else if (direction === 'in' && frame.type === 'reply' && this.reauths.get(session)?.delete(frame.ref) === true && 'data' in frame) {
      frame.data = REDACTED;
    }
  }

  private print(session: string | undefined, direction: 'in' | 'out', frame: unknown): void {
    const namespace = typeof frame === 'object' && frame !== null && typeof (frame as { ns?: unknown }).ns === 'string' ? (frame as { ns: string }).ns : '/';
    if (this.log.active) this.log.debug({ session, namespace, direction, frame }, 'frame');
    else process.stderr.write(`[switchboard] frame ${direction} session=${session ?? '-'} ns=${namespace} ${JSON.stringify(frame)}\n`);
  }
}

/**
 * A session's transport, writing each frame that passes. The session sees this object as
 * its transport (events carry it as `from`); the transport underneath sees it as the
 * session. `on` is undefined until a `traceFrames` function decided at the hello.
 */
class TracedTransport implements Transport, TransportHandlers {
  private handlers: TransportHandlers | undefined;

  constructor(
    private readonly inner: Transport,
    private readonly tracer: FrameTracer,
    private readonly address: string,
    private on: boolean | undefined,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }

  get resumePolicy(): ResumePolicy | undefined {
    return this.inner.resumePolicy;
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.inner.attach(this);
  }

  send(frame: string | SharedFrame): void {
    if (this.on === true) this.tracer.write(this.handlers, 'out', frame);
    this.inner.send(frame);
  }

  acceptBinary(): void {
    this.inner.acceptBinary?.();
  }

  ping(): void {
    this.inner.ping();
  }

  close(code: number, reason: string): void {
    this.inner.close(code, reason);
  }

  terminate(): void {
    this.inner.terminate();
  }

  onFrame(data: string | Uint8Array): void {
    this.on ??= this.tracer.decide(sessionId(this.handlers), this, this.address, data);
    if (this.on) this.tracer.write(this.handlers, 'in', data);
    this.handlers?.onFrame(data, this);
  }

  onPong(): void {
    this.handlers?.onPong(this);
  }

  onClose(code: number, reason: string): void {
    this.handlers?.onClose(code, reason, this);
  }
}

/** The session's id now (it changes when a takeover adopts another node's session). */
function sessionId(session: object | undefined): string | undefined {
  const id = (session as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** A frame as the trace shows it: parsed JSON with credentials redacted; binary data, and text that is not JSON, as their length. */
function readable(data: string | Uint8Array | SharedFrame): unknown {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) data = data.payload.toString();
  if (typeof data !== 'string') return { binaryBytes: data.byteLength };
  const parsed = parse(data);
  return parsed === undefined ? { textLength: data.length } : redact(parsed);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `auth` payloads, resume tokens and any field named `token` or `…token` (any case), at any depth. (A reauth reply's `data` is redacted by FrameTracer, which knows the refs.) */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = isCredential(key) && inner !== null ? REDACTED : redact(inner);
  return out;
}

function isCredential(key: string): boolean {
  return key === 'auth' || key === 'resume' || /token$/i.test(key);
}

/**
 * Whether a `DEBUG` value names `name`, as the `debug` package reads it: names separated by
 * commas or spaces, `*` matching anything, and a leading `-` excluding what it matches.
 */
export function debugWants(debug: string | undefined, name: string): boolean {
  if (!debug) return false;
  let wanted = false;
  for (const part of debug.split(/[\s,]+/)) {
    if (part === '' || part === '-') continue;
    const skip = part.startsWith('-');
    const pattern = new RegExp(`^${(skip ? part.slice(1) : part).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    if (!pattern.test(name)) continue;
    if (skip) return false;
    wanted = true;
  }
  return wanted;
}
