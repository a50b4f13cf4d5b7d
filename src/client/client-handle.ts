import type { AnyEvents, EventMap, EventReply } from '../protocol/event-map.js';
import type { HistoryReply, JoinReply, PresenceMember, StreamPosition } from '../protocol/frames.js';
import type {
  AckOptions,
  AnyEventListener,
  AppEventNames,
  DataArgs,
  HistoryOptions,
  JoinOptions,
  ReliableEmitter,
  ReliableOptions,
  SwitchboardClient,
  VolatileEmitter,
} from './client-events.js';
import type { TransportKind } from './client-transport.js';
import type { ConnectionState } from './connection-state.js';
import type { Listener } from './emitter.js';
import type { NamespaceChannel } from './namespace-channel.js';
import type { NamespaceOptions } from './options.js';
import { assertNamespace } from './options.js';

/** The typed face of a NamespaceChannel. Types live here; behaviour lives in the channel. */
export class ClientHandle<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents> implements SwitchboardClient<S, C> {
  readonly volatile: VolatileEmitter<C>;
  readonly reliable: ReliableEmitter<C>;

  constructor(private readonly channel: NamespaceChannel) {
    this.volatile = {
      emit: (event, ...args) => channel.emitVolatile(event, args[0]),
    };
    this.reliable = {
      emit: <E extends AppEventNames<C>>(event: E, ...args: [...DataArgs<C, E>, ReliableOptions?]): Promise<EventReply<C, E>> => {
        const [data, options] = args as readonly unknown[] as [unknown, ReliableOptions | undefined];
        // No default timeout: the outbox limit bounds what waits.
        return channel.reliableEmit(event, data, options?.timeout ?? Number.POSITIVE_INFINITY) as Promise<EventReply<C, E>>;
      },
    };
  }

  /** The one handle of a channel, so of() returns the same object for the same namespace. */
  static for<S extends EventMap, C extends EventMap>(channel: NamespaceChannel): SwitchboardClient<S, C> {
    channel.handle ??= new ClientHandle<S, C>(channel);
    return channel.handle as SwitchboardClient<S, C>;
  }

  get namespace(): string {
    return this.channel.namespace;
  }

  get state(): ConnectionState {
    return this.channel.state;
  }

  get connected(): boolean {
    return this.channel.state === 'connected';
  }

  get id(): string | undefined {
    return this.channel.state === 'connected' ? this.channel.connection.sid : undefined;
  }

  get user(): string | undefined {
    return this.channel.user;
  }

  get transport(): TransportKind | undefined {
    return this.channel.state === 'connected' ? this.channel.connection.transportKind : undefined;
  }

  get rooms(): ReadonlySet<string> {
    return this.channel.rooms;
  }

  on(event: string, listener: Listener): this {
    this.channel.emitter.on(event, listener);
    return this;
  }

  once(event: string, listener: Listener): this {
    this.channel.emitter.on(event, listener, true);
    return this;
  }

  off(event: string, listener?: Listener): this {
    this.channel.emitter.off(event, listener);
    return this;
  }

  onAny(listener: AnyEventListener<S>): this {
    this.channel.emitter.onAny(listener as Listener);
    return this;
  }

  offAny(listener?: AnyEventListener<S>): this {
    this.channel.emitter.offAny(listener as Listener | undefined);
    return this;
  }

  emit<E extends AppEventNames<C>>(event: E, ...args: DataArgs<C, E>): void {
    this.channel.emit(event, args[0]);
  }

  emitWithAck<E extends AppEventNames<C>>(event: E, ...args: [...DataArgs<C, E>, AckOptions?]): Promise<EventReply<C, E>> {
    const [data, options] = args as readonly unknown[] as [unknown, AckOptions | undefined];
    const timeout = options?.timeout ?? this.channel.connection.options.ackTimeout;
    return this.channel.request(event, data, timeout) as Promise<EventReply<C, E>>;
  }

  join(room: string, options?: JoinOptions): Promise<JoinReply> {
    return this.channel.join(room, options);
  }

  leave(room: string): Promise<void> {
    return this.channel.leave(room);
  }

  history(room: string, options: HistoryOptions = {}): Promise<HistoryReply> {
    return this.channel.history(room, options);
  }

  presence(room: string): Promise<PresenceMember[]> {
    return this.channel.presence(room);
  }

  position(room: string): StreamPosition | undefined {
    return this.channel.position(room);
  }

  of<S2 extends EventMap = AnyEvents, C2 extends EventMap = AnyEvents>(namespace: string, options: NamespaceOptions = {}): SwitchboardClient<S2, C2> {
    assertNamespace(namespace);
    return ClientHandle.for<S2, C2>(this.channel.channelFor(namespace, options.auth));
  }

  reconnectNow(): void {
    this.channel.reconnectNow();
  }

  close(): void {
    this.channel.close();
  }
}
