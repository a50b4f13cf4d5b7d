import { ErrorCode } from '../protocol/error-codes.js';
import { SwitchboardError } from '../protocol/errors.js';
import { errorText } from './client-errors.js';

export type FallbackTransports = typeof import('./fallback-transports.js');

/**
 * Loads the fallback transports (fallback-transports.ts) the first time a connection needs
 * one. In the browser build the import is a request for the chunk `chunks/fallback-<hash>.js`
 * beside the client module (scripts/build-browser-client.mjs); in Node it is a local file.
 * A failed load is not kept: the next attempt tries again.
 */
export class FallbackLoader {
  private module: FallbackTransports | undefined;
  private loading: Promise<FallbackTransports> | undefined;

  constructor(private readonly importModule: () => Promise<FallbackTransports>) {}

  /** The module, once a load succeeded (it is needed synchronously while the session is on HTTP). */
  get loaded(): FallbackTransports | undefined {
    return this.module;
  }

  /** The module; rejects with a `disconnected` SwitchboardError that names the chunk when it cannot be loaded. */
  load(): Promise<FallbackTransports> {
    if (this.module) return Promise.resolve(this.module);
    this.loading ??= this.importModule().then(
      (module) => {
        this.module = module;
        return module;
      },
      (cause: unknown) => {
        this.loading = undefined;
        throw new SwitchboardError(
          ErrorCode.Disconnected,
          `could not load the SSE and long-polling transports, which the client imports from chunks/fallback-<hash>.js beside itself: ${errorText(cause)}`,
          { cause },
        );
      },
    );
    return this.loading;
  }
}

export const fallbackTransports = new FallbackLoader(() => import('./fallback-transports.js'));
