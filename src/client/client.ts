import type { AnyEvents, EventMap } from '../protocol/event-map.js';
import { ClientHandle } from './client-handle.js';
import type { SwitchboardClient } from './client-events.js';
import { Connection } from './connection.js';
import { NamespaceChannel } from './namespace-channel.js';
import { type ClientOptions, resolveOptions } from './options.js';

/**
 * Connect to a Switchboard server and return the handle of `options.namespace` (default "/").
 * The first attempt starts at once: `state` is 'connecting' when this returns, and emits
 * made before the welcome are buffered and sent in order.
 *
 *   const client = connect<ServerEvents, ClientEvents>('wss://example.com/ws', { auth: { token } });
 */
export function connect<ServerEvents extends EventMap = AnyEvents, ClientEvents extends EventMap = AnyEvents>(
  url: string,
  options: ClientOptions = {},
): SwitchboardClient<ServerEvents, ClientEvents> {
  const resolved = resolveOptions(url, options);
  const connection = new Connection(resolved);
  const primary = new NamespaceChannel(connection, resolved.namespace, resolved.auth);
  connection.add(primary);
  const client = ClientHandle.for<ServerEvents, ClientEvents>(primary);
  connection.start();
  return client;
}
