/**
 * Switchboard client SDK for Node: everything from the browser entry, with `connect`
 * defaulting to the `ws` package (Node 20 has no global WebSocket). The only client file
 * that imports `ws`, so browser bundles never pull it in.
 */
import WebSocket from 'ws';
import type { AnyEvents, EventMap } from '../protocol/event-map.js';
import { connect as connectWith } from './client.js';
import type { SwitchboardClient } from './client-events.js';
import type { ClientOptions } from './options.js';

export * from './index.js';

/** connect() of the browser entry, with options.WebSocket defaulting to `ws`. */
export function connect<ServerEvents extends EventMap = AnyEvents, ClientEvents extends EventMap = AnyEvents>(
  url: string,
  options: ClientOptions = {},
): SwitchboardClient<ServerEvents, ClientEvents> {
  return connectWith<ServerEvents, ClientEvents>(url, { ...options, WebSocket: options.WebSocket ?? WebSocket });
}
