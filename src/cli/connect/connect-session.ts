/**
 * One `switchboard connect` session: the client SDK connected to the server, the commands
 * run on it, and every event, state change and result reported as a ConnectOutput. Both
 * front ends (interactive, --json) and -x drive this one object.
 */
import { connect } from '../../client/node.js';
import type { SwitchboardClient } from '../../client/client-events.js';
import type { TransportKind } from '../../client/client-transport.js';
import type { ClientOptions } from '../../client/options.js';
import { ACTION_NAMES, COMMAND_USAGE, type CommandId, type ConnectAction } from './actions.js';
import { errorInfo, type ConnectOutput } from './outputs.js';
import { configuredWebSocket, type WebSocketSettings } from './websocket-settings.js';

export interface ConnectSettings extends WebSocketSettings {
  url: string;
  auth?: unknown;
  namespace?: string;
  transports?: TransportKind[];
  /** Timeout of requests, joins and history reads, in ms. */
  ackTimeout?: number;
  /** false: stop after the first failure instead of reconnecting. */
  reconnect?: boolean;
}

export class ConnectSession {
  readonly client: SwitchboardClient;
  /** Event names given a handler that answers the server's requests (see answerRequests). */
  private readonly answered = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    readonly settings: ConnectSettings,
    private readonly report: (output: ConnectOutput) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    const options: ClientOptions = {
      WebSocket: configuredWebSocket(settings),
      ...(settings.auth !== undefined && { auth: settings.auth }),
      ...(settings.namespace !== undefined && { namespace: settings.namespace }),
      ...(settings.transports && { transports: settings.transports, upgrade: settings.transports.includes('websocket') }),
      ...(settings.ackTimeout !== undefined && { ackTimeout: settings.ackTimeout }),
      ...(settings.reconnect === false && { reconnect: false }),
    };
    this.client = connect(settings.url, options);
    const time = (): string => new Date().toISOString();
    // Every app event, whatever its name and transport, after the SDK's own processing
    // (room, position, duplicates of a durable replay dropped); never the lifecycle events.
    this.client.onAny((event, data, meta) => {
      this.answerRequests(event);
      this.report({
        type: 'event',
        time: time(),
        event,
        ...(data !== undefined && { data }),
        ...(meta.room !== undefined && { room: meta.room }),
        ...(meta.position && { position: meta.position }),
      });
    });
    this.client.on('state', (change) => {
      const connected = change.state === 'connected';
      this.report({
        type: 'state',
        time: time(),
        state: change.state,
        previous: change.previous,
        reason: change.reason,
        ...(change.closeCode !== undefined && { closeCode: change.closeCode }),
        ...(change.error && { error: errorInfo(change.error) }),
        ...(connected && this.client.id !== undefined && { id: this.client.id }),
        ...(connected && this.client.transport !== undefined && { transport: this.client.transport }),
        ...(connected && change.resumed !== undefined && { resumed: change.resumed }),
      });
    });
    this.client.on('reconnecting', (info) => this.report({ type: 'reconnecting', time: time(), attempt: info.attempt, delay: Math.round(info.delay), reason: info.reason }));
    this.client.on('presence', (p) => this.report({ type: 'presence', time: time(), room: p.room, kind: p.kind, user: p.user, info: p.info }));
    this.client.on('recovery', (r) => this.report({ type: 'recovery', time: time(), room: r.room, recovered: r.recovered, position: r.position }));
    this.client.on('error', (error) => this.report({ type: 'error', ...errorInfo(error) }));
  }

  /**
   * A request the server sends (socket.emitWithAck) is answered `null`: the tool shows it and
   * has nothing to answer, and the server's code goes on instead of failing with no_handler.
   * onAny runs before the per-event handlers, so the handler added here answers this very request.
   */
  private answerRequests(event: string): void {
    if (this.answered.has(event)) return;
    this.answered.add(event);
    this.client.on(event, () => null);
  }

  /**
   * Run one command; its result is reported (a `reply` or an `error`). Resolves when it is
   * settled. `quit` is the caller's business: it only gets its reply here.
   */
  run(action: ConnectAction, id?: CommandId): Promise<void> {
    const tag = { cmd: action.cmd, ...(id !== undefined && { id }) };
    const started = this.now();
    const elapsed = (): number => Math.round((this.now() - started) * 10) / 10;
    const settled = this.execute(action).then(
      (result) => this.report({ type: 'reply', ...tag, ...(result.data !== undefined && { data: result.data }), ...(result.timed && { ms: elapsed() }) }),
      (error: unknown) => this.report({ type: 'error', ...tag, ...errorInfo(error), ...(isRoundTrip(action) && { ms: elapsed() }) }),
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
    return settled;
  }

  /** Resolves when every command run so far is settled. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The state, session and rooms, as `status` reports them. */
  status(): Record<string, unknown> {
    const c = this.client;
    return {
      url: this.settings.url,
      namespace: c.namespace,
      state: c.state,
      ...(c.id !== undefined && { id: c.id }),
      ...(c.transport !== undefined && { transport: c.transport }),
      ...(c.user !== undefined && { user: c.user }),
      rooms: [...c.rooms],
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }

  private async execute(action: ConnectAction): Promise<{ data?: unknown; timed?: boolean }> {
    const c = this.client;
    switch (action.cmd) {
      case 'join':
        return { data: await c.join(action.room, action.since ? { since: action.since } : undefined), timed: true };
      case 'leave':
        await c.leave(action.room);
        return { data: { room: action.room }, timed: true };
      case 'emit':
        c.emit(action.event, action.data);
        // emit has no answer: say whether it went out or waits in the SDK's buffer.
        return { data: { sent: c.connected } };
      case 'request':
        return { data: await c.emitWithAck(action.event, action.data, action.timeout !== undefined ? { timeout: action.timeout } : undefined), timed: true };
      case 'history': {
        const options = { ...(action.limit !== undefined && { limit: action.limit }), ...(action.since && { since: action.since }) };
        return { data: await c.history(action.room, options), timed: true };
      }
      case 'presence':
        return { data: await c.presence(action.room), timed: true };
      case 'rooms':
        return { data: [...c.rooms] };
      case 'status':
        return { data: this.status() };
      case 'reconnect':
        c.reconnectNow();
        return {};
      case 'help':
        return { data: ACTION_NAMES.map((name) => COMMAND_USAGE[name]) };
      case 'quit':
        return {};
    }
  }
}

function isRoundTrip(action: ConnectAction): boolean {
  return ['join', 'leave', 'request', 'history', 'presence'].includes(action.cmd);
}
