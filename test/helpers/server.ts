import { Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import type { AnyEvents, EventMap } from '../../src/protocol/event-map.js';

/** A Switchboard on a free loopback port, with the URL of its endpoint. */
export async function startServer<CE extends EventMap = AnyEvents, SE extends EventMap = AnyEvents>(
  options: SwitchboardOptions = {},
): Promise<{ sb: Switchboard<CE, SE>; url: string; port: number }> {
  const sb = new Switchboard<CE, SE>(0, options);
  await sb.ready();
  return { sb, url: `ws://127.0.0.1:${sb.port}${options.path ?? '/ws'}`, port: sb.port };
}

/**
 * Resolve when `check` holds, polling; reject with `what` after `ms`. The default is generous:
 * it only bounds how long a failing test waits, and a loaded machine must not fail a passing one.
 */
export async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
