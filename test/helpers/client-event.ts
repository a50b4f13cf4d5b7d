import type { SwitchboardClient } from '../../src/client/index.js';

/** The next `event` a Switchboard client gets that `accept` takes; rejects after `timeoutMs`. */
export function nextClientEvent<T>(client: SwitchboardClient, event: string, accept: (value: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching "${event}" within ${timeoutMs / 1000} s`)), timeoutMs);
    const listener = (value: T): void => {
      if (!accept(value)) return;
      clearTimeout(timer);
      client.off(event as 'connect', listener as () => void);
      resolve(value);
    };
    client.on(event as 'connect', listener as () => void);
  });
}
