/**
 * Graceful shutdown for the example servers on SIGTERM (process managers, `docker stop`,
 * Kubernetes) and SIGINT (Ctrl-C):
 *
 *  - the first signal logs "shutting down", calls `close(deadline)` — which for a
 *    Switchboard refuses new connections (503) and new requests (`shutting_down`), lets
 *    handlers already running reply for up to `deadline` ms, closes every connection with
 *    1001 so clients reconnect elsewhere, then closes the HTTP server — logs "closed" and
 *    exits 0;
 *  - a second signal exits at once with 128 + the signal's number (130 for SIGINT, 143
 *    for SIGTERM), the shell's convention for "killed by a signal": replies still in
 *    flight are lost, and the exit code says so.
 *
 * If `close` fails, or has not finished `BACKSTOP_MS` after its deadline, the process
 * exits 1 rather than hang. This lives with the examples, not in the library: which
 * signals to handle, what else to close first (databases, queues) and when to exit are
 * the application's decisions.
 */
import { constants } from 'node:os';

/** `SHUTDOWN_DEADLINE_MS`: how long handlers in flight get to reply. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 5000;
/** Past the deadline, how long `close` may still take (closing handshakes, the HTTP server) before the process gives up on it. */
const BACKSTOP_MS = 5000;

export interface GracefulShutdownOptions {
  /** Shut the server down, giving handlers in flight up to `deadline` ms. */
  close(deadline: number): Promise<void>;
  /** Default: SHUTDOWN_DEADLINE_MS from the environment, else 5000. */
  deadline?: number;
  /** Default SIGINT and SIGTERM. */
  signals?: readonly NodeJS.Signals[];
  /** Default console.log. */
  log?: (line: string) => void;
  /** Default process.exit. */
  exit?: (code: number) => void;
}

/** The deadline from SHUTDOWN_DEADLINE_MS (milliseconds), or the default; throws on a value that is not a count of milliseconds. */
export function shutdownDeadline(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SHUTDOWN_DEADLINE_MS?.trim();
  if (!raw) return DEFAULT_SHUTDOWN_DEADLINE_MS;
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`SHUTDOWN_DEADLINE_MS must be a number of milliseconds, got "${raw}"`);
  return ms;
}

/** Install the handlers; returns a function that removes them. */
export function closeOnSignals(options: GracefulShutdownOptions): () => void {
  const deadline = options.deadline ?? shutdownDeadline();
  const signals = options.signals ?? (['SIGINT', 'SIGTERM'] as const);
  const log = options.log ?? ((line: string) => console.log(line));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      log(`${signal} again: exiting at once`);
      exit(128 + constants.signals[signal]);
      return;
    }
    shuttingDown = true;
    log(`${signal}: shutting down (closing connections with 1001; replies in flight get up to ${deadline} ms; a second signal exits at once)`);
    const backstop = setTimeout(() => {
      log(`not closed ${BACKSTOP_MS} ms after the deadline: exiting`);
      exit(1);
    }, deadline + BACKSTOP_MS);
    backstop.unref();
    options.close(deadline).then(
      () => {
        clearTimeout(backstop);
        log('closed');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(backstop);
        log(`shutdown failed: ${(err as Error)?.stack ?? String(err)}`);
        exit(1);
      },
    );
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
