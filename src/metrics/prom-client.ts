/**
 * prom-client, the optional peer this subpath needs. Loaded with a top-level `await import`
 * rather than a static import so that an app without it gets the one command that fixes it,
 * not Node's bare ERR_MODULE_NOT_FOUND; only importers of switchboard/metrics pay for it.
 */
import type * as PromClient from 'prom-client';

export type { PromClient };

/** prom-client's module, or an Error that says how to install it (`specifier` is there for the test of that message). */
export async function loadPromClient(specifier = 'prom-client'): Promise<typeof PromClient> {
  try {
    return (await import(specifier)) as typeof PromClient;
  } catch (err) {
    throw new Error(`switchboard/metrics needs the "prom-client" package (an optional peer dependency, version 15): npm install prom-client`, { cause: err });
  }
}

export const prom = await loadPromClient();
